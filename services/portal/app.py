"""Portal composition root: server-rendered pages over the other services' HTTP APIs.

The portal keeps nothing durable: the signed session cookie is all its state, so any
number of replicas serve the same users.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.portal.clients import Backend, Backends, HttpClientFactory
from services.portal.metrics import PortalMetrics
from services.portal.settings import PortalSettings
from services.portal.views import ROUTERS
from services.portal.views.common import Portal, template_environment
from services.portal.views.errors import install_page_handlers
from shared.clock import Clock, SystemClock
from shared.http import create_service_app
from shared.metrics import HttpMetrics

STATIC = Path(__file__).resolve().parent / "static"

# Readiness follows what the core path needs: the registry to sign in, intake to submit.
# Consolidation or reminders being down only degrades the dashboard with a notice, and
# must not take the portal (and the clerks' submissions) out of the load balancer.
REQUIRED_BACKENDS = ("registry", "intake")

# Scripts only from the portal itself (the draft autosave, static/ban-nhap.js): no inline
# script, no eval, nothing from elsewhere; every page works without them.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def default_client_factory(settings: PortalSettings) -> HttpClientFactory:
    """Real HTTP clients with the configured timeout."""

    def factory(base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(settings.backend_timeout_seconds)
        )

    return factory


def _backend_urls(settings: PortalSettings) -> dict[str, str]:
    return {
        "registry": settings.registry_url,
        "intake": settings.intake_url,
        "reminders": settings.reminders_url,
        "consolidation": settings.consolidation_url,
    }


class _SecurityHeaders:
    """Adds the security headers to every response; pages with personal data are not cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not is_static and not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    settings: PortalSettings | None = None,
    *,
    http_client_factory: HttpClientFactory | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the portal app; backend clients are opened when it starts."""
    settings = settings or PortalSettings()
    factory = http_client_factory or default_client_factory(settings)
    registry = CollectorRegistry()
    metrics = PortalMetrics(registry)
    portal = Portal(
        settings=settings, clock=clock or SystemClock(), templates=template_environment()
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        portal.backends = Backends.connect(_backend_urls(settings), factory)
        try:
            yield
        finally:
            backends, portal.backends = portal.backends, None
            await backends.aclose()

    def readiness(name: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            backend: Backend = getattr(portal.api(), name)
            try:
                await backend.ping()
            except Exception:
                metrics.backend_up.labels(name).set(0)
                raise
            metrics.backend_up.labels(name).set(1)

        return check

    app = create_service_app(
        title="Cổng báo cáo công tác Dân vận chính quyền (portal)",
        version="1.0",
        metrics_registry=registry,
        http_metrics=HttpMetrics(registry, settings.service_name),
        lifespan=lifespan,
        routers=ROUTERS,
        readiness={name: readiness(name) for name in REQUIRED_BACKENDS},
        max_body_bytes=settings.max_body_bytes,
    )
    install_page_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_SecurityHeaders)
    app.state.portal = portal
    app.state.settings = settings
    app.state.metrics = metrics
    return app
