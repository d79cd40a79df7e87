"""The notification queue: notices written by event handlers, taken by the dispatcher.

An event handler queues a notice inside the event's transaction (its unique dedupe key makes
a redelivered or republished event a no-op) and marks the transaction with `NOTICES_QUEUED`
(`shared.db.notify_on_commit`), so the dispatcher looks at the queue once it has committed.
Sending always goes through the dispatcher, which claims the notice as a reminder under the
same dedupe key.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import db
from services.reminders.domain import Notice
from shared.db import dialect_insert

log = logging.getLogger(__name__)

PENDING = "pending"
CLAIMED = "claimed"
SUPERSEDED = "superseded"


NOTICES_QUEUED = "reminders_notices_queued"
"""The after-commit topic of a transaction that queued a notice: the dispatcher sends it."""


async def queue_notice(session: AsyncSession, notice: Notice, now: datetime) -> bool:
    """Queue a notice unless it is known or outdated; True when it was queued.

    A newer answer to the same difficulty supersedes an older one still waiting, and an
    older answer arriving late is dropped, so a unit never gets a stale answer after the
    current one.
    """
    table = db.notifications
    same_subject = (table.c.kind == notice.kind) & (table.c.subject_id == notice.subject_id)
    if notice.kind == "answered":
        # Writes first: SQLite takes its write lock before reading.
        await session.execute(
            update(table)
            .where(
                same_subject,
                table.c.status == PENDING,
                table.c.version_at < notice.version_at,
            )
            .values(status=SUPERSEDED)
        )
        newer = await session.execute(
            select(exists().where(same_subject, table.c.version_at > notice.version_at))
        )
        if newer.scalar():
            log.info("notice %s is older than a known answer; dropped", notice.dedupe_key)
            return False
    result = await session.execute(
        dialect_insert(session, table)
        .values(
            dedupe_key=notice.dedupe_key,
            kind=notice.kind,
            rule_id=notice.rule_id,
            period_id=notice.period_id,
            unit_code=notice.unit_code,
            subject_id=notice.subject_id,
            version_at=notice.version_at,
            details=dict(notice.details),
            queued_at=now,
            not_before=notice.not_before,
            status=PENDING,
        )
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    )
    return result.scalar_one_or_none() is not None


async def due_notice_ids(session: AsyncSession, now: datetime, *, limit: int = 500) -> list[int]:
    """Pending notices whose time has come, oldest first."""
    table = db.notifications
    query = (
        select(table.c.id)
        .where(table.c.status == PENDING, table.c.not_before <= now)
        .order_by(table.c.not_before, table.c.id)
        .limit(limit)
    )
    return [int(i) for i in (await session.execute(query)).scalars()]


async def take_notice(session: AsyncSession, notice_id: int, now: datetime) -> Any:
    """Mark a due pending notice claimed and return it; None if another process took it."""
    table = db.notifications
    result = await session.execute(
        update(table)
        .where(table.c.id == notice_id, table.c.status == PENDING, table.c.not_before <= now)
        .values(status=CLAIMED, claimed_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return (await session.execute(select(table).where(table.c.id == notice_id))).first()


async def next_notice_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the earliest waiting notice may be sent, if it is still in the future."""
    table = db.notifications
    query = select(func.min(table.c.not_before)).where(
        table.c.status == PENDING, table.c.not_before > now
    )
    value: datetime | None = (await session.execute(query)).scalar()
    return value
