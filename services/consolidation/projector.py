"""The projector: applies the events consolidation consumes to its projections, each in the
transaction of the consumer that delivered it (inbox claim and projection in one commit)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import db, store
from services.consolidation.domain import (
    Counters,
    PeriodInfo,
    PeriodProgress,
    recount,
    unit_standing,
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
from shared.contracts.consolidation import (
    CompletenessSnapshot,
    ConsolidationUpdated,
    DraftSaved,
    HighlightsChanged,
)
from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    DifficultyRaised,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import (
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    UnitChanged,
)
from shared.messaging.outbox import add_event, add_events

PRODUCER = "consolidation"
log = logging.getLogger(__name__)


# The snapshot names at most this many missing units (the first in registry order), so
# publishing it costs the same for a period of 20 units or of 2,000; `missing` always has
# the full count and GET /v1/periods/{id}/completeness the full list. Hồng Lĩnh expects
# about twenty units, so in practice the list is complete.
SNAPSHOT_MISSING_UNITS = 50


class Projector:
    """Applies events to the projections, each in the caller's transaction.

    Every handler is idempotent and order-independent (newer versions win, whatever the
    arrival order). When a period's state really changes, its completeness snapshot is
    published through the outbox in the same transaction; a rebuild turns that off.

    Whatever changes a period's completeness or summary also moves its answers' stamp
    (`store.move_stamps`), in the same transaction: once per period per batch; a period
    event moves every period's, a unit event those of the periods it raised difficulties
    in.

    The period's running counters move by the changed unit's difference, so an event costs
    the same whatever the number of units; a new period version (a new expected set) is
    recounted once. Every handler locks the period's counter row before it reads anything
    of the period, which serialises a period's events across replicas.
    """

    def __init__(
        self,
        clock: Clock,
        metrics: ConsolidationMetrics | None = None,
        *,
        publish: bool = True,
    ) -> None:
        self._clock = clock
        self._metrics = metrics
        self._publish = publish

    async def on_unit_changed(self, session: AsyncSession, event: UnitChanged) -> None:
        """Keep unit names for units outside a period's expected set."""
        u = event.payload
        stored = await store.save_unit(
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
        if stored:
            # An answer shows this name (rather than the period's) only for a difficulty
            # the unit raised in a period that does not expect it: those periods move.
            periods = await store.periods_with_difficulties_of(session, u.code)
            if periods:
                await store.lock_many_progress(session, periods)
                await store.move_stamps(session, periods)

    async def on_period_changed(self, session: AsyncSession, event: PeriodChanged) -> None:
        """Store the period with its expected units exactly as the registry resolved them."""
        incoming = period_from(event.payload)
        # Every period's lock, not only this one's: a new or changed period can change
        # which period another one's summary compares with, so all their stamps move.
        await store.lock_every_progress(session, also=incoming.period_id)
        held = await store.load_period(session, incoming.period_id, for_update=True)
        if merge_period(held, incoming) is held:
            return
        await store.save_period(session, incoming, exists=held is not None)
        await store.move_stamps(session)
        counters = await self._recount(session, incoming)
        await self._period_changed(session, incoming.period_id, counters)

    async def on_period_changed_v2(self, session: AsyncSession, event: PeriodChangedV2) -> None:
        """A period version's header: applied once its expected set is whole."""
        whole = await store.stage_period_header(session, event)
        if whole is not None:
            await self.on_period_changed(session, whole)

    async def on_period_expected_units(
        self, session: AsyncSession, event: PeriodExpectedUnits
    ) -> None:
        """A part of a period version's expected set: applied once the set is whole."""
        whole = await store.stage_period_part(session, event)
        if whole is not None:
            await self.on_period_changed(session, whole)

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

    async def on_draft_saved(self, session: AsyncSession, event: DraftSaved) -> None:
        """A saved draft of the town report (consolidation's own event): the save already
        wrote it, so live this changes nothing; a rebuild restores every draft from it."""
        await store.upsert_draft(session, event.payload)

    async def on_highlights_changed(self, session: AsyncSession, event: HighlightsChanged) -> None:
        """The excerpts picked for a period's town report (consolidation's own event)."""
        await store.upsert_highlights(session, event.payload)

    async def on_report_events(self, session: AsyncSession, events: Sequence[ReportEvent]) -> None:
        """A fetched batch of report events (any of the three kinds), in one transaction,
        with the same result as applying them one by one: the batch's periods are locked
        together, the reports, standings and counters read and written in one statement
        each, and each changed period's snapshot is published once."""
        if not events:
            return
        progress = await store.lock_many_progress(session, {e.payload.period_id for e in events})
        held = await store.load_reports(session, (e.payload.report_id for e in events))
        # A record keeps the period it was first seen in; that period is the one to lock.
        others = {r.period_id for r in held.values()} - progress.keys()
        if others:
            progress.update(await store.lock_many_progress(session, others))
        current: dict[str, Any] = dict(held)
        changed: dict[str, Any] = {}
        for event in events:
            report_id = event.payload.report_id
            before = current.get(report_id)
            after = apply_report_event(before, event)
            if after != before:
                current[report_id] = changed[report_id] = after
        if not changed:
            return
        await store.save_reports(session, changed.values(), existing=set(held))
        units: dict[str, set[str]] = {}
        for record in changed.values():
            units.setdefault(record.period_id, set()).add(record.unit_code)
        await store.move_stamps(session, units)  # once per period of the batch
        counters: dict[str, Counters | None] = {}
        counted: dict[str, set[str]] = {}
        for period_id in sorted(units):
            if progress[period_id].period_version is None:
                counters[period_id] = await self._counters(session, progress[period_id])
            else:
                counted[period_id] = units[period_id]
                counters[period_id] = progress[period_id].counters
        await self._count_units(session, counted, counters)
        await self._periods_changed(session, counters)

    async def _count_units(
        self,
        session: AsyncSession,
        units: dict[str, set[str]],
        counters: dict[str, Counters | None],
    ) -> None:
        """Move the periods' counters by several units' changes of standing (a batch's
        `_count_unit`); `counters` holds each period's stored counters and is updated."""
        held = await store.load_standings(session, units)
        if not held:
            return  # none of them is expected: nothing to count
        expected: dict[str, set[str]] = {}
        for period_id, code in held:
            expected.setdefault(period_id, set()).add(code)
        reports = await store.units_reports(session, expected)
        moved = {}
        moved_counters: dict[str, Counters] = {}
        for key, before in held.items():
            standing = unit_standing(reports[key])
            if standing != before:
                period_id = key[0]
                now = counters[period_id]
                assert now is not None
                counters[period_id] = moved_counters[period_id] = now.moved(before, standing)
                moved[key] = standing
        await store.save_standings(session, moved)
        await store.save_many_counters(session, moved_counters)

    async def _periods_changed(
        self, session: AsyncSession, counters: dict[str, Counters | None]
    ) -> None:
        """`_period_changed` for several periods: one snapshot each, queued together."""
        known = {p: c for p, c in counters.items() if c is not None}
        if not known:
            return  # the periods have not arrived: nothing to announce yet
        if self._metrics is not None:
            for period_id, c in known.items():
                self._metrics.set_completeness(period_id, c.ratio)
        if not self._publish:
            return
        revisions = await store.next_revisions(session, known)
        missing = await store.missing_units_of(session, known, limit=SNAPSHOT_MISSING_UNITS)
        snapshots = []
        for period_id in sorted(known):
            revision, title = revisions[period_id]
            snapshot = completeness_snapshot(
                period_id, title, known[period_id], missing[period_id], self._clock, revision
            )
            snapshots.append(ConsolidationUpdated.new(snapshot, producer=PRODUCER))
        await add_events(session, db.outbox, snapshots)

    async def _change_report(self, session: AsyncSession, event: ReportEvent) -> None:
        progress = await store.lock_progress(session, event.payload.period_id)
        held = await store.load_report(session, event.payload.report_id)
        if held is not None and held.period_id != progress.period_id:
            # A record keeps the period it was first seen in; that period is the one to lock.
            progress = await store.lock_progress(session, held.period_id)
        updated = apply_report_event(held, event)
        if updated == held:
            return
        await store.save_report(session, updated, exists=held is not None)
        await store.move_stamps(session, [updated.period_id])
        counters = await self._count_unit(session, progress, updated.unit_code)
        await self._period_changed(session, updated.period_id, counters)

    async def _change_difficulty(self, session: AsyncSession, d: Difficulty) -> None:
        progress = await store.lock_progress(session, d.period_id)
        incoming = difficulty_from(d)
        held = await store.load_difficulty(session, d.difficulty_id)
        if held is not None and held.period_id != progress.period_id:
            progress = await store.lock_progress(session, held.period_id)
        updated = held.merged(incoming) if held else incoming
        if updated == held:
            return
        await store.save_difficulty(session, updated, exists=held is not None)
        await store.move_stamps(session, [updated.period_id])
        await self._period_changed(
            session, updated.period_id, await self._counters(session, progress)
        )

    async def _counters(self, session: AsyncSession, progress: PeriodProgress) -> Counters | None:
        """The period's counters as stored; None while the period has not arrived."""
        if progress.period_version is not None:
            return progress.counters
        period = await store.load_period(session, progress.period_id)
        if period is None:
            return None  # kept until the period arrives; counted then
        # The period predates its counters (a database from before they existed): once.
        return await self._recount(session, period)

    async def _count_unit(
        self, session: AsyncSession, progress: PeriodProgress, unit_code: str
    ) -> Counters | None:
        """Move the period's counters by one unit's change of standing."""
        if progress.period_version is None:
            return await self._counters(session, progress)
        period_id = progress.period_id
        held = await store.load_standing(session, period_id, unit_code)
        if held is None:
            return progress.counters  # not an expected unit: nothing to count
        standing = unit_standing(await store.unit_reports(session, period_id, unit_code))
        if standing == held:
            return progress.counters
        counters = progress.counters.moved(held, standing)
        await store.save_standing(session, period_id, unit_code, standing)
        await store.save_counters(session, period_id, counters)
        return counters

    async def _recount(self, session: AsyncSession, period: PeriodInfo) -> Counters:
        """Count a period from scratch (a new expected set); O(units), once per version."""
        result = recount(
            period, await store.period_reports(session, period.period_id, with_content=False)
        )
        await store.replace_standings(session, period.period_id, result.standings)
        await store.save_counters(
            session, period.period_id, result.counters, period_version=period.version
        )
        return result.counters

    async def _period_changed(
        self, session: AsyncSession, period_id: str, counters: Counters | None
    ) -> None:
        if counters is None:
            return  # the period has not arrived: nothing to announce yet
        if self._metrics is not None:
            self._metrics.set_completeness(period_id, counters.ratio)
        if self._publish:
            revision, title = await store.next_revision(session, period_id)
            missing = await store.missing_unit_codes(
                session, period_id, limit=SNAPSHOT_MISSING_UNITS
            )
            snapshot = completeness_snapshot(
                period_id, title, counters, missing, self._clock, revision
            )
            await add_event(
                session, db.outbox, ConsolidationUpdated.new(snapshot, producer=PRODUCER)
            )
            log.debug("period %s snapshot %d queued", period_id, revision)


def completeness_snapshot(
    period_id: str,
    title: str,
    counters: Counters,
    missing_units: list[str],
    clock: Clock,
    revision: int,
) -> CompletenessSnapshot:
    """The event payload for a period's completeness, naming the missing units given."""
    return CompletenessSnapshot(
        period_id=period_id,
        title=title,
        expected=counters.expected,
        submitted=counters.submitted,
        on_time=counters.on_time,
        late=counters.late,
        missing=counters.missing,
        awaiting_revision=counters.awaiting_revision,
        accepted=counters.accepted,
        missing_units=tuple(missing_units),
        as_of=clock.now(),
        revision=revision,
    )
