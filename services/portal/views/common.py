"""What every page shares: the portal's state, the session cookie, rendering, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import jwt
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from services.portal import wording
from services.portal.client_address import browser_address
from services.portal.clients import BackendError, Backends
from services.portal.session import (
    COOKIE_NAME,
    CSRF_FIELD,
    Session,
    anonymous_session,
    csrf_matches,
    decode_session,
    encode_session,
)
from services.portal.settings import PortalSettings
from shared.auth import Permission
from shared.clock import Clock
from shared.formatting import vn_datetime

log = logging.getLogger(__name__)
T = TypeVar("T")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_CREDENTIAL_LENGTH = 200


@dataclass
class Portal:
    """The portal's wiring: settings, clock, templates and (once started) the backends."""

    settings: PortalSettings
    clock: Clock
    templates: Environment
    backends: Backends | None = None

    def api(self) -> Backends:
        """The backend clients (present while the app runs)."""
        if self.backends is None:
            raise RuntimeError("the portal has not started")
        return self.backends

    def now_epoch(self) -> int:
        """The current instant as whole epoch seconds."""
        return int(self.clock.now().timestamp())


def template_environment() -> Environment:
    """The Jinja2 environment with the Vietnamese formatting filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["Permission"] = Permission
    env.filters.update(
        vn_date=wording.vn_date,
        vn_datetime=wording.vn_datetime,
        deadline=wording.vn_deadline,
        vn_number=wording.vn_number,
        percent=wording.percent,
        timeliness=wording.timeliness,
        resubmit_label=wording.resubmit_label,
        report_status=lambda s: wording.REPORT_STATUS_LABELS.get(str(s), str(s)),
        period_kind=lambda s: wording.PERIOD_KIND_LABELS.get(str(s), str(s)),
        role_label=lambda s: wording.ROLE_LABELS.get(str(s), str(s)),
        delivery_outcome=lambda s: wording.DELIVERY_OUTCOME_LABELS.get(str(s), str(s)),
        channel=lambda s: wording.CHANNEL_LABELS.get(str(s), str(s)),
    )
    return env


def get_portal(request: Request) -> Portal:
    """The portal of the running app."""
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(get_portal)]


class LoginRequired(Exception):
    """The page needs a signed-in user; the handler redirects to the login page."""

    def __init__(self, notice: str | None = None) -> None:
        super().__init__("login required")
        self.notice = notice


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


class RoleRefused(Exception):
    """The signed-in account may not open this page."""


def read_session(request: Request, portal: Portal) -> Session | None:
    """The session of the request's cookie, if valid."""
    return decode_session(
        request.cookies.get(COOKIE_NAME),
        portal.settings.session_secret,
        now=portal.now_epoch(),
        max_age=portal.settings.session_max_age_seconds,
    )


def session_or_new(request: Request, portal: Portal) -> Session:
    """The request's session, or a fresh anonymous one."""
    return read_session(request, portal) or anonymous_session(portal.now_epoch())


EXPIRED_NOTICE = "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."


def known_user(request: Request, portal: PortalDep) -> Session:
    """FastAPI dependency: a session of a signed-in account, even if its token expired."""
    session = read_session(request, portal)
    if session is None or not session.signed_in:
        raise LoginRequired()
    return session


def signed_in(session: Annotated[Session, Depends(known_user)], portal: PortalDep) -> Session:
    """FastAPI dependency: the signed-in session, or a redirect to the login page."""
    if session.is_expired(portal.now_epoch()):
        raise LoginRequired(EXPIRED_NOTICE)
    return session


KnownUserDep = Annotated[Session, Depends(known_user)]
SessionDep = Annotated[Session, Depends(signed_in)]


def _token_claims(token: str) -> dict[str, Any]:
    """The token's claims for display only (the backends verify the token on every call)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims


async def sign_in_with_password(
    portal: Portal, session: Session, username: str, password: str, request: Request
) -> Session:
    """The session signed in with the registry's token; BackendError when refused."""
    username = username[:MAX_CREDENTIAL_LENGTH]
    client = browser_address(request, portal.settings)
    answer = await portal.api().login(username, password[:MAX_CREDENTIAL_LENGTH], client)
    token = answer.access_token
    claims = _token_claims(token)  # the display name and the exact expiry
    now = portal.now_epoch()
    expires_at = int(claims.get("exp") or now + answer.expires_in)
    return session.sign_in(
        token=token,
        username=username,
        role=answer.role,
        unit_code=answer.unit_code,
        display_name=str(claims.get("name") or username),
        now=now,
        expires_at=expires_at,
    )


def require_permission(session: Session, *permissions: Permission) -> None:
    """Refuse the page unless the account has one of the permissions."""
    if not any(session.may(p) for p in permissions):
        raise RoleRefused()


def token_of(session: Session) -> str:
    """The bearer token of a signed-in session."""
    if session.token is None:
        raise LoginRequired()
    return session.token


async def checked_form(request: Request, session: Session | None) -> FormData:
    """The posted form, refused unless it carries the session's CSRF token."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    if not csrf_matches(session, submitted if isinstance(submitted, str) else None):
        raise CsrfRefused()
    return form


def form_text(form: FormData, name: str) -> str:
    """A text field of a posted form ("" when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_lists(form: FormData) -> dict[str, list[str]]:
    """Every text field of a posted form, each as the list of its values."""
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    return lists


def set_session_cookie(response: Response, session: Session, portal: Portal) -> None:
    """Write the signed session cookie (HttpOnly, SameSite=Lax, Secure when configured)."""
    response.set_cookie(
        COOKIE_NAME,
        encode_session(session, portal.settings.session_secret),
        max_age=portal.settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=portal.settings.cookie_secure,
        path="/",
    )


def render(
    request: Request,
    portal: Portal,
    template: str,
    context: Mapping[str, Any],
    *,
    session: Session,
    status_code: int = 200,
) -> HTMLResponse:
    """A page; the session's one-time notice is shown and cleared."""
    now = portal.clock.now()
    html = portal.templates.get_template(template).render(
        {
            "request": request,
            "session": session,
            "csrf_field": CSRF_FIELD,
            "flash": session.flash,
            "flash_kind": session.flash_kind,
            "now_text": vn_datetime(now),
            **context,
        }
    )
    response = HTMLResponse(html, status_code=status_code)
    set_session_cookie(response, session.without_flash(), portal)
    return response


def redirect(
    portal: Portal,
    url: str,
    session: Session | None = None,
    *,
    notice: str | None = None,
    kind: str = "info",
) -> RedirectResponse:
    """A 303 to a page, optionally leaving a notice for it in the session."""
    response = RedirectResponse(url, status_code=303)
    if session is not None:
        if notice:
            session = session.with_flash(notice, kind)
        set_session_cookie(response, session, portal)
    return response


def safe_next(value: str | None) -> str:
    """A local path to return to after signing in (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def attempt(call: Awaitable[T]) -> tuple[T | None, BackendError | None]:
    """Await a backend call; its error becomes a notice instead of failing the page."""
    try:
        return await call, None
    except BackendError as exc:
        if exc.status == 401:
            raise
        return None, exc
