"""Idempotent consumers: claim an event id in the handler's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def claim_event(session: AsyncSession, table: Table, consumer: str, event_id: str) -> bool:
    """Record the event as processed; False when it already was (a duplicate)."""
    values = {"consumer": consumer, "event_id": event_id, "processed_at": datetime.now(UTC)}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert_stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    result = await session.execute(insert_stmt.values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))
