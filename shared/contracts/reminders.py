"""Events the reminders service publishes about deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from shared.contracts.envelope import Contract, Envelope

REMINDER_SENT = "danvan.reminders.reminder.sent.v1"
REMINDER_FAILED = "danvan.reminders.reminder.failed.v1"


class ReminderDelivery(Contract):
    """One reminder delivery attempt's outcome."""

    period_id: str
    unit_code: str
    rule_id: str
    channel: Literal["email", "webhook", "none"]
    recipient: str
    outcome: Literal["sent", "failed", "undeliverable"]
    reason: str = ""
    at: datetime
    dedupe_key: str = ""
    audience: str = "unit"
    attempts: int = 0
    reason_code: str = ""


class ReminderSent(Envelope[ReminderDelivery]):
    """A reminder reached its channel."""

    subject: ClassVar[str] = REMINDER_SENT


class ReminderFailed(Envelope[ReminderDelivery]):
    """A reminder could not be delivered after its retries."""

    subject: ClassVar[str] = REMINDER_FAILED
