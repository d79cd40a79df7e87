"""Reminder claims and delivery rows: the durable record of what was (to be) sent.

Every function runs inside the caller's transaction and starts with a write where it
writes at all, so SQLite takes its write lock first instead of failing to upgrade a read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import db
from services.reminders.channels import Outcome
from services.reminders.domain import PlannedReminder
from services.reminders.recipients import NO_CONTACT, REASONS, Target
from shared.contracts.reminders import ReminderDelivery, ReminderFailed, ReminderSent
from shared.db import dialect_insert
from shared.messaging.outbox import add_event

PRODUCER = "reminders"
PENDING = "pending"


async def claim_reminder(
    session: AsyncSession,
    planned: PlannedReminder,
    *,
    trigger: str,
    requested_by: str | None,
    now: datetime,
) -> int | None:
    """Insert the reminder under its unique dedupe key; None when it was already claimed."""
    statement = dialect_insert(session, db.reminders)
    result = await session.execute(
        statement.values(
            dedupe_key=planned.dedupe_key,
            period_id=planned.period_id,
            unit_code=planned.unit_code,
            rule_id=planned.rule_id,
            audience=planned.audience,
            trigger=trigger,
            requested_by=requested_by,
            scheduled_at=planned.scheduled_at,
            claimed_at=now,
        )
        .on_conflict_do_nothing(index_elements=[db.reminders.c.dedupe_key])
        .returning(db.reminders.c.id)
    )
    reminder_id = result.scalar_one_or_none()
    return int(reminder_id) if reminder_id is not None else None


async def set_message(session: AsyncSession, reminder_id: int, subject: str, body: str) -> None:
    """Store the rendered message, so a resumed delivery sends exactly the same text."""
    await session.execute(
        update(db.reminders)
        .where(db.reminders.c.id == reminder_id)
        .values(subject=subject, body=body)
    )


@dataclass(frozen=True, slots=True)
class Finished:
    """A delivery that reached its final outcome, for metrics after the commit."""

    channel: str
    outcome: str


async def add_deliveries(
    session: AsyncSession,
    reminder_id: int,
    planned: PlannedReminder,
    targets: Sequence[Target],
    *,
    now: datetime,
    lease_until: datetime,
) -> tuple[list[int], list[Finished]]:
    """One row per target: pending ones to send, and unusable ones recorded at once."""
    pending: list[int] = []
    finished: list[Finished] = []
    for target in targets:
        if target.problem is None:
            result = await session.execute(
                insert(db.deliveries)
                .values(
                    reminder_id=reminder_id,
                    channel=target.channel,
                    recipient=target.recipient,
                    status=PENDING,
                    reason="",
                    reason_code="",
                    attempts=0,
                    created_at=now,
                    leased_until=lease_until,
                )
                .returning(db.deliveries.c.id)
            )
            pending.append(int(result.scalar_one()))
            continue
        outcome = "undeliverable" if target.problem == NO_CONTACT else "failed"
        reason = REASONS.get(target.problem, target.problem)
        await session.execute(
            insert(db.deliveries).values(
                reminder_id=reminder_id,
                channel=target.channel,
                recipient=target.recipient,
                status=outcome,
                reason=reason,
                reason_code=target.problem,
                attempts=0,
                created_at=now,
                finished_at=now,
            )
        )
        delivery = ReminderDelivery(
            period_id=planned.period_id,
            unit_code=planned.unit_code,
            rule_id=planned.rule_id,
            channel=target.channel,
            recipient=target.recipient,
            outcome=outcome,
            reason=reason,
            at=now,
            dedupe_key=planned.dedupe_key,
            audience=planned.audience,
            reason_code=target.problem,
        )
        await add_event(
            session, db.outbox, ReminderFailed.new(delivery, producer=PRODUCER, occurred_at=now)
        )
        finished.append(Finished(target.channel, outcome))
    return pending, finished


async def load_delivery(session: AsyncSession, delivery_id: int) -> Any:
    """A delivery with its reminder's message, if it is still pending."""
    query = (
        select(
            db.deliveries.c.id,
            db.deliveries.c.channel,
            db.deliveries.c.recipient,
            db.reminders.c.dedupe_key,
            db.reminders.c.period_id,
            db.reminders.c.unit_code,
            db.reminders.c.rule_id,
            db.reminders.c.audience,
            db.reminders.c.subject,
            db.reminders.c.body,
        )
        .join(db.reminders, db.reminders.c.id == db.deliveries.c.reminder_id)
        .where(db.deliveries.c.id == delivery_id, db.deliveries.c.status == PENDING)
    )
    return (await session.execute(query)).first()


async def record_outcome(
    session: AsyncSession, job: Row[Any], outcome: Outcome, *, now: datetime
) -> bool:
    """Store the final outcome and its event; False if another process already did."""
    result = await session.execute(
        update(db.deliveries)
        .where(db.deliveries.c.id == job.id, db.deliveries.c.status == PENDING)
        .values(
            status=outcome.outcome,
            reason=outcome.reason,
            reason_code=outcome.reason_code,
            attempts=outcome.attempts,
            finished_at=now,
            leased_until=None,
        )
    )
    if not getattr(result, "rowcount", 0):
        return False
    delivery = ReminderDelivery(
        period_id=job.period_id,
        unit_code=job.unit_code,
        rule_id=job.rule_id,
        channel=job.channel,
        recipient=job.recipient,
        outcome=outcome.outcome,
        reason=outcome.reason,
        at=now,
        dedupe_key=job.dedupe_key,
        audience=job.audience,
        attempts=outcome.attempts,
        reason_code=outcome.reason_code,
    )
    contract = ReminderSent if outcome.outcome == "sent" else ReminderFailed
    await add_event(session, db.outbox, contract.new(delivery, producer=PRODUCER, occurred_at=now))
    return True


async def orphaned_deliveries(session: AsyncSession, wall_now: datetime) -> list[Any]:
    """Pending deliveries whose lease ran out: their process died while sending."""
    table = db.deliveries
    query = (
        select(table.c.id, table.c.leased_until)
        .where(table.c.status == PENDING, table.c.leased_until < wall_now)
        .order_by(table.c.id)
    )
    return list((await session.execute(query)).all())


async def take_over(
    session: AsyncSession, delivery_id: int, previous: datetime, lease_until: datetime
) -> bool:
    """Move an expired lease to this process; False if another process was faster."""
    table = db.deliveries
    result = await session.execute(
        update(table)
        .where(
            table.c.id == delivery_id,
            table.c.status == PENDING,
            table.c.leased_until == previous,
        )
        .values(leased_until=lease_until)
    )
    return bool(getattr(result, "rowcount", 0))


async def delivery_log(
    session: AsyncSession, period_id: str, *, unit_code: str | None = None, limit: int = 1000
) -> list[Any]:
    """Deliveries of a period, newest first."""
    query = (
        select(
            db.deliveries.c.id,
            db.deliveries.c.channel,
            db.deliveries.c.recipient,
            db.deliveries.c.status,
            db.deliveries.c.reason,
            db.deliveries.c.reason_code,
            db.deliveries.c.attempts,
            db.deliveries.c.created_at,
            db.deliveries.c.finished_at,
            db.reminders.c.dedupe_key,
            db.reminders.c.period_id,
            db.reminders.c.unit_code,
            db.reminders.c.rule_id,
            db.reminders.c.audience,
            db.reminders.c.trigger,
            db.reminders.c.requested_by,
            db.reminders.c.scheduled_at,
            db.reminders.c.subject,
        )
        .join(db.reminders, db.reminders.c.id == db.deliveries.c.reminder_id)
        .where(db.reminders.c.period_id == period_id)
        .order_by(db.deliveries.c.id.desc())
        .limit(limit)
    )
    if unit_code is not None:
        query = query.where(db.reminders.c.unit_code == unit_code)
    return list((await session.execute(query)).all())
