"""Intake composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import api, db
from services.intake.context import IntakeContext
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.storage import AttachmentStore
from services.intake.subscribers import SUBSCRIPTIONS
from shared.auth import KeySource
from shared.clock import Clock, SystemClock
from shared.contracts.intake import (
    DifficultyAnswered,
    DifficultyFollowedUp,
    DifficultyRaised,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.db import Database
from shared.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


PUBLISHED_EVENTS = (
    ReportSubmitted,
    ReportWithdrawn,
    ReportReviewed,
    DifficultyRaised,
    DifficultyAnswered,
    DifficultyFollowedUp,
)


def create_app(
    settings: IntakeSettings | None = None,
    *,
    clock: Clock | None = None,
    key_source: KeySource | None = None,
) -> FastAPI:
    """Build the intake app; nothing connects until it starts."""
    settings = settings or IntakeSettings()
    clock = clock or SystemClock()
    database = Database(settings.resolved_database_url)
    runtime = ServiceRuntime(
        settings,
        database,
        outbox=db.outbox,
        inbox=db.processed_events,
        publishes=PUBLISHED_EVENTS,
        key_source=key_source,
        revocations=db.token_revocations,
        clock=clock,
    )
    runtime.subscribe(*SUBSCRIPTIONS)
    context = IntakeContext(
        settings=settings,
        clock=clock,
        sessions=database.sessions,
        metrics=IntakeMetrics(runtime.registry),
        files=AttachmentStore(settings.resolved_attachments_dir),
    )
    return runtime.create_app(
        title="Tiếp nhận báo cáo (intake)",
        version="1.0",
        routers=[api.router],
        migrations_dir=MIGRATIONS,
        context=context,
        # JSON bodies keep the usual limit; only an attachment may use the larger size.
        max_body_bytes=settings.max_json_bytes,
        max_upload_bytes=settings.max_body_bytes,
    )
