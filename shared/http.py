"""The HTTP shell every service shares: errors, metrics, health, body limit."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import logs
from shared.contracts.api import ResponseModel
from shared.errors import DomainError, PayloadTooLarge
from shared.metrics import HttpMetrics

log = logging.getLogger(__name__)
C = TypeVar("C")

ReadinessCheck = Callable[[], Awaitable[None]]

_HTTP_ERRORS = {
    404: ("not_found", "Không tìm thấy địa chỉ yêu cầu."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này."),
    401: ("unauthorized", "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ."),
    403: ("forbidden", "Tài khoản không có quyền thực hiện thao tác này."),
}


def create_service_app(
    *,
    title: str,
    version: str,
    metrics_registry: CollectorRegistry,
    http_metrics: HttpMetrics,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    readiness: dict[str, ReadinessCheck],
    max_body_bytes: int,
    max_upload_bytes: int | None = None,
) -> FastAPI:
    """A FastAPI app with the project's error format, /healthz, /readyz and /metrics.

    Request bodies are limited to `max_body_bytes`; `multipart/form-data` bodies (file
    uploads) to `max_upload_bytes` when it is given.
    """
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    app.include_router(_ops_router(metrics_registry, readiness))
    app.add_middleware(
        _BodyLimitMiddleware,
        max_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes or max_body_bytes,
    )
    app.add_middleware(_NulCharacterMiddleware)
    # Outermost, so the metrics count the status the client gets (a 413 included).
    app.add_middleware(_MetricsMiddleware, metrics=http_metrics)
    return app


def context_dependency(kind: type[C]) -> Callable[[Request], Awaitable[C]]:
    """A FastAPI dependency giving routes the app's typed context (`app.state.context`).

    Each service declares `ContextDep = Annotated[XContext, Depends(context_dependency(
    XContext))]` next to its context class; mypy then checks every use in its routes.
    It is `async def` because it does no blocking work: FastAPI runs a plain `def`
    dependency in a threadpool thread on every request.
    """

    async def context(request: Request) -> C:
        found = getattr(request.app.state, "context", None)
        if not isinstance(found, kind):
            raise TypeError(f"app.state.context is {type(found).__name__}, not {kind.__name__}")
        return found

    context.__name__ = f"{kind.__name__}_of_app"
    return context


def error_response(error: DomainError) -> JSONResponse:
    """The JSON response of a domain error."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to `{"error": {"code", "message", ...}}`."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(
                DomainError(
                    "Nội dung gửi lên không phải JSON hợp lệ.",
                    code="malformed_json",
                    status=400,
                )
            )
        details = [
            {
                "path": ".".join(str(part) for part in p.get("loc", ()) if part != "body"),
                "type": p.get("type"),
                "message": _vietnamese_validation_message(p),
            }
            for p in problems
        ]
        return error_response(
            DomainError(
                "Dữ liệu gửi lên không đúng định dạng.",
                code="invalid_request",
                status=422,
                details=details,
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", str(exc.detail)))
        return JSONResponse(
            {"error": {"code": code, "message": message}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def _vietnamese_validation_message(problem: dict[str, Any]) -> str:
    kind = str(problem.get("type", ""))
    field = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
    if kind == "missing":
        return f"Thiếu trường bắt buộc «{field}»."
    if kind == "extra_forbidden":
        return f"Trường «{field}» không được chấp nhận."
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"Trường «{field}» sai kiểu dữ liệu."
    return f"Trường «{field}» không hợp lệ."


class Health(ResponseModel):
    """`/healthz`: the process answers."""

    status: str


class Readiness(ResponseModel):
    """`/readyz`: "ready" when every check says "ok" (else 503 "not_ready")."""

    status: str
    checks: dict[str, str]


def _ops_router(registry: CollectorRegistry, readiness: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["vận hành"])

    @router.get("/healthz")
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    async def readyz() -> JSONResponse:
        """Readiness: the database and NATS are reachable."""
        checks: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await check()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class _MetricsMiddleware:
    """Counts requests by route template (not raw path, so ids don't explode the labels)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        token = logs.request_id.set(request_id)

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = _route_template(scope)
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - start)
            logs.request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    # Starlette records the matched route in the scope; its path is the template.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class _NulCharacterMiddleware:
    """Refuses a NUL character in the query string with 422.

    No filter holds one, and PostgreSQL cannot compare text with it: without this,
    `?period_id=%00` reached the database and answered 500 (found by the API fuzzing test on
    PostgreSQL). A NUL in a path key names nothing: each service answers its 404.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = bytes(scope.get("query_string", b"")) if scope["type"] == "http" else b""
        if b"%00" in query or b"\x00" in query:
            await _send_json(
                send,
                DomainError(
                    "Địa chỉ yêu cầu chứa ký tự không hợp lệ (ký tự NUL).",
                    code="invalid_characters",
                    status=422,
                ),
            )
            return
        await self.app(scope, receive, send)


class _BodyLimitMiddleware:
    """Refuses bodies over the limit with 413, whether declared or streamed (chunked).

    A streamed body is only found too large while the app reads it, and frameworks turn an
    error raised from `receive` into their own answer (FastAPI: `400 There was an error
    parsing the body`). So once the limit is crossed, whatever the app answers is replaced
    by the project's 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> int:
        content_type = (_header(scope, b"content-type") or "").lower()
        if content_type.startswith("multipart/form-data"):
            return self.max_upload_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, PayloadTooLarge())
            return
        received = 0
        exceeded = started = replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if exceeded and not started:
                    replaced = True
                    await _send_json(send, PayloadTooLarge())
                    return
                started = True
            elif message["type"] == "http.response.body" and replaced:
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not (started or replaced):
                await _send_json(send, PayloadTooLarge())


class _TooLarge(Exception):
    pass


async def _send_json(send: Send, error: DomainError) -> None:
    body = json.dumps(error.body(), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
