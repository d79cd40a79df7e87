"""Projection handlers are idempotent and order-independent (SQLite, no broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import projections
from services.reminders.domain.plan import PeriodPlan, missing_units
from services.reminders.store import RemindersStore, known_units, load_plan, period_row
from shared.contracts.intake import ReportWithdrawal, ReportWithdrawn

from .clock import vn
from .events import period, report, review, unit


@pytest.fixture
async def session(store: RemindersStore) -> AsyncIterator[AsyncSession]:
    async with store.reading() as s:
        yield s


async def plan(session: AsyncSession) -> PeriodPlan:
    return await load_plan(session, await period_row(session, "2023-H1"))


async def test_older_unit_version_never_overwrites_a_newer_one(session: AsyncSession) -> None:
    await projections.unit_changed(session, unit(2, "moi@bachong.test"))
    await projections.unit_changed(session, unit(1, "cu@bachong.test"))
    await projections.unit_changed(session, unit(2, "cu@bachong.test"))

    units = await known_units(session, ["18115"])

    assert units["18115"].leader is not None
    assert units["18115"].leader.email == "moi@bachong.test"


async def test_period_opening_is_the_earlier_of_event_time_and_our_clock(
    session: AsyncSession,
) -> None:
    await projections.period_changed(session, period(1), vn(2023, 5, 2, 9))
    await projections.period_changed(session, period(2, due=vn(2023, 6, 12)), vn(2023, 5, 9))
    await projections.period_changed(session, period(1), vn(2023, 5, 10))

    view = (await plan(session)).period

    assert view.opened_at == vn(2023, 5, 2, 9)
    assert view.due_at == vn(2023, 6, 12)
    assert view.title == "Báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023"


async def test_report_steps_apply_in_version_order_whatever_the_arrival_order(
    session: AsyncSession,
) -> None:
    await projections.period_changed(session, period(1), vn(2023, 5, 2, 9))
    await projections.unit_changed(session, unit(1))
    await projections.report_reviewed(session, review(1, vn(2023, 6, 6)))
    await projections.report_submitted(session, report(1, vn(2023, 6, 5)))  # late arrival

    state = (await plan(session)).states["18115"]
    assert not state.reported and state.returned is not None
    assert state.returned.reason == "Thiếu số liệu"

    await projections.report_submitted(session, report(2, vn(2023, 6, 7)))
    assert (await plan(session)).states["18115"].reported

    withdrawal = ReportWithdrawn.new(
        ReportWithdrawal(
            report_id="r1",
            period_id="2023-H1",
            unit_code="18115",
            version=2,
            withdrawn_at=vn(2023, 6, 8),
        ),
        producer="intake",
    )
    await projections.report_withdrawn(session, withdrawal)
    current = await plan(session)
    assert not current.states["18115"].reported
    assert [u.state for u in missing_units(current)] == ["withdrawn"]

    await projections.report_submitted(session, report(1, vn(2023, 6, 9), report_id="r2"))
    assert (await plan(session)).states["18115"].reported
