"""The signed session cookie: the bearer token and a CSRF token, nothing stored server-side.

The cookie value is the session's JSON signed by itsdangerous (HMAC-SHA256, salted for this
cookie); it expires `max_age` after the session's own `issued_at` (the portal's clock). It is
HttpOnly so scripts never see the token, and SameSite=Lax plus a per-session CSRF token guard
the POST forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from shared.auth import Permission, role_may

COOKIE_NAME = "danvan_session"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    """Who is signed in (if anyone) and the CSRF token their forms must carry."""

    csrf: str
    issued_at: int
    token: str | None = None
    username: str | None = None
    role: str | None = None
    unit_code: str | None = None
    display_name: str = ""
    # A one-time notice shown on the next page (e.g. "Đã đăng xuất."), then cleared.
    flash: str | None = None
    flash_kind: str = "info"
    # When the bearer token expires (epoch seconds); the portal signs out after that.
    token_expires_at: int | None = None

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in account has the permission (the table in shared.auth)."""
        return self.signed_in and role_may(self.role, permission)

    @property
    def signed_in(self) -> bool:
        """True when the session carries a bearer token."""
        return self.token is not None

    def is_expired(self, now: int) -> bool:
        """True when the bearer token has expired."""
        return self.token_expires_at is not None and now >= self.token_expires_at

    def sign_in(
        self,
        *,
        token: str,
        username: str,
        role: str,
        unit_code: str | None,
        display_name: str,
        now: int,
        expires_at: int,
    ) -> Session:
        """A new session for the account; the CSRF token is renewed (no fixation)."""
        return replace(
            self,
            csrf=new_csrf_token(),
            issued_at=now,
            token=token,
            username=username,
            role=role,
            unit_code=unit_code,
            display_name=display_name,
            token_expires_at=expires_at,
        )

    def with_flash(self, message: str, kind: str = "info") -> Session:
        """The session carrying a notice for the next page."""
        return replace(self, flash=message, flash_kind=kind)

    def without_flash(self) -> Session:
        """The session after its notice was shown."""
        return replace(self, flash=None, flash_kind="info")


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def anonymous_session(now: int) -> Session:
    """A session with nobody signed in, so the login form has a CSRF token too."""
    return Session(csrf=new_csrf_token(), issued_at=now)


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret, salt="danvan-portal-session", signer_kwargs={"digest_method": hashlib.sha256}
    )


def encode_session(session: Session, secret: str) -> str:
    """The signed cookie value of a session."""
    value: str = _serializer(secret).dumps(asdict(session))
    return value


def decode_session(value: str | None, secret: str, *, now: int, max_age: int) -> Session | None:
    """The session in a cookie, or None when absent, tampered with, malformed or too old."""
    if not value:
        return None
    try:
        data: Any = _serializer(secret).loads(value)
        session = Session(**data)
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(session.csrf, str) or not isinstance(session.issued_at, int):
        return None
    if now - session.issued_at > max_age:
        return None
    return session


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    """True when the form's CSRF token is the session's (compared in constant time)."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
