"""The reminders service's HTTP contract: who has not reported, urge now, the delivery log.

The urging letter (`GET /v1/periods/{period_id}/urging-letter.docx`) is a .docx download,
not JSON. Instants are ISO 8601 with their offset as Python writes them
("2023-06-09T17:00:00+00:00"); `*_local` and `deadline` fields are the same instants as a
Vietnamese reader sees them (shared.formatting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from shared.contracts.api import RequestModel, ResponseModel

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Instant = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]
"""An aware instant, written as `datetime.isoformat()` gives it."""

MissingState = Literal["not_submitted", "returned", "withdrawn"]
Channel = Literal["email", "webhook", "none"]
Audience = Literal["unit", "escalation"]


class RemindRequest(RequestModel):
    """Which units to urge; all missing units when `units` is left out."""

    units: list[str] | None = Field(None, min_length=1, max_length=500)


class MissingUnit(ResponseModel):
    """A unit the period expects that has not (or no longer) reported."""

    code: str
    name: str
    state: MissingState
    reason: str | None = Field(description="Why the report was returned, when it was.")
    has_contact: bool = Field(description="Whether any e-mail, phone or webhook is known.")


class MissingUnits(ResponseModel):
    """Who still owes a period its report."""

    period_id: str
    title: str
    due_at: Instant
    deadline: str = Field(description="The local day of the deadline, dd/mm/yyyy.")
    status: Literal["open", "closed"]
    expected: int
    reported: int
    missing_count: int
    missing: tuple[MissingUnit, ...]


class SkippedUnit(ResponseModel):
    """A unit "urge now" did not urge, and why."""

    unit_code: str
    reason: Literal["already_reported", "already_requested"]


class UrgeResult(ResponseModel):
    """What an "urge now" request did: the units whose reminders are being sent, the others.

    The same `Idempotency-Key` (the request id) never urges a unit twice."""

    request_id: str
    queued: tuple[str, ...]
    skipped: tuple[SkippedUnit, ...]


class DeliveryEntry(ResponseModel):
    """One delivery of a reminder or notice: to whom, over which channel, with what outcome."""

    unit_code: str
    unit_name: str
    rule_id: str
    rule: str = Field(description="The rule's family: opened, before, due_day, overdue, …")
    audience: Audience
    trigger: Literal["schedule", "manual", "event"]
    requested_by: str | None
    channel: Channel
    recipient: str = Field(description="E-mail address, webhook (without its query) or phone.")
    scheduled_at: Instant
    at: Instant = Field(description="When the outcome was recorded (or the delivery created).")
    at_local: str = Field(description="`at` as HH:MM dd/mm/yyyy, local time.")
    outcome: Literal["pending", "sent", "failed", "undeliverable"]
    reason: str = Field(description="Why it failed, in Vietnamese; empty when sent.")
    reason_code: str
    attempts: int
    subject: str | None
    dedupe_key: str


class ScheduledReminder(ResponseModel):
    """A reminder the scheduler will send if the unit does not report, over one channel.

    Computed by the scheduler's own rules (`services/reminders/domain/schedule.py`): what
    was already sent and the units that have reported are not listed; a reminder due now
    and not yet sent is listed at the next moment a pass may send it."""

    unit_code: str
    unit_name: str
    rule: str = Field(description="The rule's family: opened, before, due_day, overdue, …")
    rule_id: str
    audience: Audience = Field(description="`escalation` goes to the leader and reviewers.")
    at: Instant
    at_local: str = Field(description="`at` as HH:MM dd/mm/yyyy, local time.")
    channel: Channel = Field(description="`none`: nobody can be reached, it will be logged so.")
