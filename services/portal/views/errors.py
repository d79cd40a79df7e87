"""Errors a browser sees become Vietnamese pages; never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.portal.clients import BackendError
from services.portal.session import anonymous_session
from services.portal.views.common import (
    EXPIRED_NOTICE,
    CsrfRefused,
    LoginRequired,
    Portal,
    RoleRefused,
    get_portal,
    redirect,
    render,
    session_or_new,
)

log = logging.getLogger(__name__)


def error_page(
    request: Request, portal: Portal, status_code: int, title: str, message: str
) -> Response:
    """An error as an HTML page (or the JSON error format for non-browser clients)."""
    if "text/html" not in request.headers.get("accept", "text/html"):
        return JSONResponse(
            {"error": {"code": f"http_{status_code}", "message": message}},
            status_code=status_code,
        )
    session = session_or_new(request, portal)
    return render(
        request,
        portal,
        "error.html",
        {"title": title, "message": message},
        session=session,
        status_code=status_code,
    )


_HTTP_PAGES = {
    404: ("Không tìm thấy trang", "Địa chỉ này không có trên Cổng báo cáo."),
    405: ("Thao tác không hợp lệ", "Trang này không hỗ trợ thao tác vừa thực hiện."),
}


def install_page_handlers(app: FastAPI) -> None:
    """Errors a browser sees become Vietnamese pages; never a stack trace."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        portal = get_portal(request)
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        next_path = target if request.method == "GET" else "/"
        session = anonymous_session(portal.now_epoch())
        return redirect(
            portal,
            f"/dang-nhap?next={quote(next_path, safe='')}",
            session,
            notice=exc.notice or "Vui lòng đăng nhập để tiếp tục.",
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return error_page(
            request,
            get_portal(request),
            403,
            "Biểu mẫu đã hết hiệu lực",
            "Biểu mẫu không còn hợp lệ (thiếu mã xác thực hoặc phiên làm việc đã thay đổi). "
            "Vui lòng quay lại, tải lại trang và thực hiện lại thao tác.",
        )

    @app.exception_handler(RoleRefused)
    async def _role(request: Request, _: RoleRefused) -> Response:
        return error_page(
            request,
            get_portal(request),
            403,
            "Không có quyền truy cập",
            "Tài khoản của bạn không có quyền mở trang này.",
        )

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> Response:
        portal = get_portal(request)
        if exc.status == 401:
            return redirect(
                portal,
                "/dang-nhap",
                anonymous_session(portal.now_epoch()),
                notice=EXPIRED_NOTICE,
            )
        status = exc.status if exc.status in (403, 404, 409) else 502
        if exc.unavailable:
            status = 503
        return error_page(request, portal, status, "Chưa thực hiện được yêu cầu", exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title, message = _HTTP_PAGES.get(
            exc.status_code, ("Yêu cầu không hợp lệ", "Yêu cầu không thực hiện được.")
        )
        return error_page(request, get_portal(request), exc.status_code, title, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return error_page(
            request,
            get_portal(request),
            500,
            "Đã xảy ra lỗi",
            "Hệ thống gặp lỗi khi xử lý yêu cầu. Dữ liệu đã gửi trước đó không bị ảnh hưởng; "
            "vui lòng thử lại hoặc liên hệ bộ phận kỹ thuật.",
        )
