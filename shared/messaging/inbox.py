"""Idempotent consumers: claim an event id in the handler's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
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


async def claim_events(
    session: AsyncSession, table: Table, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """Record a batch of events as processed in one statement; the ids that were new (the
    others were already applied: duplicates)."""
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    now = datetime.now(UTC)
    # One statement with the rows as executemany parameters (SQLAlchemy's "insertmanyvalues":
    # the INSERT is compiled once and cached; `.values([...])` of 100 rows was compiled anew
    # for every batch, about 3 ms of CPU).
    statement = dialect_insert(session, table).on_conflict_do_nothing().returning(table.c.event_id)
    rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in unique]
    return {str(row) for row in (await session.execute(statement, rows)).scalars()}
