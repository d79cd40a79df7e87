"""Reads several use cases share: a period, its completeness from the counters, its summary."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import store
from services.consolidation.domain import (
    Completeness,
    PeriodInfo,
    PeriodProgress,
    StoredStanding,
    Summary,
    completeness,
    completeness_from_progress,
    earlier_period,
    summarise,
)
from shared.errors import NotFound
from shared.forms import FormDefinition, load_form


def unknown_period(period_id: str) -> NotFound:
    """The error for a period whose event has not arrived."""
    return NotFound(
        f"Chưa có dữ liệu tổng hợp của kỳ báo cáo «{period_id}».", code="period_not_found"
    )


async def known_period(session: AsyncSession, period_id: str) -> PeriodInfo:
    """A period; NotFound until its period event has arrived."""
    period = await store.load_period(session, period_id)
    if period is None:
        raise unknown_period(period_id)
    return period


async def completeness_of(
    session: AsyncSession,
    period: PeriodInfo,
    progress: PeriodProgress | None,
    standings: dict[str, StoredStanding],
) -> Completeness:
    """A period's completeness from its running counters and stored standings.

    Counted from the reports only for a period whose counters do not match its version,
    which happens only in a database upgraded from before the counters until the period's
    next event counts it (services/consolidation/README.md)."""
    if progress is None or progress.period_version != period.version:
        return completeness(
            period, await store.period_reports(session, period.period_id, with_content=False)
        )
    return completeness_from_progress(period, progress.counters, standings)


async def period_completeness(session: AsyncSession, period: PeriodInfo) -> Completeness:
    """One period's completeness, read from the counters."""
    progress, standings = await store.stored_completeness(session, [period.period_id])
    return await completeness_of(
        session, period, progress.get(period.period_id), standings.get(period.period_id, {})
    )


async def every_completeness(session: AsyncSession) -> list[Completeness]:
    """Every known period's completeness, newest deadline first: three statements, however
    many periods there are."""
    periods = await store.all_periods(session)
    progress, standings = await store.stored_completeness(session)
    return [
        await completeness_of(session, p, progress.get(p.period_id), standings.get(p.period_id, {}))
        for p in periods
    ]


async def period_summary(session: AsyncSession, period_id: str) -> Summary:
    """A period's consolidation, with the same period a year earlier when it is known."""
    period = await known_period(session, period_id)
    names = await store.unit_names(session)
    form = load_form(period.form_id, period.form_version)
    earlier = earlier_period(period, await store.all_periods(session))
    # The year before is read in this period's form, so the figures compared mean the same
    # even when it was reported on an earlier version of the form (domain/versions.py).
    earlier_summary = await _summary(session, earlier, form, None, names) if earlier else None
    return await _summary(session, period, form, earlier_summary, names)


async def _summary(
    session: AsyncSession,
    period: PeriodInfo,
    form: FormDefinition,
    earlier: Summary | None,
    names: dict[str, str],
) -> Summary:
    return summarise(
        period,
        form,
        await store.period_reports(session, period.period_id, with_content=True),
        await store.period_difficulties(session, period.period_id),
        earlier=earlier,
        unit_names=names,
    )
