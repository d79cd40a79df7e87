"""Consolidation composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.consolidation import api, db
from services.consolidation.answer_process import AnswerProcess
from services.consolidation.context import ConsolidationContext
from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.projector import Projector
from services.consolidation.refresh import AnswerRefresher
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.store import ANSWERS_MOVED, ConsolidationStore
from services.consolidation.subscribers import subscriptions
from services.consolidation.usecases.reading import refresh_metrics
from shared.auth import KeySource
from shared.clock import Clock, SystemClock
from shared.contracts.consolidation import ConsolidationUpdated, DraftSaved, HighlightsChanged
from shared.db import Database
from shared.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: ConsolidationSettings | None = None,
    *,
    clock: Clock | None = None,
    key_source: KeySource | None = None,
) -> FastAPI:
    """Build the consolidation app; nothing connects until it starts."""
    settings = settings or ConsolidationSettings()
    clock = clock or SystemClock()
    database = Database(settings.resolved_database_url)
    runtime = ServiceRuntime(
        settings,
        database,
        outbox=db.outbox,
        inbox=db.processed_events,
        publishes=[ConsolidationUpdated, DraftSaved, HighlightsChanged],
        key_source=key_source,
        revocations=db.token_revocations,
        clock=clock,
    )
    metrics = ConsolidationMetrics(runtime.registry)
    runtime.subscribe(*subscriptions(Projector(clock, metrics)))
    answer_process = AnswerProcess(settings.resolved_database_url)
    context = ConsolidationContext(
        settings=settings,
        clock=clock,
        store=ConsolidationStore(database.sessions),
        metrics=metrics,
        answer_process=answer_process,
    )

    refresher = AnswerRefresher(context, settings.answer_refresh_s)
    runtime.after_commit(ANSWERS_MOVED, refresher.poke)

    async def startup() -> None:
        await refresh_metrics(context)
        answer_process.start()
        refresher.start()

    async def shutdown() -> None:
        await refresher.stop()
        await answer_process.stop()

    return runtime.create_app(
        title="Tổng hợp báo cáo (consolidation)",
        version="1.0",
        routers=[api.router],
        migrations_dir=MIGRATIONS,
        context=context,
        on_startup=[startup],
        on_shutdown=[shutdown],
    )
