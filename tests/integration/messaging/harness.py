"""A minimal service on the shared runtime: it writes events to its outbox and applies
ReportSubmitted events to a table, so the messaging guarantees can be checked end to end."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.intake import ReportSubmitted, ReportVersion
from shared.db import Database
from shared.messaging.consumer import Subscription
from shared.messaging.outbox import add_event
from shared.messaging.tables import outbox_table, processed_events_table
from shared.service import ServiceRuntime
from shared.settings import ServiceSettings

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = processed_events_table(metadata)
applied = Table(
    "applied",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
)


def report_event(report_id: str, version: int = 1) -> ReportSubmitted:
    now = datetime.now(UTC)
    return ReportSubmitted.new(
        ReportVersion(
            report_id=report_id,
            period_id="2023-H1",
            unit_code="18115",
            version=version,
            status="submitted",
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            first_submitted_at=now,
            submitted_at=now,
            on_time=False,
            content={"ton_tai_han_che": "Không phát sinh"},
            content_sha256="0" * 64,
        ),
        producer="test",
    )


class Harness:
    """The runtime plus hooks a test can use to make the handler fail."""

    def __init__(
        self, settings: ServiceSettings, *, consume: bool = True, batch: bool = False
    ) -> None:
        self.calls: list[str] = []
        # The report ids of each batch the batch handler was given, in order.
        self.batches: list[list[str]] = []
        self.fail: Callable[[ReportSubmitted], Awaitable[None]] | None = None
        # Called with each batch after it was applied, inside its transaction.
        self.after_batch: Callable[[Sequence[ReportSubmitted]], None] | None = None
        if batch:
            settings = settings.model_copy(update={"consumer_batching": True})
        self.runtime = ServiceRuntime(
            settings,
            Database(settings.resolved_database_url),
            outbox=outbox,
            inbox=inbox if consume else None,
        )
        if consume and batch:
            self.runtime.subscribe(
                Subscription(
                    ReportSubmitted,
                    self._apply,
                    batch=self._apply_batch,
                    key=lambda event: event.payload.report_id,
                )
            )
        elif consume:
            self.runtime.subscribe(Subscription(ReportSubmitted, self._apply))

    async def _apply(self, session: AsyncSession, event: ReportSubmitted) -> None:
        """Record the report version."""
        self.calls.append(event.payload.report_id)
        if self.fail is not None:
            await self.fail(event)
        await session.execute(
            applied.insert().values(
                report_id=event.payload.report_id, version=event.payload.version
            )
        )

    async def _apply_batch(self, session: AsyncSession, events: Sequence[ReportSubmitted]) -> None:
        """Record a batch of report versions with one statement."""
        self.batches.append([e.payload.report_id for e in events])
        for event in events:
            self.calls.append(event.payload.report_id)
            if self.fail is not None:
                await self.fail(event)
        await session.execute(
            applied.insert(),
            [{"report_id": e.payload.report_id, "version": e.payload.version} for e in events],
        )
        if self.after_batch is not None:
            self.after_batch(events)

    async def applied_rows(self) -> list[tuple[str, int]]:
        """(report id, version) in the order they were applied."""
        query = select(applied.c.report_id, applied.c.version).order_by(applied.c.id)
        async with self.runtime.sessions() as session:
            return [(str(r), int(v)) for r, v in (await session.execute(query)).all()]

    async def submit(self, *events: ReportSubmitted) -> None:
        async with self.runtime.sessions() as session, session.begin():
            for event in events:
                await add_event(session, outbox, event)

    async def applied_count(self, report_id: str | None = None) -> int:
        query = select(func.count()).select_from(applied)
        if report_id is not None:
            query = query.where(applied.c.report_id == report_id)
        async with self.runtime.sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def unpublished(self) -> int:
        async with self.runtime.sessions() as session:
            query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            return int((await session.execute(query)).scalar_one())


@contextlib.asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[Harness]:
    async with harness.runtime.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await harness.runtime.bus.start()
    try:
        yield harness
    finally:
        await harness.runtime.bus.stop()
        await harness.runtime.engine.dispose()


def settings_for(url: str, nats_url: str, name: str = "harness", **extra: Any) -> ServiceSettings:
    return ServiceSettings(
        service_name=name,
        database_url=url,
        nats_url=nats_url,
        env="test",
        outbox_poll_seconds=0.1,
        consumer_max_deliver=3,
        consumer_backoff_seconds=0.05,
        **extra,
    )
