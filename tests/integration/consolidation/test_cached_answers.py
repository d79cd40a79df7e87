"""Completeness and summary are served from answers cached per period stamp: the stamp
moves with every change of what an answer is made of (one event, a batch, a period or
unit event), so a cached answer is never served after a change; a unit account still
sees only its own row; a page of units is the slice asked for.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation import store, views
from services.consolidation.answers import Page
from services.consolidation.context import ConsolidationContext
from services.consolidation.projector import Projector
from services.consolidation.subscribers import subscriptions
from services.consolidation.usecases import reading
from shared.auth import Principal
from shared.clock import ManualClock
from shared.contracts.registry import UnitChanged, UnitState
from shared.errors import DomainError
from tests.integration.consolidation.test_completeness_reads import context_of
from tests.unit.consolidation.factory import period_event, submitted
from tests.unit.consolidation.histories import (
    many_units,
    period_changed,
    raised,
    report_version,
    review,
    withdrawal,
)

CLOCK = ManualClock(datetime(2023, 6, 20, tzinfo=UTC))
REVIEWER = Principal(username="pnv", role="reviewer")
UNITS = many_units(6)
WHOLE = Page()


def unit_account(code: str) -> Principal:
    return Principal(username=f"u-{code}", role="unit", unit_code=code)


async def one_by_one(context: ConsolidationContext, events: list[Any]) -> None:
    """Each event in its own transaction, through the per-event handlers."""
    handle = {s.contract: s.handler for s in subscriptions(Projector(CLOCK))}
    for e in events:
        async with context.store.transaction() as session:
            await handle[type(e)](session, e)


async def as_batch(context: ConsolidationContext, events: list[Any]) -> None:
    """The events as one fetched batch of report events, in one transaction."""
    async with context.store.transaction() as session:
        await Projector(CLOCK).on_report_events(session, events)


async def stamps(context: ConsolidationContext) -> dict[str, str]:
    async with context.store.reading() as session:
        return await store.every_answer_stamp(session)


async def completeness(
    context: ConsolidationContext, principal: Principal = REVIEWER, page: Page = WHOLE
) -> dict[str, Any]:
    body = await reading.completeness_answer(context, principal, "P", page)
    return dict(json.loads(body))


async def summary(
    context: ConsolidationContext, period_id: str = "P", page: Page = WHOLE
) -> dict[str, Any]:
    return dict(json.loads(await reading.summary_answer(context, REVIEWER, period_id, page)))


async def fresh_completeness(context: ConsolidationContext, principal: Principal) -> Any:
    """What the route answered before the cache: the view of a fresh read."""
    status = await reading.read_completeness(context, principal, "P")
    return views.period_completeness(status).model_dump(mode="json")


async def fresh_summary(context: ConsolidationContext, period_id: str = "P") -> Any:
    status = await reading.read_summary(context, REVIEWER, period_id)
    return views.summary(status).model_dump(mode="json")


def unit_event(code: str, name: str, version: int) -> UnitChanged:
    return UnitChanged.new(
        UnitState(
            unit_id=f"id-{code}",
            code=code,
            name=name,
            kind="ward",
            valid_from=date(2020, 1, 1),
            version=version,
        ),
        producer="test",
    )


async def test_the_stamp_moves_with_every_kind_of_change(engine: AsyncEngine) -> None:
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), period_changed("Q", UNITS)])
    seen = [await stamps(context)]

    async def moved(*periods: str) -> None:
        now = await stamps(context)
        for p in ("P", "Q"):
            assert (now[p] != seen[-1][p]) == (p in periods), p
        seen.append(now)

    code = UNITS[0].code
    await one_by_one(context, [report_version("P", code, 1)])  # the per-event path
    await moved("P")
    await one_by_one(context, [review("P", code, 1, "accepted")])
    await moved("P")
    await one_by_one(context, [withdrawal("P", code, 1)])
    await moved("P")
    await as_batch(  # a batch: each of its periods once
        context,
        [report_version("P", UNITS[1].code, 1), report_version("Q", UNITS[1].code, 1)],
    )
    await moved("P", "Q")
    await as_batch(context, [report_version("Q", UNITS[2].code, 1)])
    await moved("Q")
    await one_by_one(context, [raised("P", UNITS[1].code, "d1")])
    await moved("P")
    await one_by_one(context, [raised("P", UNITS[1].code, "d1", answer="Đã trả lời.")])
    await moved("P")
    # A period event moves every period (another period's comparison may change).
    await one_by_one(context, [period_changed("P", UNITS[:5], version=2)])
    await moved("P", "Q")
    # A unit event moves the periods the unit raised a difficulty in (its name is shown
    # there when the period does not expect it), and only those.
    await one_by_one(context, [unit_event("X1", "Đơn vị ngoài danh sách", 1)])
    await moved()
    await one_by_one(context, [raised("Q", "X1", "d2")])
    await moved("Q")
    await one_by_one(context, [unit_event("X1", "Tổ dân phố ngoài danh sách", 2)])
    await moved("Q")
    # What changes nothing moves nothing: a redelivered version, an older unit event.
    await one_by_one(context, [report_version("P", code, 1)])
    await as_batch(context, [report_version("Q", UNITS[2].code, 1)])
    await one_by_one(context, [period_changed("P", UNITS[:5], version=2)])
    await moved()


async def test_a_cached_answer_is_never_served_after_a_change(engine: AsyncEngine) -> None:
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), report_version("P", UNITS[0].code, 1)])
    changes: list[Any] = [
        lambda: one_by_one(context, [report_version("P", UNITS[1].code, 1)]),
        lambda: as_batch(
            context,
            [report_version("P", UNITS[2].code, 1), review("P", UNITS[0].code, 1, "returned")],
        ),
        lambda: one_by_one(context, [withdrawal("P", UNITS[1].code, 1)]),
        lambda: one_by_one(context, [raised("P", UNITS[2].code, "d1")]),
        lambda: one_by_one(context, [period_changed("P", UNITS[1:], version=2)]),
        lambda: one_by_one(context, [raised("P", "X1", "d2")]),  # a unit outside the set
        lambda: one_by_one(context, [unit_event("X1", "Tổ dân phố ngoài danh sách", 1)]),
    ]
    before = (await completeness(context), await summary(context))
    for change in changes:
        assert (await completeness(context), await summary(context)) == before  # cached
        await change()
        after = (await completeness(context), await summary(context))
        assert after[0] == await fresh_completeness(context, REVIEWER)
        assert after[1] == await fresh_summary(context)
        assert after != before, changes.index(change)
        before = after
    assert len(context.answers) == 2  # one completeness, one summary


async def test_the_summary_follows_the_period_it_compares_with(engine: AsyncEngine) -> None:
    context = context_of(engine)
    await one_by_one(
        context, [period_event("2023-H1"), submitted("18115", {"van_ban_ban_hanh": 7})]
    )
    alone = await summary(context, "2023-H1")
    assert alone["comparison"] is None
    # The same period a year earlier arrives: the cached summary is not served any more.
    await one_by_one(context, [period_event("2022-H1")])
    compared = await summary(context, "2023-H1")
    assert compared["comparison"]["period_id"] == "2022-H1"
    assert compared == await fresh_summary(context, "2023-H1")
    # A report in the earlier period changes the comparison's figures, not this period's
    # stamp: the summary still follows.
    earlier = submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1")
    await one_by_one(context, [earlier])
    assert await summary(context, "2023-H1") == await fresh_summary(context, "2023-H1")
    assert await summary(context, "2023-H1") != compared


async def test_a_unit_account_sees_only_its_own_row_whatever_is_cached(
    engine: AsyncEngine,
) -> None:
    context = context_of(engine)
    mine, other = UNITS[0].code, UNITS[1].code
    await one_by_one(
        context,
        [period_changed("P", UNITS), report_version("P", mine, 1), report_version("P", other, 1)],
    )
    whole = await completeness(context)  # a reviewer's read fills the cache first
    assert len(whole["units"]) == len(UNITS)
    own = await completeness(context, unit_account(mine))
    assert own == await fresh_completeness(context, unit_account(mine))
    assert set(own) == {"period_id", "title", "due_at", "status", "units"}
    assert [u["code"] for u in own["units"]] == [mine]
    assert [u["code"] for u in (await completeness(context, unit_account(other)))["units"]] == [
        other
    ]
    # A unit that is not expected sees the period and no row.
    assert (await completeness(context, unit_account("X9")))["units"] == []
    # Its page is of its own rows only.
    assert (await completeness(context, unit_account(mine), Page(offset=1)))["units"] == []
    with pytest.raises(DomainError):
        await reading.summary_answer(context, unit_account(mine), "P", WHOLE)
    with pytest.raises(DomainError):  # a unit role without a unit
        await reading.completeness_answer(context, Principal(username="x", role="unit"), "P", WHOLE)


async def test_pages_of_units_and_their_bounds(engine: AsyncEngine) -> None:
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), report_version("P", UNITS[3].code, 1)])
    whole, whole_summary = await completeness(context), await summary(context)
    codes = [u["code"] for u in whole["units"]]
    assert codes == [u.code for u in UNITS]
    for offset, limit in ((0, 2), (2, 2), (4, 5), (5, 1), (6, 1), (100, 3), (0, 10_000)):
        page = Page(offset=offset, limit=limit)
        got = await completeness(context, page=page)
        assert [u["code"] for u in got["units"]] == codes[offset : offset + limit]
        assert {k: v for k, v in got.items() if k != "units"} == {
            k: v for k, v in whole.items() if k != "units"
        }  # the counts stay the period's
        paged = await summary(context, page=page)
        assert (
            paged["completeness"]["units"]
            == whole_summary["completeness"]["units"][offset : offset + limit]
        )
        assert paged["sections"] == whole_summary["sections"]
    assert (await completeness(context, page=Page(offset=3)))["units"] == whole["units"][3:]


async def test_an_unknown_period_is_still_not_found(engine: AsyncEngine) -> None:
    context = context_of(engine)
    # A report before its period: the counter row (and its stamp) exists, the period not.
    await one_by_one(context, [report_version("P", UNITS[0].code, 1)])
    for read in (reading.completeness_answer, reading.summary_answer):
        with pytest.raises(DomainError) as caught:
            await read(context, REVIEWER, "P", WHOLE)
        assert caught.value.code == "period_not_found"
    assert len(context.answers) == 0
