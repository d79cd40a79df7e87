"""Consolidation use cases: applying events to the projections, and reading them back."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import db
from services.consolidation.domain import (
    Completeness,
    PeriodInfo,
    Summary,
    completeness,
    earlier_period,
    summarise,
)
from services.consolidation.domain.events import (
    ReportEvent,
    apply_report_event,
    difficulty_from,
    merge_period,
    period_from,
)
from services.consolidation.metrics import ConsolidationMetrics
from shared.clock import Clock
from shared.contracts.consolidation import CompletenessSnapshot, ConsolidationUpdated
from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    DifficultyRaised,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.errors import NotFound
from shared.forms import load_form
from shared.messaging.outbox import add_event

PRODUCER = "consolidation"
log = logging.getLogger(__name__)


class Projector:
    """Applies events to the projections, each in the caller's transaction.

    Every handler is idempotent and order-independent (newer versions win, whatever the
    arrival order). When a period's state really changes, its completeness snapshot is
    published through the outbox in the same transaction; a rebuild turns that off.
    """

    def __init__(
        self,
        clock: Clock,
        metrics: ConsolidationMetrics | None = None,
        *,
        publish: bool = True,
    ) -> None:
        self._clock = clock
        self.metrics = metrics
        self._publish = publish

    async def on_unit_changed(self, session: AsyncSession, event: UnitChanged) -> None:
        """Keep unit names for units outside a period's expected set."""
        u = event.payload
        await db.save_unit(
            session,
            {
                "unit_id": u.unit_id,
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "display_order": u.display_order,
                "valid_from": u.valid_from,
                "version": u.version,
            },
        )

    async def on_period_changed(self, session: AsyncSession, event: PeriodChanged) -> None:
        """Store the period with its expected units exactly as the registry resolved them."""
        incoming = period_from(event.payload)
        held = await db.load_period(session, incoming.period_id, for_update=True)
        if merge_period(held, incoming) is held:
            return
        await db.save_period(session, incoming, exists=held is not None)
        await self._period_changed(session, incoming.period_id)

    async def on_report_submitted(self, session: AsyncSession, event: ReportSubmitted) -> None:
        """A version arrived: it replaces older versions of the same report."""
        await self._change_report(session, event)

    async def on_report_withdrawn(self, session: AsyncSession, event: ReportWithdrawn) -> None:
        """The unit withdrew its report: it no longer counts."""
        await self._change_report(session, event)

    async def on_report_reviewed(self, session: AsyncSession, event: ReportReviewed) -> None:
        """Accepted, or returned to wait for the unit's revision."""
        await self._change_report(session, event)

    async def on_difficulty_raised(self, session: AsyncSession, event: DifficultyRaised) -> None:
        """A unit raised a difficulty."""
        await self._change_difficulty(session, event.payload)

    async def on_difficulty_answered(
        self, session: AsyncSession, event: DifficultyAnswered
    ) -> None:
        """Phòng Nội vụ answered a difficulty."""
        await self._change_difficulty(session, event.payload)

    async def _change_report(self, session: AsyncSession, event: ReportEvent) -> None:
        held = await db.load_report(session, event.payload.report_id)
        updated = apply_report_event(held, event)
        if updated == held:
            return
        await db.save_report(session, updated, exists=held is not None)
        await self._period_changed(session, updated.period_id)

    async def _change_difficulty(self, session: AsyncSession, d: Difficulty) -> None:
        incoming = difficulty_from(d)
        held = await db.load_difficulty(session, d.difficulty_id)
        updated = held.merged(incoming) if held else incoming
        if updated == held:
            return
        await db.save_difficulty(session, updated, exists=held is not None)
        await self._period_changed(session, updated.period_id)

    async def _period_changed(self, session: AsyncSession, period_id: str) -> None:
        if not self._publish and self.metrics is None:
            return
        period = await db.load_period(session, period_id)
        if period is None:
            return  # kept until the period arrives; counted then
        status = completeness(
            period, await db.period_reports(session, period_id, with_content=False)
        )
        if self.metrics is not None:
            self.metrics.set_completeness(period_id, status.ratio)
        if self._publish:
            revision = await db.next_revision(session, period_id)
            snapshot = completeness_snapshot(status, self._clock, revision)
            await add_event(
                session, db.outbox, ConsolidationUpdated.new(snapshot, producer=PRODUCER)
            )
            log.debug("period %s snapshot %d queued", period_id, revision)


def completeness_snapshot(
    status: Completeness, clock: Clock, revision: int
) -> CompletenessSnapshot:
    """The event payload for a period's completeness."""
    t = status.tally
    return CompletenessSnapshot(
        period_id=status.period.period_id,
        title=status.period.title,
        expected=t.expected,
        submitted=t.submitted,
        on_time=t.on_time,
        late=t.late,
        missing=t.missing,
        awaiting_revision=t.awaiting_revision,
        accepted=t.accepted,
        missing_units=tuple(u.code for u in status.in_state("missing")),
        as_of=clock.now(),
        revision=revision,
    )


def _unknown_period(period_id: str) -> NotFound:
    return NotFound(
        f"Chưa có dữ liệu tổng hợp của kỳ báo cáo «{period_id}».", code="period_not_found"
    )


async def read_completeness(session: AsyncSession, period_id: str) -> Completeness:
    """A period's completeness; NotFound until its period event has arrived."""
    period = await db.load_period(session, period_id)
    if period is None:
        raise _unknown_period(period_id)
    return completeness(period, await db.period_reports(session, period_id, with_content=False))


async def list_completeness(session: AsyncSession) -> list[Completeness]:
    """Completeness of every known period, newest deadline first."""
    return [
        completeness(p, await db.period_reports(session, p.period_id, with_content=False))
        for p in await db.all_periods(session)
    ]


async def read_summary(session: AsyncSession, period_id: str) -> Summary:
    """A period's consolidation, with the same period a year earlier when it is known."""
    period = await db.load_period(session, period_id)
    if period is None:
        raise _unknown_period(period_id)
    names = await db.unit_names(session)
    earlier = earlier_period(period, await db.all_periods(session))
    earlier_summary = await _summary(session, earlier, None, names) if earlier else None
    return await _summary(session, period, earlier_summary, names)


async def _summary(
    session: AsyncSession, period: PeriodInfo, earlier: Summary | None, names: dict[str, str]
) -> Summary:
    return summarise(
        period,
        load_form(period.form_id, period.form_version),
        await db.period_reports(session, period.period_id, with_content=True),
        await db.period_difficulties(session, period.period_id),
        earlier=earlier,
        unit_names=names,
    )


async def refresh_metrics(session: AsyncSession, metrics: ConsolidationMetrics) -> None:
    """Set the completeness gauge of every known period (on start)."""
    for status in await list_completeness(session):
        metrics.set_completeness(status.period.period_id, status.ratio)
