"""The runtime every service composes: engine, sessions, metrics, event bus, HTTP app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import JwksKeySource, KeySource, TokenVerifier
from shared.clock import Clock, SystemClock
from shared.contracts.registry import TokensRevoked
from shared.db import CommitHook, Database
from shared.http import create_service_app
from shared.logs import configure_logging
from shared.messaging.bus import EventBus
from shared.messaging.consumer import Subscription
from shared.messaging.outbox import OUTBOX_CLAIM, OUTBOX_WRITTEN
from shared.metrics import HttpMetrics, MessagingMetrics
from shared.migrations import upgrade_to_head
from shared.revocation import RevocationFeed, Revocations
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


class ServiceRuntime:
    """Wires the parts every service needs; nothing connects until the app starts.

    Composition order, the same in every `app.py`: the `Database` (engine, sessions), then
    the key source if the service has its own (the registry's key ring), then this runtime
    (metrics registry, event bus, token verifier); then the service's own objects, each
    complete at construction; then `subscribe` and `after_commit` on this runtime; then the
    service's typed context and `create_app`.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        database: Database,
        *,
        outbox: Table | None,
        inbox: Table | None,
        publishes: Sequence[type[BaseModel]] = (),
        key_source: KeySource | None = None,
        revocations: Table | None = None,
        consume_revocations: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.registry = CollectorRegistry()
        self.http_metrics = HttpMetrics(self.registry, settings.service_name)
        self.messaging_metrics = MessagingMetrics(self.registry, settings.service_name)
        self.bus = EventBus(
            settings,
            registry=self.registry,
            metrics=self.messaging_metrics,
            sessions=database.sessions,
            inbox=inbox,
            outbox=outbox,
            publishes=publishes,
            skip_locked=database.is_postgres,
        )
        self.jwks: JwksKeySource | None = None
        if key_source is None:
            self.jwks = key_source = JwksKeySource(
                settings.jwks_url,
                ttl_seconds=settings.jwks_ttl_seconds,
                max_stale_seconds=settings.jwks_max_stale_seconds,
            )
        # Revoked tokens (shared/revocation.py): kept in the service's `revocations` table,
        # fed by a durable consumer of TokensRevoked (the registry, their producer, writes
        # its table itself and passes consume_revocations=False).
        self.revocation_feed: RevocationFeed | None = None
        if revocations is not None:
            self.revocation_feed = RevocationFeed(
                database.sessions,
                revocations,
                clock or SystemClock(),
                Revocations(),
                poll_seconds=settings.revocation_poll_seconds,
            )
        self.verifier = TokenVerifier(
            key_source,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            revocations=self.revocation_feed.revocations if self.revocation_feed else None,
        )
        if self.revocation_feed is not None and consume_revocations:
            self.subscribe(Subscription(TokensRevoked, self.revocation_feed.on_event))
        if outbox is not None:
            self.after_commit(OUTBOX_WRITTEN, self.bus.wake_relay)
        if self.bus.relay is not None:
            # Outbox rows are written claimed by the relay while it publishes, and handed to
            # it after their commit: no claim transaction per commit (docs/ARCHITECTURE.md).
            database.share(OUTBOX_CLAIM, self.bus.relay.claim_for_handover)
            database.on_commit_items(OUTBOX_WRITTEN, self.bus.relay.hand_over)

    @property
    def engine(self) -> AsyncEngine:
        """The database engine."""
        return self.database.engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The database sessions."""
        return self.database.sessions

    def subscribe(self, *subscriptions: Subscription) -> None:
        """Consume these events (before the app starts)."""
        for subscription in subscriptions:
            self.bus.subscribe(subscription)

    def after_commit(self, topic: str, hook: CommitHook) -> None:
        """Call `hook` after each commit that `notify_on_commit(session, topic)` marked."""
        self.database.on_commit(topic, hook)

    async def check_database(self) -> None:
        """Readiness: the database answers."""
        await self.database.ping()

    async def check_nats(self) -> None:
        """Readiness: connected to NATS and subscribers started."""
        if not (self.bus.is_connected() and self.bus.started):
            raise ConnectionError("NATS not connected")

    def create_app(
        self,
        *,
        title: str,
        version: str,
        routers: Sequence[APIRouter],
        migrations_dir: Path,
        context: object,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        max_body_bytes: int | None = None,
        max_upload_bytes: int | None = None,
    ) -> FastAPI:
        """The service's FastAPI app; its lifespan migrates, starts the bus and the hooks.

        `context` is the service's typed context, given to routes by `context_dependency`.
        Bodies are limited to `max_body_bytes` (default: the settings'), file uploads to
        `max_upload_bytes` (default: the same)."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await upgrade_to_head(self.engine, migrations_dir)
            for hook in on_startup:
                await hook()
            if self.revocation_feed is not None:
                # Before the first request: a restarted service refuses what it knew of.
                await self.revocation_feed.start()
            await self.bus.start()
            log.info("%s started", self.settings.service_name)
            try:
                yield
            finally:
                for hook in on_shutdown:
                    await hook()
                if self.revocation_feed is not None:
                    await self.revocation_feed.stop()
                await self.bus.stop()
                if self.jwks is not None:
                    await self.jwks.aclose()
                await self.database.dispose()
                log.info("%s stopped", self.settings.service_name)

        app = create_service_app(
            title=title,
            version=version,
            metrics_registry=self.registry,
            http_metrics=self.http_metrics,
            lifespan=lifespan,
            routers=routers,
            readiness={"database": self.check_database, "nats": self.check_nats},
            max_body_bytes=max_body_bytes or self.settings.max_body_bytes,
            max_upload_bytes=max_upload_bytes,
        )
        app.state.runtime = self
        app.state.verifier = self.verifier
        app.state.context = context
        return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service with uvicorn (the thin `__main__` of every service)."""
    import uvicorn

    configure_logging(
        settings.log_level, service=settings.service_name, json_format=settings.log_json
    )
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # keep our handlers: uvicorn's own config would replace them
        timeout_graceful_shutdown=10,
        # Which peer's X-Forwarded-For to believe is each service's own setting (the portal's
        # DANVAN_PORTAL_TRUSTED_PROXIES, the registry's DANVAN_TRUSTED_PROXIES): uvicorn's own
        # rewrite of the client address (by default for any loopback peer) stays off.
        proxy_headers=False,
    )
