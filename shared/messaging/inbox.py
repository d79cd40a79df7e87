"""Idempotent consumers: claim an event id in the handler's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import dialect_insert


async def claim_event(session: AsyncSession, table: Table, consumer: str, event_id: str) -> bool:
    """Record the event as processed; False when it already was (a duplicate)."""
    values = {"consumer": consumer, "event_id": event_id, "processed_at": datetime.now(UTC)}
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))
