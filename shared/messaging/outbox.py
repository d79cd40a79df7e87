"""Writing events into the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.envelope import Envelope
from shared.db import insert_into, notify_on_commit

OUTBOX_WRITTEN = "outbox_written"
"""The after-commit topic of a transaction that queued events: the relay is woken."""


async def add_event(session: AsyncSession, table: Table, event: Envelope[Any]) -> None:
    """Queue an event for publishing; it is sent only if the transaction commits."""
    await session.execute(
        insert_into(table),
        {
            "event_id": str(event.event_id),
            "subject": event.subject,
            "payload": event.to_json(),
            "created_at": datetime.now(UTC),
            "attempts": 0,
        },
    )
    notify_on_commit(session, OUTBOX_WRITTEN)


async def add_events(session: AsyncSession, table: Table, events: Sequence[Envelope[Any]]) -> None:
    """Queue several events in one statement; sent only if the transaction commits."""
    if not events:
        return
    now = datetime.now(UTC)
    await session.execute(
        insert(table),
        [
            {
                "event_id": str(event.event_id),
                "subject": event.subject,
                "payload": event.to_json(),
                "created_at": now,
                "attempts": 0,
            }
            for event in events
        ],
    )
    notify_on_commit(session, OUTBOX_WRITTEN)
