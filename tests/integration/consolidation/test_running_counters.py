"""The period counters are kept one unit at a time, yet always equal a count from scratch.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.consolidation import db, projector, store
from services.consolidation.app import MIGRATIONS
from services.consolidation.domain import Counters, recount
from services.consolidation.domain.events import InMemoryProjection
from services.consolidation.subscribers import subscriptions
from shared.clock import ManualClock
from shared.contracts.consolidation import CONSOLIDATION_UPDATED, CompletenessSnapshot
from shared.contracts.intake import ReportSubmitted
from shared.contracts.registry import PeriodChanged
from shared.db import create_engine, make_session_factory
from shared.messaging.inbox import claim_event
from shared.migrations import upgrade_to_head
from tests.support.batches import consecutive_batches
from tests.unit.consolidation.histories import (
    many_units,
    period_changed,
    raised,
    random_history,
    report_version,
    review,
    shuffled_with_duplicates,
    withdrawal,
)

CLOCK = ManualClock(datetime(2023, 6, 20, tzinfo=UTC))
CONSUMER = "consolidation-test"


def handler_map(applier: projector.Projector) -> dict[type, Any]:
    """Contract type → the handler the live service subscribes with."""
    return {s.contract: s.handler for s in subscriptions(applier)}


async def deliver(sessions: async_sessionmaker[AsyncSession], handle: Any, event: Any) -> None:
    """One delivery as the consumer makes it: claim the event id, apply, commit."""
    async with sessions() as session, session.begin():
        if await claim_event(session, db.processed_events, CONSUMER, str(event.event_id)):
            await handle(session, event)


async def assert_counters_are_a_recount(session: AsyncSession, period_id: str) -> Counters | None:
    """The stored counters and standings equal counting the stored reports from scratch."""
    period = await store.load_period(session, period_id)
    progress = await store.load_progress(session, period_id)
    if period is None:
        assert progress is None or progress.period_version is None
        return None
    assert progress is not None
    fresh = recount(period, await store.period_reports(session, period_id, with_content=False))
    assert progress.period_version == period.version
    assert progress.counters == fresh.counters
    assert await store.period_standings(session, period_id) == list(fresh.standings)
    return progress.counters


async def last_snapshots(session: AsyncSession) -> dict[str, CompletenessSnapshot]:
    """The newest published snapshot of each period, from the outbox."""
    rows = await session.scalars(
        select(db.outbox.c.payload).where(db.outbox.c.subject == CONSOLIDATION_UPDATED)
    )
    newest: dict[str, CompletenessSnapshot] = {}
    for payload in rows:
        s = CompletenessSnapshot.model_validate(json.loads(payload)["payload"])
        if s.period_id not in newest or s.revision > newest[s.period_id].revision:
            newest[s.period_id] = s
    return newest


def fold(events: list[Any]) -> InMemoryProjection:
    projection = InMemoryProjection()
    for e in events:
        projection.apply(e)
    return projection


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
async def test_counters_equal_a_recount_after_a_long_shuffled_duplicated_stream(
    engine: AsyncEngine, seed: int
) -> None:
    rng = random.Random(seed)
    periods = ("P1", "P2")
    history = [e for p in periods for e in random_history(rng, p, units=20)]
    replay = shuffled_with_duplicates(rng, history)
    assert len(replay) > 200
    sessions = make_session_factory(engine)
    handle = handler_map(projector.Projector(CLOCK))
    for n, e in enumerate(replay):
        async with sessions() as session, session.begin():
            await handle[type(e)](session, e)  # no inbox: the handlers alone are idempotent
        if n % 7 == 0 or n == len(replay) - 1:
            async with sessions() as session:
                for p in periods:
                    await assert_counters_are_a_recount(session, p)

    # The stored counters also equal a count of the pure in-memory fold of the same events.
    memory = fold(history)
    async with sessions() as session:
        snapshots = await last_snapshots(session)
        for p in periods:
            stored = await assert_counters_are_a_recount(session, p)
            fresh = recount(memory.periods[p], memory.period_reports(p))
            assert stored == fresh.counters
            missing = [code for code, s in fresh.standings if s.state == "missing"]
            snap = snapshots[p]
            assert (snap.expected, snap.submitted, snap.on_time, snap.late) == (
                fresh.counters.expected,
                fresh.counters.submitted,
                fresh.counters.on_time,
                fresh.counters.late,
            )
            assert (snap.missing, snap.awaiting_revision, snap.accepted) == (
                fresh.counters.missing,
                fresh.counters.awaiting_revision,
                fresh.counters.accepted,
            )
            assert list(snap.missing_units) == missing


async def test_a_rebuild_in_another_order_gives_identical_counters(engine: AsyncEngine) -> None:
    rng = random.Random(5)
    history = random_history(rng, "P1", units=14)
    sessions = make_session_factory(engine)
    live = handler_map(projector.Projector(CLOCK))
    for e in shuffled_with_duplicates(rng, history):
        await deliver(sessions, live[type(e)], e)
    async with sessions() as session:
        before = (
            await store.load_progress(session, "P1"),
            await store.period_standings(session, "P1"),
        )

    # What `consolidation rebuild` does: one transaction, empty, replay without publishing.
    quiet = handler_map(projector.Projector(CLOCK, publish=False))
    async with sessions() as session, session.begin():
        await store.clear_projections(session)
        for e in shuffled_with_duplicates(rng, history):
            await quiet[type(e)](session, e)
    async with sessions() as session:
        after = (
            await store.load_progress(session, "P1"),
            await store.period_standings(session, "P1"),
        )
        await assert_counters_are_a_recount(session, "P1")
    assert after == before


async def test_two_replicas_applying_one_period_concurrently_keep_exact_counters(
    databases: Any,
) -> None:
    url = await databases.url("consolidation")
    engines = [create_engine(url), create_engine(url)]
    await upgrade_to_head(engines[0], MIGRATIONS)
    try:
        rng = random.Random(21)
        history = random_history(rng, "P1", units=30)
        # Some units first, the period later, more after: every path of the handlers races.
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for e in shuffled_with_duplicates(rng, history):
            queue.put_nowait(e)
        retries = 0

        async def replica_worker(engine: AsyncEngine) -> None:
            nonlocal retries
            sessions = make_session_factory(engine)
            handle = handler_map(projector.Projector(CLOCK))
            while not queue.empty():
                e = queue.get_nowait()
                for attempt in range(50):
                    try:
                        await deliver(sessions, handle[type(e)], e)
                        break
                    except DBAPIError:
                        # A deadlock or a busy database: the consumer would redeliver.
                        retries += 1
                        await asyncio.sleep(0.01 * attempt)
                else:
                    raise AssertionError(f"event {e.event_id} kept failing")

        await asyncio.gather(*(replica_worker(engines[i % 2]) for i in range(8)))
        sessions = make_session_factory(engines[0])
        async with sessions() as session:
            stored = await assert_counters_are_a_recount(session, "P1")
            snapshot = (await last_snapshots(session))["P1"]
            revisions = await session.scalars(
                select(db.period_progress.c.revision).where(db.period_progress.c.period_id == "P1")
            )
        memory = fold(history)
        assert stored == recount(memory.periods["P1"], memory.period_reports("P1")).counters
        # Snapshots were numbered one by one under the lock: the newest carries the count.
        assert snapshot.revision == next(iter(revisions))
        assert stored is not None and snapshot.submitted == stored.submitted
    finally:
        for e in engines:
            await e.dispose()


async def test_a_period_stored_before_the_counters_existed_is_counted_by_its_next_event(
    engine: AsyncEngine,
) -> None:
    sessions = make_session_factory(engine)
    handle = handler_map(projector.Projector(CLOCK))
    units = many_units(6)
    for e in (
        period_changed("P1", units),
        report_version("P1", units[0].code, 1),
        report_version("P1", units[1].code, 1, on_time=False),
    ):
        await deliver(sessions, handle[type(e)], e)
    # A database upgraded from before the counters: the period is there, its counters not.
    async with sessions() as session, session.begin():
        await session.execute(delete(db.period_progress))
        await session.execute(delete(db.unit_progress))
    await deliver(sessions, handle[ReportSubmitted], report_version("P1", units[2].code, 1))
    async with sessions() as session:
        counters = await assert_counters_are_a_recount(session, "P1")
    assert counters == Counters(expected=6, submitted=3, on_time=2, late=1)


async def test_the_snapshot_names_at_most_fifty_missing_units_and_counts_them_all(
    engine: AsyncEngine,
) -> None:
    sessions = make_session_factory(engine)
    handle = handler_map(projector.Projector(CLOCK))
    units = many_units(120)
    for e in (period_changed("P1", units), report_version("P1", units[0].code, 1)):
        await deliver(sessions, handle[type(e)], e)
    async with sessions() as session:
        snap = (await last_snapshots(session))["P1"]
    assert (snap.expected, snap.submitted, snap.missing) == (120, 1, 119)
    assert list(snap.missing_units) == [u.code for u in units[1:51]]
    assert len(snap.missing_units) == projector.SNAPSHOT_MISSING_UNITS


# --- cost per event -------------------------------------------------------------------


@dataclass
class Cost:
    """Statements sent and rows read back while one event is applied."""

    statements: int = 0
    rows: int = 0
    texts: list[str] = field(default_factory=list)


class CountingSession:
    """An AsyncSession that counts the rows its results hand back (statements are counted
    on the engine). Results are buffered, which changes nothing for the handlers."""

    def __init__(self, session: AsyncSession, cost: Cost) -> None:
        self._session = session
        self._cost = cost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        result = await self._session.execute(statement, *args, **kwargs)
        if not getattr(result, "returns_rows", True):
            return result  # an INSERT or UPDATE without RETURNING: nothing read back
        frozen = result.freeze()
        self._cost.rows += len(frozen.data)
        return frozen()

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return (await self.execute(statement, *args, **kwargs)).scalar()

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return (await self.execute(statement, *args, **kwargs)).scalars()


@contextmanager
def counting_statements(engine: AsyncEngine, cost: Cost) -> Iterator[None]:
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        cost.statements += 1
        cost.texts.append(statement.split()[0])

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def per_event_costs(engine: AsyncEngine, period_id: str, size: int) -> list[Cost]:
    """Costs of a fixed mix of events in a period of `size` units, 10 of them missing."""
    units = many_units(size, prefix=f"{period_id}-")
    sessions = make_session_factory(engine)
    handle = handler_map(projector.Projector(CLOCK))
    # Setup (not measured): every unit but the last ten has reported, then the period arrives.
    async with sessions() as session, session.begin():
        for u in units[:-10]:
            await handle[ReportSubmitted](session, report_version(period_id, u.code, 1))
        await handle[PeriodChanged](session, period_changed(period_id, units))
    first, late = units[0].code, units[-1].code
    mix = [
        report_version(period_id, late, 1),  # a missing unit reports
        report_version(period_id, first, 2),  # an amendment
        review(period_id, first, 2, "returned"),
        report_version(period_id, first, 3, on_time=False),
        review(period_id, first, 3, "accepted"),
        withdrawal(period_id, late, 1),  # missing again
        report_version(period_id, first, 3),  # a duplicate version: changes nothing
        report_version(period_id, "OUTSIDER", 1),  # a unit the period does not expect
        raised(period_id, first, f"d-{period_id}"),
        raised(period_id, first, f"d-{period_id}", answer="Đã trả lời."),
        report_version(f"{period_id}-unknown", first, 1),  # its period has not arrived
    ]
    costs: list[Cost] = []
    for e in mix:
        cost = Cost()
        with counting_statements(engine, cost):
            async with sessions() as session, session.begin():
                await handle[type(e)](CountingSession(session, cost), e)
        costs.append(cost)
    return costs


async def test_an_event_costs_the_same_statements_and_rows_for_20_or_2000_units(
    engine: AsyncEngine,
) -> None:
    small = await per_event_costs(engine, "S", 20)
    large = await per_event_costs(engine, "L", 2000)
    assert [c.statements for c in large] == [c.statements for c in small]
    assert [c.texts for c in large] == [c.texts for c in small]
    # Rows read back too: nothing proportional to the units (the snapshot lists ≤ 10 here).
    assert [c.rows for c in large] == [c.rows for c in small]
    assert max(c.statements for c in large) <= 12
    assert max(c.rows for c in large) <= 20


@pytest.mark.parametrize("seed", [31, 32])
async def test_batches_give_the_same_projections_as_one_event_at_a_time(
    databases: Any, seed: int
) -> None:
    # The live consumer applies a fetch's events of one subject together (the batch
    # handlers); the result must be what applying them one by one gives.
    rng = random.Random(seed)
    history = [e for p in ("P1", "P2") for e in random_history(rng, p, units=25)]
    replay = shuffled_with_duplicates(rng, history)
    results = []
    for mode in ("one by one", "batches"):
        engine = create_engine(await databases.url(f"consolidation-{mode.replace(' ', '-')}"))
        await upgrade_to_head(engine, MIGRATIONS)
        try:
            sessions = make_session_factory(engine)
            subs = {s.contract: s for s in subscriptions(projector.Projector(CLOCK))}
            if mode == "one by one":
                for e in replay:
                    async with sessions() as session, session.begin():
                        await subs[type(e)].handler(session, e)
            else:
                for batch in consecutive_batches(replay, random.Random(seed), 40):
                    handler = subs[type(batch[0])].batch
                    assert handler is not None
                    async with sessions() as session, session.begin():
                        await handler(session, batch)
            async with sessions() as session:
                snapshots = await last_snapshots(session)
                results.append(
                    [
                        (
                            await assert_counters_are_a_recount(session, p),
                            await store.period_standings(session, p),
                            await store.period_reports(session, p, with_content=True),
                            (snapshots[p].submitted, snapshots[p].missing_units),
                        )
                        for p in ("P1", "P2")
                    ]
                )
        finally:
            await engine.dispose()
    assert results[0] == results[1]
