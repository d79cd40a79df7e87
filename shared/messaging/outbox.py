"""Writing events into the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.envelope import Envelope
from shared.db import hand_over_on_commit, insert_into, notify_on_commit, shared

OUTBOX_WRITTEN = "outbox_written"
"""The after-commit topic of a transaction that queued events: the relay is woken, or handed
the rows it claimed in the transaction (`OUTBOX_CLAIM`)."""

OUTBOX_CLAIM = "outbox_claim"
"""The key under which the service's relay shares its claim with the database's sessions
(`Database.share`): a callable giving `(owner, claimed_until)` while the relay can publish at
once, None otherwise."""

Claimer = Callable[[], tuple[str, datetime] | None]


class OutboxRow(NamedTuple):
    """An outbox row as the relay publishes it: handed over after its commit, or claimed."""

    event_id: str
    subject: str
    payload: bytes


def _row(event: Envelope[Any], now: datetime, claim: tuple[str, datetime] | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": str(event.event_id),
        "subject": event.subject,
        "payload": event.to_json(),
        "created_at": now,
        "attempts": 0,
    }
    if claim is not None:
        row["claimed_by"], row["claimed_until"] = claim
    return row


def _claim(session: AsyncSession) -> tuple[str, datetime] | None:
    claimer: Claimer | None = shared(session, OUTBOX_CLAIM)
    return None if claimer is None else claimer()


def _queued(session: AsyncSession, rows: list[dict[str, Any]], claimed: bool) -> None:
    """After the commit: the relay gets the rows it claimed in this transaction (published
    without a claim transaction of its own), or is woken to claim them."""
    if claimed:
        handed = [OutboxRow(r["event_id"], r["subject"], r["payload"]) for r in rows]
        hand_over_on_commit(session, OUTBOX_WRITTEN, handed)
    else:
        notify_on_commit(session, OUTBOX_WRITTEN)


async def add_event(session: AsyncSession, table: Table, event: Envelope[Any]) -> None:
    """Queue an event for publishing; it is sent only if the transaction commits. While the
    service's relay is publishing, the row is written already claimed by it and handed to
    it after the commit."""
    claim = _claim(session)
    row = _row(event, datetime.now(UTC), claim)
    await session.execute(insert_into(table), row)
    _queued(session, [row], claim is not None)


async def add_events(session: AsyncSession, table: Table, events: Sequence[Envelope[Any]]) -> None:
    """Queue several events in one statement; sent only if the transaction commits."""
    if not events:
        return
    now = datetime.now(UTC)
    claim = _claim(session)
    rows = [_row(event, now, claim) for event in events]
    await session.execute(insert(table), rows)
    _queued(session, rows, claim is not None)
