"""The reminders' projections, kept from events: units, periods and each unit's report state;
and the notices an event asks for (an answer, an accepted report), queued in its transaction.

Each function runs in the consumer's transaction (the inbox claim and the change commit
together) and reaches the data through the store. Every update is idempotent and
order-independent: a unit or period event applies only when its version is newer than the
stored one; a report event only when it is a later step of the same report (version, then
submitted < reviewed < withdrawn) or, for a different report of the same unit and period,
when it happened later. Notices are queued under their dedupe key, so a redelivered event
queues nothing more; a transaction that queued one is marked `NOTICES_QUEUED`, and the
dispatcher sends it once that transaction has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import store
from services.reminders.domain import ReminderPolicy, accepted_notice, answered_notice
from services.reminders.webhook_addresses import WebhookAddressPolicy
from shared.contracts.intake import (
    DifficultyAnswered,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.db import notify_on_commit

log = logging.getLogger(__name__)

NOTICES_QUEUED = "reminders_notices_queued"
"""The after-commit topic of a transaction that queued a notice: the dispatcher sends it."""

STAGE_SUBMITTED = 0
STAGE_REVIEWED = 1
STAGE_WITHDRAWN = 2


async def unit_changed(
    session: AsyncSession, event: UnitChanged, *, webhooks: WebhookAddressPolicy | None = None
) -> None:
    """Keep the unit's name, leader and contacts (newest version wins).

    A webhook written with an address `webhooks` refuses is kept as the registry says (the
    registry is its source) and logged now; each reminder records the refusal with its
    reason in the delivery log instead of calling it. No name is resolved here: nothing
    waits for the network inside the event's transaction."""
    unit = event.payload
    url = unit.contacts.webhook_url
    refused = webhooks.literal_refusal(url) if webhooks is not None and url else None
    if refused is not None:
        log.warning("unit %s: its webhook will not be called: %s", unit.code, refused.reason)
    values: dict[str, Any] = {
        "code": unit.code,
        "name": unit.name,
        "must_report": unit.must_report,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "leader": unit.leader.model_dump(mode="json") if unit.leader else None,
        "contacts": unit.contacts.model_dump(mode="json"),
        "version": unit.version,
        "updated_at": event.occurred_at,
    }
    await store.upsert_unit(session, unit.unit_id, values)


async def period_changed(session: AsyncSession, event: PeriodChanged, now: datetime) -> None:
    """Keep the period, its deadline and expected units; remember when it was first open."""
    period = event.payload
    stored = await store.period_version(session, period.period_id)
    if stored is not None and period.version <= stored.version:
        return
    opened_at = stored.opened_at if stored is not None else None
    if opened_at is None and period.status == "open":
        # The registry's event time, unless our own clock is earlier (a test clock, or
        # a replay of an old event): the opening never lies in this service's future.
        opened_at = min(event.occurred_at, now)
    values: dict[str, Any] = {
        "kind": period.kind,
        "year": period.year,
        "title": period.title,
        "content": period.content,
        "window_start": period.window_start,
        "window_end": period.window_end,
        "due_at": period.due_at,
        "status": period.status,
        "expected_units": [
            {"code": u.code, "name": u.name, "display_order": u.display_order, "kind": u.kind}
            for u in period.expected_units
        ],
        "opened_at": opened_at,
        "version": period.version,
        "updated_at": event.occurred_at,
    }
    await store.save_period(session, period.period_id, values, exists_=stored is not None)


@dataclass(frozen=True)
class ReportStep:
    """One step in the life of a unit's report for a period, as the events tell it."""

    period_id: str
    unit_code: str
    report_id: str
    version: int
    stage: int
    status: str
    reported: bool
    at: datetime
    return_event_id: str | None = None
    return_reason: str | None = None


async def report_submitted(session: AsyncSession, event: ReportSubmitted) -> None:
    """A submitted (or amended) report counts as reported."""
    report = event.payload
    await apply_report_step(
        session,
        ReportStep(
            report.period_id,
            report.unit_code,
            report.report_id,
            report.version,
            STAGE_SUBMITTED,
            "submitted",
            True,
            report.submitted_at,
        ),
    )


async def report_withdrawn(session: AsyncSession, event: ReportWithdrawn) -> None:
    """A withdrawn report counts as not reported."""
    report = event.payload
    await apply_report_step(
        session,
        ReportStep(
            report.period_id,
            report.unit_code,
            report.report_id,
            report.version,
            STAGE_WITHDRAWN,
            "withdrawn",
            False,
            report.withdrawn_at,
        ),
    )


async def report_reviewed(session: AsyncSession, event: ReportReviewed) -> None:
    """An accepted report stays reported; a returned one is not, and keeps its reason."""
    review = event.payload
    returned = review.decision == "returned"
    await apply_report_step(
        session,
        ReportStep(
            review.period_id,
            review.unit_code,
            review.report_id,
            review.version,
            STAGE_REVIEWED,
            review.decision,
            not returned,
            review.reviewed_at,
            return_event_id=str(event.event_id) if returned else None,
            return_reason=review.reason if returned else None,
        ),
    )


async def apply_report_step(session: AsyncSession, step: ReportStep) -> None:
    """Store the step when it is later than what is stored."""
    stored = await store.report_step(session, step.period_id, step.unit_code)
    if stored is not None and not is_later(step, stored):
        return
    values: dict[str, Any] = {
        "report_id": step.report_id,
        "report_version": step.version,
        "stage": step.stage,
        "status": step.status,
        "reported": step.reported,
        "changed_at": step.at,
        "updated_at": step.at,
    }
    if step.return_event_id is not None:
        values.update(
            return_event_id=step.return_event_id,
            return_reason=step.return_reason or "",
            returned_at=step.at,
        )
    await store.save_report_step(
        session, step.period_id, step.unit_code, values, exists_=stored is not None
    )


def is_later(step: ReportStep, stored: store.StoredReportStep) -> bool:
    """Whether a step comes after the stored one: a later step of the same report, or a
    step of another report of the unit that happened later."""
    if step.report_id == stored.report_id:
        return (step.version, step.stage) > (stored.version, stored.stage)
    return step.at > stored.changed_at


async def queue_answer_notice(
    session: AsyncSession, event: DifficultyAnswered, policy: ReminderPolicy, now: datetime
) -> bool:
    """Queue the notice of Phòng Nội vụ's answer to a unit's difficulty; True if queued."""
    difficulty = event.payload
    notice = answered_notice(
        policy,
        difficulty_id=difficulty.difficulty_id,
        period_id=difficulty.period_id,
        unit_code=difficulty.unit_code,
        question=difficulty.text,
        answer=difficulty.answer,
        answered_at=difficulty.answered_at,
        now=now,
    )
    if notice is None or not await store.queue_notice(session, notice, now):
        return False
    notify_on_commit(session, NOTICES_QUEUED)
    return True


async def queue_acceptance_notice(
    session: AsyncSession, event: ReportReviewed, policy: ReminderPolicy, now: datetime
) -> bool:
    """Queue the notice that a report version was accepted; True if queued."""
    review = event.payload
    if review.decision != "accepted":
        return False
    notice = accepted_notice(
        policy,
        report_id=review.report_id,
        period_id=review.period_id,
        unit_code=review.unit_code,
        version=review.version,
        reviewed_at=review.reviewed_at,
        now=now,
    )
    if not await store.queue_notice(session, notice, now):
        return False
    notify_on_commit(session, NOTICES_QUEUED)
    return True
