"""Reads of the reminders projections: a period's expected units, their state and contacts."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import db
from services.reminders.domain import (
    PeriodStatus,
    PeriodView,
    ReturnedForRevision,
    UnitState,
)
from shared.clock import VN_TZ
from shared.contracts.registry import Contacts, Leader
from shared.errors import NotFound

TITLE_PREFIX = "Báo cáo công tác Dân vận chính quyền"

MissingState = Literal["not_submitted", "returned", "withdrawn"]


def reminder_title(title: str) -> str:
    """The title messages use: the registry's "6 tháng đầu năm 2023" gets the report's name."""
    title = unicodedata.normalize("NFC", title.strip())
    if title.lower().startswith("báo cáo"):
        return title
    return f"{TITLE_PREFIX} {title}"


def period_view(row: Row[Any]) -> PeriodView:
    """What the schedule needs of a stored period."""
    status = {"open": PeriodStatus.OPEN, "closed": PeriodStatus.CLOSED}.get(
        row.status, PeriodStatus.DRAFT
    )
    due_at: datetime = row.due_at
    opened_at: datetime = row.opened_at or row.updated_at
    # A period without a data window (an ad-hoc request) covers up to its deadline.
    last_day = (due_at.astimezone(VN_TZ) - timedelta(microseconds=1)).date()
    return PeriodView(
        period_id=row.period_id,
        title=reminder_title(row.title),
        due_at=due_at,
        status=status,
        data_window_start=row.window_start or min(opened_at.astimezone(VN_TZ).date(), last_day),
        data_window_end=row.window_end or last_day,
        opened_at=opened_at,
        content=row.content or None,
    )


@dataclass(frozen=True)
class KnownUnit:
    """A unit as the registry last described it: where its reminders go."""

    code: str
    name: str
    leader: Leader | None
    contacts: Contacts

    @property
    def has_contact(self) -> bool:
        """Whether any e-mail, phone or webhook is known for the unit's own reminders."""
        leader = self.leader
        return bool(
            self.contacts.emails
            or self.contacts.phone
            or self.contacts.webhook_url
            or (leader is not None and (leader.email or leader.phone))
        )


@dataclass(frozen=True)
class ExpectedUnit:
    """A unit a period expects, with its name as the registry resolved it."""

    code: str
    name: str
    display_order: int = 0


@dataclass
class PeriodPlan:
    """Everything the scheduler reads for one period, in one snapshot."""

    period: PeriodView
    expected: list[ExpectedUnit]
    states: dict[str, UnitState]
    units: dict[str, KnownUnit]
    sent: set[str] = field(default_factory=set)
    report_status: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[ExpectedUnit]:
        """Expected units that have not reported, in registry order."""
        return [u for u in self.expected if not self.states[u.code].reported]


async def find_period_row(session: AsyncSession, period_id: str) -> Row[Any] | None:
    """The stored period, if its event has arrived."""
    return (
        await session.execute(select(db.periods).where(db.periods.c.period_id == period_id))
    ).first()


async def period_row(session: AsyncSession, period_id: str) -> Row[Any]:
    """The stored period, or a 404 error."""
    row = await find_period_row(session, period_id)
    if row is None:
        raise NotFound(f"Không tìm thấy kỳ báo cáo «{period_id}».", code="period_not_found")
    return row


async def load_plan(
    session: AsyncSession, row: Row[Any], *, only: Iterable[str] | None = None
) -> PeriodPlan:
    """The period's expected units with their report state, contacts and sent reminder keys."""
    expected = [
        ExpectedUnit(str(u["code"]), str(u["name"]), int(u.get("display_order", 0)))
        for u in row.expected_units or ()
    ]
    if only is not None:
        wanted = set(only)
        expected = [u for u in expected if u.code in wanted]
    codes = [u.code for u in expected]
    table = db.unit_reports
    reports = {
        r.unit_code: r
        for r in (
            await session.execute(
                select(table).where(
                    table.c.period_id == row.period_id, table.c.unit_code.in_(codes)
                )
            )
        ).all()
    }
    states = {code: unit_state(code, reports.get(code)) for code in codes}
    sent = set(
        (
            await session.execute(
                select(db.reminders.c.dedupe_key).where(
                    db.reminders.c.period_id == row.period_id,
                    db.reminders.c.unit_code.in_(codes),
                )
            )
        ).scalars()
    )
    return PeriodPlan(
        period=period_view(row),
        expected=expected,
        states=states,
        units=await known_units(session, codes),
        sent=sent,
        report_status={code: r.status for code, r in reports.items()},
    )


def unit_state(code: str, report: Row[Any] | None) -> UnitState:
    """The schedule's view of a unit's report row (no row: not reported)."""
    if report is None:
        return UnitState(unit_code=code, reported=False)
    returned = None
    if report.status == "returned" and report.return_event_id and report.returned_at:
        returned = ReturnedForRevision(
            event_id=report.return_event_id,
            reason=report.return_reason or "",
            returned_at=report.returned_at,
        )
    return UnitState(unit_code=code, reported=bool(report.reported), returned=returned)


async def known_units(session: AsyncSession, codes: Iterable[str]) -> dict[str, KnownUnit]:
    """The current description of each unit code the registry has published."""
    query = select(db.units).where(db.units.c.code.in_(list(codes)))
    rows = (await session.execute(query)).all()
    newest: dict[str, Row[Any]] = {}
    for r in rows:
        # A code can be reused after a merger; the version still in force is the current one.
        current = newest.get(r.code)
        if current is None or (r.valid_to is None, r.valid_from) > (
            current.valid_to is None,
            current.valid_from,
        ):
            newest[r.code] = r
    return {
        code: KnownUnit(
            code=code,
            name=r.name,
            leader=Leader.model_validate(r.leader) if r.leader else None,
            contacts=Contacts.model_validate(r.contacts or {}),
        )
        for code, r in newest.items()
    }


async def open_period_rows(session: AsyncSession) -> list[Row[Any]]:
    """Every open period, earliest deadline first."""
    return list(
        (
            await session.execute(
                select(db.periods)
                .where(db.periods.c.status == "open")
                .order_by(db.periods.c.due_at, db.periods.c.period_id)
            )
        ).all()
    )


@dataclass(frozen=True)
class MissingUnit:
    """A unit that has not (or no longer) reported, as reviewers see it."""

    code: str
    name: str
    state: MissingState
    reason: str | None
    has_contact: bool


def missing_units(plan: PeriodPlan) -> list[MissingUnit]:
    """Who still owes the period a report, with why and whether they can be reached."""
    result = []
    for unit in plan.missing():
        status = plan.report_status.get(unit.code)
        state: MissingState = (
            "returned" if status == "returned" else "withdrawn" if status else "not_submitted"
        )
        returned = plan.states[unit.code].returned
        known = plan.units.get(unit.code)
        result.append(
            MissingUnit(
                code=unit.code,
                name=unit.name,
                state=state,
                reason=returned.reason if returned is not None else None,
                has_contact=known is not None and known.has_contact,
            )
        )
    return result
