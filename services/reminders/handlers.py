"""Reminders projections: units, periods and report states rebuilt from events, and their reads.

Every handler is idempotent and order-independent: a unit or period event applies only when
its version is newer than the stored one; a report event only when it is a later step of the
same report (version, then submitted < reviewed < withdrawn) or, for a different report of
the same unit and period, when it happened later.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import db
from services.reminders.domain import (
    PeriodStatus,
    PeriodView,
    ReturnedForRevision,
    UnitState,
)
from shared.clock import VN_TZ
from shared.contracts.intake import ReportReviewed, ReportSubmitted, ReportWithdrawn
from shared.contracts.registry import Contacts, Leader, PeriodChanged, UnitChanged
from shared.errors import NotFound

STAGE_SUBMITTED = 0
STAGE_REVIEWED = 1
STAGE_WITHDRAWN = 2
TITLE_PREFIX = "Báo cáo công tác Dân vận chính quyền"

MissingState = Literal["not_submitted", "returned", "withdrawn"]


async def on_unit_changed(session: AsyncSession, event: UnitChanged) -> None:
    """Keep the unit's name, leader and contacts (newest version wins)."""
    unit = event.payload
    values: dict[str, Any] = {
        "code": unit.code,
        "name": unit.name,
        "must_report": unit.must_report,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "leader": unit.leader.model_dump(mode="json") if unit.leader else None,
        "contacts": unit.contacts.model_dump(mode="json"),
        "version": unit.version,
        "updated_at": event.occurred_at,
    }
    stored = (
        await session.execute(select(db.units.c.version).where(db.units.c.unit_id == unit.unit_id))
    ).scalar_one_or_none()
    if stored is None:
        await session.execute(insert(db.units).values(unit_id=unit.unit_id, **values))
    elif unit.version > stored:
        await session.execute(
            update(db.units).where(db.units.c.unit_id == unit.unit_id).values(**values)
        )


async def apply_period_changed(session: AsyncSession, event: PeriodChanged, now: datetime) -> None:
    """Keep the period, its deadline and expected units; remember when it was first open."""
    period = event.payload
    row = (
        await session.execute(
            select(db.periods.c.version, db.periods.c.opened_at).where(
                db.periods.c.period_id == period.period_id
            )
        )
    ).first()
    if row is not None and period.version <= row.version:
        return
    opened_at = row.opened_at if row is not None else None
    if opened_at is None and period.status == "open":
        # The registry's event time, unless our own clock is earlier (a test clock, or
        # a replay of an old event): the opening never lies in this service's future.
        opened_at = min(event.occurred_at, now)
    values: dict[str, Any] = {
        "kind": period.kind,
        "year": period.year,
        "title": period.title,
        "content": period.content,
        "window_start": period.window_start,
        "window_end": period.window_end,
        "due_at": period.due_at,
        "status": period.status,
        "expected_units": [
            {"code": u.code, "name": u.name, "display_order": u.display_order}
            for u in period.expected_units
        ],
        "opened_at": opened_at,
        "version": period.version,
        "updated_at": event.occurred_at,
    }
    if row is None:
        await session.execute(insert(db.periods).values(period_id=period.period_id, **values))
    else:
        await session.execute(
            update(db.periods).where(db.periods.c.period_id == period.period_id).values(**values)
        )


@dataclass(frozen=True)
class ReportStep:
    """One step in the life of a unit's report for a period, as the events tell it."""

    period_id: str
    unit_code: str
    report_id: str
    version: int
    stage: int
    status: str
    reported: bool
    at: datetime
    return_event_id: str | None = None
    return_reason: str | None = None


async def on_report_submitted(session: AsyncSession, event: ReportSubmitted) -> None:
    """A submitted (or amended) report counts as reported."""
    report = event.payload
    await apply_report_step(
        session,
        ReportStep(
            report.period_id,
            report.unit_code,
            report.report_id,
            report.version,
            STAGE_SUBMITTED,
            "submitted",
            True,
            report.submitted_at,
        ),
    )


async def on_report_withdrawn(session: AsyncSession, event: ReportWithdrawn) -> None:
    """A withdrawn report counts as not reported."""
    report = event.payload
    await apply_report_step(
        session,
        ReportStep(
            report.period_id,
            report.unit_code,
            report.report_id,
            report.version,
            STAGE_WITHDRAWN,
            "withdrawn",
            False,
            report.withdrawn_at,
        ),
    )


async def on_report_reviewed(session: AsyncSession, event: ReportReviewed) -> None:
    """An accepted report stays reported; a returned one is not, and keeps its reason."""
    review = event.payload
    returned = review.decision == "returned"
    await apply_report_step(
        session,
        ReportStep(
            review.period_id,
            review.unit_code,
            review.report_id,
            review.version,
            STAGE_REVIEWED,
            review.decision,
            not returned,
            review.reviewed_at,
            return_event_id=str(event.event_id) if returned else None,
            return_reason=review.reason if returned else None,
        ),
    )


async def apply_report_step(session: AsyncSession, step: ReportStep) -> None:
    """Store the step when it is later than what is stored."""
    table = db.unit_reports
    key = (table.c.period_id == step.period_id) & (table.c.unit_code == step.unit_code)
    row = (await session.execute(select(table).where(key))).first()
    if row is not None and not _is_later(step, row):
        return
    values: dict[str, Any] = {
        "report_id": step.report_id,
        "report_version": step.version,
        "stage": step.stage,
        "status": step.status,
        "reported": step.reported,
        "changed_at": step.at,
        "updated_at": step.at,
    }
    if step.return_event_id is not None:
        values.update(
            return_event_id=step.return_event_id,
            return_reason=step.return_reason or "",
            returned_at=step.at,
        )
    if row is None:
        await session.execute(
            insert(table).values(period_id=step.period_id, unit_code=step.unit_code, **values)
        )
    else:
        await session.execute(update(table).where(key).values(**values))


def _is_later(step: ReportStep, row: Row[Any]) -> bool:
    if step.report_id == row.report_id:
        return (step.version, step.stage) > (int(row.report_version), int(row.stage))
    changed_at: datetime = row.changed_at
    return step.at > changed_at


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


async def period_row(session: AsyncSession, period_id: str) -> Row[Any]:
    """The stored period, or a 404 error."""
    row = (
        await session.execute(select(db.periods).where(db.periods.c.period_id == period_id))
    ).first()
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
