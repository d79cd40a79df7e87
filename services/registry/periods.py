"""Reporting calendar use cases: ad-hoc requests, deadline changes, closing and reopening."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain import (
    AD_HOC_FORM,
    Problem,
    Scope,
    deadline_problems,
    empty_scope_problem,
    next_ad_hoc_id,
    parse_scope,
    resolve_expected_units,
    title_problems,
    window_problems,
)
from services.registry.handlers import (
    all_periods,
    all_units,
    get_period,
    period_scopes,
    save_period,
)
from services.registry.units import raise_problems
from shared.clock import VN_TZ
from shared.contracts.registry import PeriodState


async def create_ad_hoc(
    session: AsyncSession,
    *,
    title: str,
    content: str,
    due_at: datetime,
    scope: dict[str, Any],
    window_start: date | None,
    window_end: date | None,
    now: datetime,
) -> tuple[PeriodState, Scope]:
    """Open an ad-hoc request ("báo cáo đột xuất") numbered YYYY-DX-NN in the year it is made."""
    units = await all_units(session)
    parsed, problems = parse_scope(scope, {u.code for u in units})
    problems = title_problems(title) + deadline_problems(due_at, now) + problems
    problems += window_problems(window_start, window_end)
    raise_problems(problems)
    assert parsed is not None
    expected = tuple(resolve_expected_units(units, parsed, due_at))
    if not expected:
        raise_problems([empty_scope_problem(due_at)])
    year = now.astimezone(VN_TZ).year
    period = PeriodState(
        period_id=next_ad_hoc_id(year, (p.period_id for p in await all_periods(session))),
        kind="ad_hoc",
        year=year,
        title=title.strip(),
        content=content.strip(),
        form_id=AD_HOC_FORM[0],
        form_version=AD_HOC_FORM[1],
        window_start=window_start,
        window_end=window_end,
        due_at=due_at,
        status="open",
        expected_units=expected,
        version=1,
    )
    return await save_period(session, None, period, parsed, now=now), parsed


async def update_period(
    session: AsyncSession, period_id: str, fields: dict[str, Any], *, now: datetime
) -> tuple[PeriodState, Scope]:
    """Change a period's title, content, deadline, data window, scope or status; an open
    period's expected units are re-resolved for its (new) deadline and scope."""
    current = await get_period(session, period_id)
    scope = (await period_scopes(session))[period_id]
    units = await all_units(session)
    problems: list[Problem] = []
    if "title" in fields:
        problems += title_problems(fields["title"])
        fields["title"] = fields["title"].strip()
    if "due_at" in fields and fields["due_at"] != current.due_at:
        problems += deadline_problems(fields["due_at"], now)
    if "scope" in fields:
        parsed, scope_problems = parse_scope(fields.pop("scope"), {u.code for u in units})
        problems += scope_problems
        scope = parsed or scope
    problems += window_problems(
        fields.get("window_start", current.window_start),
        fields.get("window_end", current.window_end),
    )
    raise_problems(problems)
    new = current.model_copy(update=fields)
    if new.status == "open":
        expected = tuple(resolve_expected_units(units, scope, new.due_at))
        if not expected:
            raise_problems([empty_scope_problem(new.due_at)])
        new = new.model_copy(update={"expected_units": expected})
    scope_changed = scope != (await period_scopes(session))[period_id]
    if new == current and not scope_changed:
        return current, scope  # nothing changed: no new version, no event
    new = new.model_copy(update={"version": current.version + 1})
    return await save_period(session, current, new, scope, now=now), scope
