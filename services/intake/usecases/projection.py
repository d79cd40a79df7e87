"""The local projection of the registry: units and periods, newest version wins."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.contracts.registry import (
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    UnitChanged,
)


async def on_unit_changed(session: AsyncSession, event: UnitChanged) -> None:
    """Keep the local copy of a unit (the newest version wins)."""
    await store.upsert_unit(session, event.payload)


async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
    """Keep the local copy of a period and its expected units (the newest version wins)."""
    await store.upsert_period(session, event.payload)


async def on_period_changed_v2(session: AsyncSession, event: PeriodChangedV2) -> None:
    """A period version's header: applied once its expected set is whole (shared/period_parts)."""
    whole = await store.stage_period_header(session, event)
    if whole is not None:
        await on_period_changed(session, whole)


async def on_period_expected_units(session: AsyncSession, event: PeriodExpectedUnits) -> None:
    """A part of a period version's expected set: the version is applied once it is whole."""
    whole = await store.stage_period_part(session, event)
    if whole is not None:
        await on_period_changed(session, whole)
