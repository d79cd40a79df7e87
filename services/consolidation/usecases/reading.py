"""Reading a period's completeness and summary.

Both answers are served from a per-process cache of their serialized form, checked
against the periods' answers' stamps (one indexed read of a row or two per request) and
built again, once, when a stamp has moved (`services/consolidation/answers.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import store, views
from services.consolidation.answers import CachedAnswer, Page, Spliced
from services.consolidation.context import ConsolidationContext
from services.consolidation.domain import Completeness, OwnProgress, Summary
from services.consolidation.store import ConsolidationStore
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


async def completeness_answer(
    context: ConsolidationContext, principal: Principal, period_id: str, page: Page
) -> bytes:
    """`read_completeness` as its serialized answer, with the page of units asked for:
    the whole view for readers, its own row for a unit account."""
    reader = principal.may(Permission.READ_REPORTS)
    if not reader:
        principal.require_unit()
    answer: views.CompletenessAnswer = await _cached(context, "completeness", period_id)
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
    spliced: Spliced = await _cached(context, "summary", period_id)
    return spliced.page(page)


async def _read_completeness(session: AsyncSession, period_id: str) -> tuple[Any, set[str]]:
    status = await period_completeness(session, await known_period(session, period_id))
    return status, {period_id}


async def _read_summary(session: AsyncSession, period_id: str) -> tuple[Any, set[str]]:
    summary = await period_summary(session, period_id)
    # Made of the period and of the one a year earlier it compares with.
    used = {period_id} | ({summary.earlier.period_id} if summary.earlier else set())
    return summary, used


@dataclass(frozen=True)
class _Answer:
    """How an answer is read (the state and the periods it is made of) and rendered."""

    read: Callable[[AsyncSession, str], Awaitable[tuple[Any, set[str]]]]
    render: Callable[[Any], Any]


ANSWERS: dict[str, _Answer] = {
    "completeness": _Answer(_read_completeness, views.completeness_answer),
    "summary": _Answer(_read_summary, views.summary_answer),
}


def _fresh(answer: CachedAnswer, stamps: Mapping[str, str]) -> bool:
    return all(stamps.get(p) == stamp for p, stamp in answer.stamps.items())


async def _cached(context: ConsolidationContext, kind: str, period_id: str) -> Any:
    """The cached answer while the stamps of the periods it was made of have not moved,
    else one read and rendered now (`_build`)."""
    cache = context.answers
    async with cache.lock(kind, period_id):
        held = cache.get(kind, period_id)
        if held is not None:
            async with context.store.reading() as session:
                if _fresh(held, await store.answer_stamps(session, held.stamps)):
                    return held.value
        return await _build(context, kind, period_id)


async def _build(context: ConsolidationContext, kind: str, period_id: str) -> Any:
    """Read and render an answer, and keep it when every period it is made of has a stamp;
    called with the answer's lock held. Done in the service's `AnswerProcess` when it has
    one (the service's loop and interpreter keep serving meanwhile), else here."""
    if context.answer_process is not None:
        stamps, used, value = await context.answer_process.build(kind, period_id)
    else:
        stamps, used, value = await _read_and_render(context.store, kind, period_id)
    if used <= stamps.keys():
        context.answers.put(kind, period_id, CachedAnswer({p: stamps[p] for p in used}, value))
    return value


async def _read_and_render(
    db: ConsolidationStore, kind: str, period_id: str, *, in_thread: bool = True
) -> tuple[dict[str, str], set[str], Any]:
    """The stamps, the periods the answer is made of, and the rendered answer.

    The stamps are read before anything of the answer: what the answer then reads is at
    least as new as they are, and anything newer moved a stamp, so an answer is never
    kept under a stamp older than what it shows. Rendering is done after the reading
    session is closed (in a worker thread when on the service's loop)."""
    answer = ANSWERS[kind]
    async with db.reading() as session:
        stamps = await store.every_answer_stamp(session)
        state, used = await answer.read(session, period_id)
    value = await asyncio.to_thread(answer.render, state) if in_thread else answer.render(state)
    return stamps, used, value


async def refresh_answers(context: ConsolidationContext) -> int:
    """Build again, now, the answers of the periods held in the cache (both kinds, for
    every period one of them was read for) whose stamps have moved; how many were built.

    `AnswerRefresher` calls it after every change, so that a read after a change finds the
    answer built instead of paying for the build; the answers are built exactly as a read
    would build them (`_build`, under the same lock), so what is served is the same. A
    period no longer known (no stamp) is left to the reads (they answer 404)."""
    cache = context.answers
    periods = cache.periods()
    if not periods:
        return 0
    async with context.store.reading() as session:
        stamps = await store.every_answer_stamp(session)
    built = 0
    for period_id in periods:
        if period_id not in stamps:
            continue
        for kind in ANSWERS:
            async with cache.lock(kind, period_id):
                held = cache.peek(kind, period_id)
                if held is not None and _fresh(held, stamps):
                    continue
                await _build(context, kind, period_id)
                built += 1
    return built


async def refresh_metrics(context: ConsolidationContext) -> None:
    """Set the completeness gauge of every known period (on start)."""
    async with context.store.reading() as session:
        statuses = await every_completeness(session)
    for status in statuses:
        context.metrics.set_completeness(status.period.period_id, status.ratio)
