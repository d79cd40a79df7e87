"""Consolidation composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.consolidation import api, db, handlers
from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.subscribers import subscriptions
from shared.auth import KeySource
from shared.clock import Clock, SystemClock
from shared.contracts.consolidation import ConsolidationUpdated
from shared.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: ConsolidationSettings | None = None,
    *,
    clock: Clock | None = None,
    key_source: KeySource | None = None,
) -> Any:
    """Build the consolidation app; nothing connects until it starts."""
    settings = settings or ConsolidationSettings()
    clock = clock or SystemClock()
    projector = handlers.Projector(clock)
    runtime = ServiceRuntime(
        settings,
        outbox=db.outbox,
        inbox=db.processed_events,
        subscriptions=subscriptions(projector),
        publishes=[ConsolidationUpdated],
        key_source=key_source,
    )
    # The gauge lives in the runtime's registry, which exists only once the runtime does.
    metrics = ConsolidationMetrics(runtime.registry)
    projector.metrics = metrics

    async def startup() -> None:
        async with runtime.sessions() as session:
            await handlers.refresh_metrics(session, metrics)

    return runtime.create_app(
        title="Tổng hợp báo cáo (consolidation)",
        version="1.0",
        routers=[api.router],
        migrations_dir=MIGRATIONS,
        on_startup=[startup],
        state={"settings": settings, "clock": clock, "metrics": metrics},
    )
