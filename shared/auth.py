"""Bearer tokens: the claims the registry signs and local verification with its JWKS keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, Protocol

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, Unauthorized

Role = Literal["unit", "reviewer", "leader", "admin", "service"]
ROLES: tuple[Role, ...] = ("unit", "reviewer", "leader", "admin", "service")
ALGORITHM = "EdDSA"


class Permission(StrEnum):
    """What an account may do; every service and the portal check these, never role names.

    Which unit's data a permission reaches is a separate, data-level rule: a unit account
    only ever sees its own reports, difficulties and attachments.
    """

    SUBMIT = "submit"
    """Send, amend and withdraw the unit's own reports; attach their signed scans."""
    READ_REPORTS = "read_reports"
    """Read every unit's reports, difficulties, completeness, summaries and the consolidated
    documents; see the units still missing and the urging letter."""
    REVIEW = "review"
    """Accept or return a report; answer a difficulty; edit the town report's draft and pick
    the excerpts of units' reports it quotes."""
    MANAGE_PERIODS = "manage_periods"
    """Open ad-hoc requests, create a year's periodic reports, change deadlines, close and
    reopen periods."""
    URGE = "urge"
    """Urge units now and read the reminders' delivery log."""
    READ_CONTACTS = "read_contacts"
    """See the phones and e-mail addresses of every unit's officials; export the units."""
    READ_ATTACHMENTS = "read_attachments"
    """Download the signed scans attached to reports (a unit: its own)."""
    ADMINISTER = "administer"
    """Accounts, API keys, units and their reorganisations, signing keys."""


_OFFICE = frozenset(
    {
        Permission.READ_REPORTS,
        Permission.REVIEW,
        Permission.MANAGE_PERIODS,
        Permission.URGE,
        Permission.READ_CONTACTS,
        Permission.READ_ATTACHMENTS,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # A unit's clerk (or its machine client with an API key).
        "unit": frozenset({Permission.SUBMIT, Permission.READ_ATTACHMENTS}),
        # Phòng Nội vụ.
        "reviewer": _OFFICE,
        # The town's leaders: read-only.
        "leader": frozenset({Permission.READ_REPORTS}),
        "admin": _OFFICE | {Permission.ADMINISTER},
        # A machine reader (an integration); it reads what leaders read, changes nothing.
        "service": frozenset({Permission.READ_REPORTS}),
    }
)
"""The one table of who may do what (docs/ARCHITECTURE.md, "Permissions")."""


_GRANTED: dict[str, frozenset[Permission]] = {str(k): v for k, v in ROLE_PERMISSIONS.items()}


def role_may(role: str | None, permission: Permission) -> bool:
    """Whether an account of this role has the permission (unknown roles have none)."""
    return role is not None and permission in _GRANTED.get(role, frozenset())


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, its role, and for unit accounts the unit code."""

    username: str
    role: Role
    unit_code: str | None = None
    display_name: str = ""

    def may(self, permission: Permission) -> bool:
        """Whether the principal has the permission."""
        return role_may(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Refuse (403) unless the principal has the permission."""
        if not self.may(permission):
            raise Forbidden()

    def require_unit(self) -> str:
        """The caller's unit code; only unit accounts have one."""
        if self.role != "unit" or not self.unit_code:
            raise Forbidden("Chỉ tài khoản của đơn vị mới thực hiện được thao tác này.")
        return self.unit_code

    def claims(self) -> dict[str, Any]:
        """The claims a token for this principal carries."""
        return {
            "sub": self.username,
            "role": self.role,
            "unit": self.unit_code,
            "name": self.display_name,
        }


def _unknown_key() -> Unauthorized:
    # A retired or foreign key id: to the user, simply a token that is no longer valid.
    return Unauthorized("Mã đăng nhập không hợp lệ hoặc đã hết hiệu lực.", code="invalid_token")


class KeySource(Protocol):
    """Where public keys come from, by key id."""

    async def key(self, kid: str) -> Any: ...


class StaticKeySource:
    """Keys given up front (the registry itself, and tests)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks.get("keys", [])}

    async def key(self, kid: str) -> Any:
        """The key with this id."""
        if kid not in self._keys:
            raise _unknown_key()
        return self._keys[kid]


class JwksKeySource:
    """Fetches the registry's JWKS and caches it; refetches on an unknown key id, at most
    once per `min_refresh_seconds`, so a rotated key is picked up without a call per request."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        ttl_seconds: float = 300.0,
        min_refresh_seconds: float = 5.0,
    ) -> None:
        self._url = url
        self._client = client
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any:
        """The key with this id, fetching the JWKS when needed."""
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl
        if kid not in self._keys or stale:
            async with self._lock:
                if (kid not in self._keys and now - self._fetched_at > self._min_refresh) or stale:
                    await self._refresh()
        if kid not in self._keys:
            raise _unknown_key()
        return self._keys[kid]

    async def _refresh(self) -> None:
        try:
            if self._client is not None:
                response = await self._client.get(self._url, timeout=5)
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.get(self._url, timeout=5)
            response.raise_for_status()
            jwks = response.json()
        except (httpx.HTTPError, ValueError):
            if self._keys:
                return  # keep serving with the keys we have while the registry is away
            raise Unauthorized(
                "Không kiểm tra được phiên đăng nhập: dịch vụ danh mục chưa sẵn sàng.",
                code="keys_unavailable",
                status=503,
            ) from None
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks.get("keys", [])}
        self._fetched_at = time.monotonic()


class TokenVerifier:
    """Checks signature, expiry, issuer and audience locally."""

    def __init__(self, keys: KeySource, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; Unauthorized otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token")
        key = await self._keys.key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=10,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", code="token_expired"
            ) from None
        except jwt.PyJWTError:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token") from None
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token")
        return Principal(
            username=str(claims["sub"]),
            role=role,
            unit_code=claims.get("unit"),
            display_name=str(claims.get("name") or ""),
        )


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the verified caller, from `app.state.verifier`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Thiếu mã đăng nhập (Bearer token).", code="missing_token")
    verifier = getattr(request.app.state, "verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise TypeError("app.state.verifier is not a TokenVerifier")
    return await verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
