"""Completeness is read from the running counters: the same answer as a count from scratch,
at a cost that does not grow with the number of periods or units.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation import store, views
from services.consolidation.context import ConsolidationContext
from services.consolidation.domain import OwnProgress, completeness
from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.projector import Projector
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.store import ConsolidationStore
from services.consolidation.subscribers import subscriptions
from services.consolidation.usecases import reading
from services.consolidation.usecases.common import every_completeness
from shared.auth import Principal
from shared.clock import ManualClock
from shared.db import make_session_factory
from tests.unit.consolidation.histories import (
    many_units,
    period_changed,
    random_history,
    report_version,
    shuffled_with_duplicates,
    withdrawal,
)

CLOCK = ManualClock(datetime(2023, 6, 20, tzinfo=UTC))
REVIEWER = Principal(username="pnv", role="reviewer")


def context_of(engine: AsyncEngine) -> ConsolidationContext:
    return ConsolidationContext(
        settings=ConsolidationSettings(env="test"),
        clock=CLOCK,
        store=ConsolidationStore(make_session_factory(engine)),
        metrics=ConsolidationMetrics(CollectorRegistry()),
    )


async def apply(context: ConsolidationContext, events: list[Any]) -> None:
    """Each event in its own transaction, through the live subscriptions' handlers."""
    handle = {s.contract: s.handler for s in subscriptions(Projector(CLOCK))}
    for e in events:
        async with context.store.transaction() as session:
            await handle[type(e)](session, e)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


@pytest.mark.parametrize("seed", [31, 32, 33])
async def test_completeness_from_the_counters_equals_a_count_from_scratch(
    engine: AsyncEngine, seed: int
) -> None:
    rng = random.Random(seed)
    context = context_of(engine)
    periods = ("P1", "P2", "P3")
    history = [e for p in periods for e in random_history(rng, p, units=16)]
    await apply(context, shuffled_with_duplicates(rng, history))
    async with context.store.reading() as session:
        stored = {c.period.period_id: c for c in await every_completeness(session)}
        assert set(stored) == set(periods)
        for p in periods:
            period = await store.load_period(session, p)
            assert period is not None
            reports = await store.period_reports(session, p, with_content=False)
            fresh = views.completeness(completeness(period, reports)).model_dump(mode="json")
            assert views.completeness(stored[p]).model_dump(mode="json") == fresh
    # Withdrawals are shown as such: the random histories withdraw some units' only report.
    withdrawn = [u for c in stored.values() for u in c.units if u.withdrawn is not None]
    assert withdrawn and all(u.state == "missing" for u in withdrawn)


async def test_a_withdrawn_report_is_named_on_its_missing_unit_until_the_unit_sends_again(
    engine: AsyncEngine,
) -> None:
    context = context_of(engine)
    units = many_units(3)
    code = units[1].code
    await apply(
        context,
        [period_changed("P", units), report_version("P", code, 1), withdrawal("P", code, 1)],
    )
    status = await reading.read_completeness(context, REVIEWER, "P")
    assert not isinstance(status, OwnProgress)
    row = views.completeness(status).units[1]
    assert (row.state, row.state_label, row.report_id) == ("missing", "Chưa gửi", None)
    assert row.withdrawn is not None and row.withdrawn.report_id == f"r-P-{code}"
    assert row.withdrawn.withdrawn_at is not None and row.withdrawn.version == 1
    await apply(context, [report_version("P", code, 2)])
    status = await reading.read_completeness(context, REVIEWER, "P")
    assert not isinstance(status, OwnProgress)
    again = views.completeness(status).units[1]
    assert (again.state, again.version, again.withdrawn) == ("submitted", 2, None)


async def periods_of(context: ConsolidationContext, first: int, count: int, size: int) -> None:
    events: list[Any] = []
    for n in range(first, first + count):
        units = many_units(size, prefix=f"P{n}-")
        events.append(period_changed(f"P{n}", units))
        events += [report_version(f"P{n}", u.code, 1) for u in units[: size // 2]]
        events.append(withdrawal(f"P{n}", units[0].code, 1))
    await apply(context, events)


async def test_listing_periods_sends_the_same_statements_for_one_period_or_many(
    engine: AsyncEngine,
) -> None:
    context = context_of(engine)
    await periods_of(context, 0, 1, 20)
    with counting(engine) as one:
        listed = await reading.list_periods(context, REVIEWER)
    assert len(listed) == 1
    await periods_of(context, 1, 7, 20)
    with counting(engine) as eight:
        listed = await reading.list_periods(context, REVIEWER)
    assert len(listed) == 8
    assert len(eight) == len(one) <= 3
    # A unit account's list costs the same and shows only its own row.
    unit = Principal(username="u", role="unit", unit_code="P3-00001")
    with counting(engine) as own:
        mine = await reading.list_periods(context, unit)
    assert len(own) == len(one)
    rows = [views.period_completeness(m).model_dump(mode="json")["units"] for m in mine]
    assert sum(len(r) for r in rows) == 1


async def test_one_periods_completeness_sends_the_same_statements_for_20_or_2000_units(
    engine: AsyncEngine,
) -> None:
    context = context_of(engine)
    await periods_of(context, 0, 1, 20)
    await periods_of(context, 1, 1, 2000)
    costs = []
    for period_id in ("P0", "P1"):
        with counting(engine) as statements:
            await reading.read_completeness(context, REVIEWER, period_id)
        costs.append(statements)
    assert len(costs[0]) == len(costs[1]) <= 3
