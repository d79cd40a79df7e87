"""Đăng nhập / đăng xuất: the registry's token in the signed session cookie."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.clients import BackendError
from services.portal.session import anonymous_session
from services.portal.views.common import (
    PortalDep,
    checked_form,
    form_text,
    read_session,
    redirect,
    render,
    safe_next,
    session_or_new,
    sign_in_with_password,
)

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/dang-nhap", include_in_schema=False)
async def login_page(request: Request, portal: PortalDep, next: str = "/") -> Response:
    """The login form."""
    session = session_or_new(request, portal)
    if session.signed_in and not session.is_expired(portal.now_epoch()):
        return redirect(portal, safe_next(next))
    return render(
        request,
        portal,
        "login.html",
        {"title": "Đăng nhập", "next": safe_next(next), "username": "", "error": None},
        session=session,
    )


@router.post("/dang-nhap", include_in_schema=False)
async def login(request: Request, portal: PortalDep) -> Response:
    """Check the credentials with the registry and keep its token in the session."""
    session = read_session(request, portal)
    form = await checked_form(request, session)
    assert session is not None  # checked_form refuses a request without one
    username = form_text(form, "username").strip()
    password = form_text(form, "password")
    next_path = safe_next(form_text(form, "next"))
    error: str | None = None
    if not username or not password:
        error = "Vui lòng nhập tên đăng nhập và mật khẩu."
    else:
        try:
            signed = await sign_in_with_password(portal, session, username, password, request)
        except BackendError as exc:
            # The registry's own Vietnamese message ("Tên đăng nhập hoặc mật khẩu không
            # đúng.") or the notice that it cannot be reached.
            error = exc.message
        else:
            return redirect(portal, next_path, signed)
    return render(
        request,
        portal,
        "login.html",
        {"title": "Đăng nhập", "next": next_path, "username": username, "error": error},
        session=session,
        status_code=401 if error else 200,
    )


@router.post("/dang-xuat", include_in_schema=False)
async def logout(request: Request, portal: PortalDep) -> Response:
    """Revoke the token at the registry and forget it; the next page starts a fresh
    anonymous session. A registry that cannot be reached does not keep the user signed in
    here: the cookie is replaced all the same and the failure is logged."""
    session = read_session(request, portal)
    await checked_form(request, session)
    if session is not None and session.token is not None:
        try:
            await portal.api().logout(session.token)
        except BackendError as exc:
            if exc.status != 401:  # 401: the token had already expired or been revoked
                log.warning("sign-out not recorded at the registry: %s", exc.code)
    fresh = anonymous_session(portal.now_epoch())
    return redirect(portal, "/dang-nhap", fresh, notice="Bạn đã đăng xuất.")
