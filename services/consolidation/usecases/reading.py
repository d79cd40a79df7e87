"""Reading a period's completeness and summary."""

from __future__ import annotations

from services.consolidation.context import ConsolidationContext
from services.consolidation.domain import Completeness, OwnProgress, Summary
from services.consolidation.usecases.common import (
    every_completeness,
    known_period,
    period_completeness,
    period_summary,
)
from shared.auth import Permission, Principal


def _own(status: Completeness, principal: Principal) -> OwnProgress:
    """A unit sees the period and its own row, nothing about other units."""
    return OwnProgress(status.period, status.unit(principal.unit_code or ""))


async def list_periods(
    context: ConsolidationContext, principal: Principal
) -> list[Completeness] | list[OwnProgress]:
    """Every known period with its completeness, newest deadline first (a unit account
    sees only its own row)."""
    async with context.store.reading() as session:
        statuses = await every_completeness(session)
    if principal.may(Permission.READ_REPORTS):
        return statuses
    return [_own(s, principal) for s in statuses]


async def read_completeness(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> Completeness | OwnProgress:
    """Who has reported in a period; a unit account sees only its own row."""
    reader = principal.may(Permission.READ_REPORTS)
    if not reader:
        principal.require_unit()
    async with context.store.reading() as session:
        status = await period_completeness(session, await known_period(session, period_id))
    return status if reader else _own(status, principal)


async def read_summary(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> Summary:
    """Figures by unit kind and overall, compiled narratives, difficulties, warnings."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        return await period_summary(session, period_id)


async def refresh_metrics(context: ConsolidationContext) -> None:
    """Set the completeness gauge of every known period (on start)."""
    async with context.store.reading() as session:
        statuses = await every_completeness(session)
    for status in statuses:
        context.metrics.set_completeness(status.period.period_id, status.ratio)
