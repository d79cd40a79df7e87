"""Accounts (issue 11.11 with issue 9.1): the admins' "Tài khoản" page — list, create (the
one-time activation code shown once, in a printable box), deactivate/reactivate, change role
or unit, a new activation code, a unit's handover sheet — and the activation page where the
holder of an account sets their own password with its code (for everyone not signed in).

The portal keeps no code: each is shown in the answer to the click that made it, and the
registry keeps only its hash.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal import wording
from services.portal.client_address import browser_address
from services.portal.clients import BackendError
from services.portal.session import Session
from services.portal.views.common import (
    MAX_CREDENTIAL_LENGTH,
    Portal,
    PortalDep,
    SessionDep,
    checked_form,
    form_text,
    read_session,
    redirect,
    render,
    require_permission,
    session_or_new,
    token_of,
)
from shared.auth import Permission
from shared.contracts.api.registry import AccountInfo, ActivationCode

router = APIRouter()

ACCOUNTS_PAGE = "/tai-khoan"
ACTIVATE_PAGE = "/kich-hoat"
# The roles an admin gives from the page (machine clients use API keys, not accounts here).
ROLES = ("unit", "reviewer", "leader", "admin")
# Which form field a registry refusal belongs to, by its field or its code.
ACCOUNT_FIELDS = ("username", "display_name", "role", "unit_code")
ACTIVATION_CODE_ERRORS = ("invalid_activation_code", "activation_code_expired")


def _account_url(username: str, action: str) -> str:
    return f"{ACCOUNTS_PAGE}/{quote(username, safe='')}/{action}"


def _field_of(exc: BackendError, fields: tuple[str, ...], default: str) -> str:
    """The form field a registry refusal names (its `details.field`), else `default`."""
    details = exc.details
    named = details.get("field") if isinstance(details, dict) else None
    if isinstance(named, str) and named in fields:
        return named
    for issue in exc.issues:
        path = str(issue.get("path") or issue.get("field") or "").rsplit(".", 1)[-1]
        if path in fields:
            return path
    return default


async def _accounts_page(
    request: Request,
    portal: Portal,
    session: Session,
    *,
    issued: ActivationCode | None = None,
    issued_for: AccountInfo | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    api, token = portal.api(), token_of(session)
    accounts: list[AccountInfo] = []
    units: list[Any] = []
    try:
        accounts = await api.accounts(token)
        units = await api.units(token)
    except BackendError as exc:
        if exc.status == 401:
            raise
        error = error or exc.message
    unit_names = {u.code: u.name for u in units}
    return render(
        request,
        portal,
        "accounts.html",
        {
            "title": "Tài khoản",
            "accounts": sorted(
                accounts, key=lambda a: (ROLES.index(a.role) if a.role in ROLES else 9, a.username)
            ),
            "units": sorted(units, key=lambda u: (u.display_order, u.code)),
            "unit_names": unit_names,
            "roles": [(r, wording.ROLE_LABELS[r]) for r in ROLES],
            "issued": issued,
            "issued_for": issued_for,
            "values": values or {"role": "unit"},
            "errors": errors or {},
            "error": error,
        },
        session=session,
        status_code=status_code,
    )


@router.get(ACCOUNTS_PAGE, include_in_schema=False)
async def accounts_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Every account, the form to create one, and what can be done with each."""
    require_permission(session, Permission.ADMINISTER)
    return await _accounts_page(request, portal, session)


@router.post(ACCOUNTS_PAGE, include_in_schema=False)
async def create_account(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Create an account without a password; its activation code is shown on this answer
    only (the registry keeps its hash)."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    values = {name: form_text(posted, name).strip() for name in ACCOUNT_FIELDS}
    errors: dict[str, str] = {}
    if not values["username"]:
        errors["username"] = "Vui lòng nhập tên đăng nhập."
    if not values["display_name"]:
        errors["display_name"] = "Vui lòng nhập tên hiển thị."
    if values["role"] not in ROLES:
        errors["role"] = "Vui lòng chọn vai trò."
    elif values["role"] == "unit" and not values["unit_code"]:
        errors["unit_code"] = "Tài khoản cán bộ đơn vị phải thuộc một đơn vị."
    if errors:
        return await _accounts_page(
            request, portal, session, values=values, errors=errors, status_code=422
        )
    try:
        created = await portal.api().create_account(
            token_of(session),
            username=values["username"],
            display_name=values["display_name"],
            role=values["role"],
            unit_code=values["unit_code"] if values["role"] == "unit" else None,
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        status = exc.status if exc.status in (409, 422) else 503
        if status == 503:
            return await _accounts_page(
                request, portal, session, values=values, error=exc.message, status_code=503
            )
        field = _field_of(exc, ACCOUNT_FIELDS, "username")
        return await _accounts_page(
            request,
            portal,
            session,
            values=values,
            errors={field: exc.message},
            status_code=status,
        )
    return await _accounts_page(
        request, portal, session, issued=created.activation, issued_for=created, status_code=201
    )


async def _refused(
    request: Request, portal: Portal, session: Session, exc: BackendError
) -> Response:
    if exc.status == 401:
        raise exc
    status = exc.status if exc.status in (403, 404, 409, 422) else 503
    return await _accounts_page(request, portal, session, error=exc.message, status_code=status)


@router.post(ACCOUNTS_PAGE + "/{username}/sua", include_in_schema=False)
async def change_account(
    username: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Change an account's role and unit (a unit account keeps a unit; others have none)."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    role = form_text(posted, "role").strip()
    unit_code = form_text(posted, "unit_code").strip()
    display_name = form_text(posted, "display_name").strip()
    if role not in ROLES:
        return await _accounts_page(
            request, portal, session, error="Vui lòng chọn vai trò.", status_code=422
        )
    if role == "unit" and not unit_code:
        message = f"Tài khoản {username}: tài khoản cán bộ đơn vị phải thuộc một đơn vị."
        return await _accounts_page(request, portal, session, error=message, status_code=422)
    changes: dict[str, Any] = {"role": role, "unit_code": unit_code if role == "unit" else None}
    if display_name:
        changes["display_name"] = display_name
    try:
        await portal.api().update_account(token_of(session), username, **changes)
    except BackendError as exc:
        return await _refused(request, portal, session, exc)
    notice = f"Đã lưu thay đổi của tài khoản {username}."
    return redirect(portal, ACCOUNTS_PAGE, session, notice=notice, kind="success")


@router.post(ACCOUNTS_PAGE + "/{username}/trang-thai", include_in_schema=False)
async def set_active(
    username: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Deactivate an account (its sign-ins and tokens stop working) or reactivate it."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    active = form_text(posted, "active") == "true"
    try:
        await portal.api().update_account(token_of(session), username, active=active)
    except BackendError as exc:
        return await _refused(request, portal, session, exc)
    notice = (
        f"Đã mở lại tài khoản {username}."
        if active
        else f"Đã khóa tài khoản {username}; tài khoản này không đăng nhập được nữa."
    )
    return redirect(portal, ACCOUNTS_PAGE, session, notice=notice, kind="success")


@router.post(ACCOUNTS_PAGE + "/{username}/kich-hoat", include_in_schema=False)
async def reset_activation(
    username: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """A new activation code: the account's password and earlier codes stop working."""
    require_permission(session, Permission.ADMINISTER)
    await checked_form(request, session)
    api, token = portal.api(), token_of(session)
    try:
        issued = await api.reset_activation(token, username)
    except BackendError as exc:
        return await _refused(request, portal, session, exc)
    return await _accounts_page(request, portal, session, issued=issued)


@router.post(ACCOUNTS_PAGE + "/ban-giao", include_in_schema=False)
async def handover_sheet(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """A unit's handover sheet (.csv) with new codes for its accounts not yet activated."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    unit_code = form_text(posted, "unit_code").strip()
    if not unit_code:
        return await _accounts_page(
            request, portal, session, error="Vui lòng chọn đơn vị.", status_code=422
        )
    try:
        document = await portal.api().handover_sheet(token_of(session), unit_code)
    except BackendError as exc:
        return await _refused(request, portal, session, exc)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )


# --- activation (not signed in) ------------------------------------------------------------

ACTIVATION_FIELDS = ("username", "code", "new_password", "new_password_again")


def _activate_page(
    request: Request,
    portal: Portal,
    session: Session,
    *,
    username: str = "",
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        portal,
        "activate.html",
        {
            "title": "Kích hoạt tài khoản",
            "username": username,
            "errors": errors or {},
            "error": error,
        },
        session=session,
        status_code=status_code,
    )


@router.get(ACTIVATE_PAGE, include_in_schema=False)
async def activate_page(request: Request, portal: PortalDep, username: str = "") -> Response:
    """Set one's own password with the activation code from the admin or the handover
    sheet."""
    session = session_or_new(request, portal)
    return _activate_page(
        request, portal, session, username=username.strip()[:MAX_CREDENTIAL_LENGTH]
    )


@router.post(ACTIVATE_PAGE, include_in_schema=False)
async def activate(request: Request, portal: PortalDep) -> Response:
    """Send the code and the new password to the registry; its message goes on the field it
    is about; on success the sign-in page with a notice."""
    session = read_session(request, portal)
    posted = await checked_form(request, session)
    assert session is not None  # checked_form refuses a request without one
    username = form_text(posted, "username").strip()[:MAX_CREDENTIAL_LENGTH]
    code = form_text(posted, "code").strip()[:MAX_CREDENTIAL_LENGTH]
    new = form_text(posted, "new_password")[:MAX_CREDENTIAL_LENGTH]
    again = form_text(posted, "new_password_again")[:MAX_CREDENTIAL_LENGTH]
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Vui lòng nhập tên đăng nhập."
    if not code:
        errors["code"] = "Vui lòng nhập mã kích hoạt."
    if not new:
        errors["new_password"] = "Vui lòng nhập mật khẩu mới."
    elif new != again:
        errors["new_password_again"] = "Hai lần nhập mật khẩu mới không giống nhau."
    if errors:
        return _activate_page(
            request, portal, session, username=username, errors=errors, status_code=422
        )
    client = browser_address(request, portal.settings)
    try:
        await portal.api().activate(username, code, new, client)
    except BackendError as exc:
        if exc.unavailable or exc.status >= 500:
            return _activate_page(
                request, portal, session, username=username, error=exc.message, status_code=503
            )
        if exc.status == 429:
            return _activate_page(
                request, portal, session, username=username, error=exc.message, status_code=429
            )
        if exc.code in ACTIVATION_CODE_ERRORS:
            field = "code"
        else:
            field = _field_of(exc, ("username", "code", "new_password"), "new_password")
        status = exc.status if exc.status in (401, 409, 422) else 422
        return _activate_page(
            request,
            portal,
            session,
            username=username,
            errors={field: exc.message},
            status_code=status,
        )
    notice = f"Đã kích hoạt tài khoản {username}. Vui lòng đăng nhập bằng mật khẩu vừa đặt."
    return redirect(portal, "/dang-nhap", session, notice=notice, kind="success")
