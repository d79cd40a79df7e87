"""What several use cases share: refusing with problems, the calendar's re-resolution of open
periods after units changed, and a year's periodic reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import store
from services.registry.domain import (
    Problem,
    RegimeRule,
    Scope,
    regime_periods,
    resolve_expected_units,
)
from shared.clock import VN_TZ, Clock
from shared.contracts.registry import PeriodState
from shared.errors import DomainError

CONFLICT_CODES = frozenset({"duplicate_code", "reorganisation_already_applied"})


def raise_problems(problems: Sequence[Problem]) -> None:
    """Refuse with the first problem's message and code, listing them all in the details."""
    if not problems:
        return
    first = problems[0]
    raise DomainError(
        first.message,
        code=first.code,
        status=409 if first.code in CONFLICT_CODES else 422,
        details={"field": first.field, "problems": [p.as_dict() for p in problems]},
    )


def local_today(clock: Clock) -> date:
    """Today in Asia/Ho_Chi_Minh."""
    return clock.now().astimezone(VN_TZ).date()


def as_local_instant(value: datetime) -> datetime:
    """A deadline without an offset is read as Asia/Ho_Chi_Minh time."""
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value


async def refresh_open_periods(session: AsyncSession, now: datetime) -> list[PeriodState]:
    """Re-resolve the expected units of every open period after units changed; a period whose
    set changed gets a new version and a PeriodChanged (consumers never recompute)."""
    units = await store.all_units(session)
    scopes = await store.period_scopes(session)
    changed: list[PeriodState] = []
    for period in await store.all_periods(session):
        if period.status != "open":
            continue
        scope = scopes[period.period_id]
        expected = tuple(resolve_expected_units(units, scope, period.due_at))
        if expected == period.expected_units:
            continue
        new = period.model_copy(update={"expected_units": expected, "version": period.version + 1})
        changed.append(await store.save_period(session, period, new, scope, now=now))
    return changed


async def ensure_regime_year(
    session: AsyncSession, year: int, rules: Sequence[RegimeRule], *, now: datetime
) -> list[PeriodState]:
    """Create the year's periodic reports that do not exist yet; returns the year's periods."""
    known = {p.period_id: p for p in await store.all_periods(session)}
    units = await store.all_units(session)
    result: list[PeriodState] = []
    for planned in regime_periods(year, rules):
        if planned.period_id in known:
            result.append(known[planned.period_id])
            continue
        scope = Scope(all=True)
        period = PeriodState(
            period_id=planned.period_id,
            kind=planned.kind,
            year=planned.year,
            title=planned.title,
            form_id=planned.form[0],
            form_version=planned.form[1],
            window_start=planned.window_start,
            window_end=planned.window_end,
            due_at=planned.due_at,
            status="open",
            expected_units=tuple(resolve_expected_units(units, scope, planned.due_at)),
            version=1,
        )
        result.append(await store.save_period(session, None, period, scope, now=now))
    return result
