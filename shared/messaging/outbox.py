"""Writing events into the outbox inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.envelope import Envelope

OUTBOX_DIRTY = "outbox_dirty"


async def add_event(session: AsyncSession, table: Table, event: Envelope[Any]) -> None:
    """Queue an event for publishing; it is sent only if the transaction commits."""
    await session.execute(
        insert(table).values(
            event_id=str(event.event_id),
            subject=event.subject,
            payload=event.to_json(),
            created_at=datetime.now(UTC),
            attempts=0,
        )
    )
    session.info[OUTBOX_DIRTY] = True
