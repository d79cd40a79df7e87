"""The local projection of the registry: units and periods, newest version wins."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.contracts.registry import PeriodChanged, UnitChanged


async def on_unit_changed(session: AsyncSession, event: UnitChanged) -> None:
    """Keep the local copy of a unit (the newest version wins)."""
    await store.upsert_unit(session, event.payload)


async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
    """Keep the local copy of a period and its expected units (the newest version wins)."""
    await store.upsert_period(session, event.payload)
