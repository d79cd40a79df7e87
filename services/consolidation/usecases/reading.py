"""Reading a period's completeness and summary.

Both answers are served from a per-process cache of their serialized form, checked
against the periods' answers' stamps (one indexed read of a row or two per request) and
built again, once, when a stamp has moved (`services/consolidation/answers.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import store, views
from services.consolidation.answers import CachedAnswer, Page, Spliced
from services.consolidation.context import ConsolidationContext
from services.consolidation.domain import Completeness, OwnProgress, Summary
from services.consolidation.usecases.common import (
    every_completeness,
    known_period,
    period_completeness,
    period_summary,
)
from shared.auth import Permission, Principal

T = TypeVar("T")
R = TypeVar("R")


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


async def completeness_answer(
    context: ConsolidationContext, principal: Principal, period_id: str, page: Page
) -> bytes:
    """`read_completeness` as its serialized answer, with the page of units asked for:
    the whole view for readers, its own row for a unit account."""
    reader = principal.may(Permission.READ_REPORTS)
    if not reader:
        principal.require_unit()

    async def read(session: AsyncSession) -> tuple[Completeness, set[str]]:
        status = await period_completeness(session, await known_period(session, period_id))
        return status, {period_id}

    answer = await _cached(context, "completeness", period_id, read, views.completeness_answer)
    return answer.whole.page(page) if reader else answer.own_page(principal.unit_code or "", page)


async def read_summary(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> Summary:
    """Figures by unit kind and overall, compiled narratives, difficulties, warnings."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        return await period_summary(session, period_id)


async def summary_answer(
    context: ConsolidationContext, principal: Principal, period_id: str, page: Page
) -> bytes:
    """`read_summary` as its serialized answer, with the page of its completeness' units."""
    principal.require(Permission.READ_REPORTS)

    async def read(session: AsyncSession) -> tuple[Summary, set[str]]:
        summary = await period_summary(session, period_id)
        # Made of the period and of the one a year earlier it compares with.
        used = {period_id} | ({summary.earlier.period_id} if summary.earlier else set())
        return summary, used

    spliced: Spliced = await _cached(context, "summary", period_id, read, views.summary_answer)
    return spliced.page(page)


async def _cached(
    context: ConsolidationContext,
    kind: str,
    period_id: str,
    read: Callable[[AsyncSession], Awaitable[tuple[T, set[str]]]],
    render: Callable[[T], R],
) -> R:
    """The cached answer while the stamps of the periods it was made of have not moved,
    else one read and rendered now (and kept when every period it is made of has a stamp).

    The stamps are read before anything of the answer: what the answer then reads is at
    least as new as they are, and anything newer moved a stamp, so an answer is never
    kept under a stamp older than what it shows. Rendering is done after the reading
    session is closed."""
    cache = context.answers
    async with cache.lock(kind, period_id):
        held = cache.get(kind, period_id)
        async with context.store.reading() as session:
            if held is not None:
                now = await store.answer_stamps(session, held.stamps)
                if now == held.stamps:
                    return held.value  # type: ignore[no-any-return]
            stamps = await store.every_answer_stamp(session)
            state, used = await read(session)
        value = render(state)
        if used <= stamps.keys():
            cache.put(kind, period_id, CachedAnswer({p: stamps[p] for p in used}, value))
        return value


async def refresh_metrics(context: ConsolidationContext) -> None:
    """Set the completeness gauge of every known period (on start)."""
    async with context.store.reading() as session:
        statuses = await every_completeness(session)
    for status in statuses:
        context.metrics.set_completeness(status.period.period_id, status.ratio)
