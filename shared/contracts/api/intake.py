"""Intake's HTTP contract: the bodies clients send and the answers intake gives.

The JSON is the one intake has always answered: instants of reports, versions, reviews,
attachments and the audit trail are written by `datetime.isoformat()` ("…+00:00"), those of
difficulty threads as pydantic writes them ("…Z"); both read back as aware datetimes.

Report bodies (`POST /v1/reports`, `PUT /v1/reports/{id}`, drafts) are not a model here: they
are validated against the period's form (`shared.forms.validate_report`), which answers every
problem at once in the `validation_failed` format, so their shape is the form's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainSerializer, WithJsonSchema

from shared.contracts.api import RequestModel, ResponseModel
from shared.contracts.intake import ReportStatus
from shared.contracts.registry import UnitKind
from shared.forms import FormDefinition

__all__ = [
    "ANSWER_MAX",
    "DIFFICULTY_TEXT_MAX",
    "REVIEW_REASON_MAX",
    "AnswerRequest",
    "AttachmentInfo",
    "AuditEntry",
    "ContentIssue",
    "DifficultyRequest",
    "DifficultyThread",
    "Draft",
    "DraftSource",
    "FormUnit",
    "Instant",
    "LeaderChange",
    "LeaderCheckView",
    "LeaderInfo",
    "MessageRequest",
    "PeriodForm",
    "PeriodInfo",
    "Receipt",
    "ReportAccepted",
    "ReportDetail",
    "ReportSummary",
    "ReportVersionView",
    "Review",
    "ReviewRequest",
    "ThreadMessage",
]

REVIEW_REASON_MAX = 5000
ANSWER_MAX = 20000
DIFFICULTY_TEXT_MAX = 5000


def _iso(value: datetime) -> str:
    return value.isoformat()


Instant = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware instant written as `isoformat()` ("2023-06-05T02:30:00+00:00")."""


# --- requests -------------------------------------------------------------------------


class ReviewRequest(RequestModel):
    """A reviewer's decision on the report's current version; `version` refuses the decision
    if the unit sent a newer one meanwhile."""

    model_config = ConfigDict(strict=True)

    decision: Literal["accepted", "returned"]
    reason: str = Field("", max_length=REVIEW_REASON_MAX * 2)
    version: int | None = Field(None, ge=1)


class AnswerRequest(RequestModel):
    """Phòng Nội vụ's answer to a difficulty."""

    model_config = ConfigDict(strict=True)

    answer: str = Field(max_length=ANSWER_MAX * 2)


class DifficultyRequest(RequestModel):
    """A unit raises a difficulty outside any report; without `period_id` it is filed under
    the unit's current period."""

    model_config = ConfigDict(strict=True)

    period_id: str | None = Field(None, min_length=1, max_length=32)
    text: str = Field(max_length=DIFFICULTY_TEXT_MAX * 2)


class MessageRequest(RequestModel):
    """A follow-up on a difficulty thread: the unit asks again, Phòng Nội vụ answers."""

    model_config = ConfigDict(strict=True)

    text: str = Field(max_length=ANSWER_MAX * 2)


# --- answers --------------------------------------------------------------------------


class ContentIssue(ResponseModel):
    """A problem in a report body: an error blocks sending, a warning is kept with it."""

    path: str
    code: str
    field: str
    label: str
    message: str
    severity: Literal["error", "warning"] = "warning"


class Receipt(ResponseModel):
    """What the unit keeps as proof of sending."""

    report_id: str
    period_id: str
    period_title: str
    unit_code: str
    unit_name: str
    version: int
    form_id: str
    form_version: str
    submitted_at: Instant
    on_time: bool
    content_sha256: str
    text: str


class ReportAccepted(ResponseModel):
    """The answer to a sent version (201 for the first, 200 for a new version)."""

    report_id: str
    version: int
    status: ReportStatus
    submitted_at: Instant
    first_submitted_at: Instant
    on_time: bool
    period_id: str
    unit_code: str
    receipt: Receipt
    content_sha256: str
    warnings: list[ContentIssue]


class Review(ResponseModel):
    """The latest review decision of a report, shown to the unit too."""

    decision: Literal["accepted", "returned"]
    reason: str
    version: int | None
    reviewed_by: str | None
    reviewed_at: Instant | None


class LeaderInfo(ResponseModel):
    """A leader in charge of mass-mobilisation work (plan II.5): name and title."""

    full_name: str
    title: str = ""


class LeaderCheckView(ResponseModel):
    """Plan II.5 as a version answered it: the leader the registry held when it was sent, and
    whether the unit confirmed it (`changed` false) or reported who is in charge now."""

    on_record: LeaderInfo | None
    confirmed: bool
    changed: bool
    reported: LeaderInfo | None


class LeaderChange(ResponseModel):
    """A unit's report whose current version reports a change of its leader in charge, for
    Phòng Nội vụ to bring into the registry."""

    report_id: str
    period_id: str
    unit_code: str
    unit_name: str
    version: int
    status: ReportStatus
    submitted_at: Instant
    on_record: LeaderInfo | None
    reported: LeaderInfo


class ReportSummary(ResponseModel):
    """A report without its content (listings)."""

    report_id: str
    period_id: str
    unit_code: str
    unit_name: str
    status: ReportStatus
    version: int
    form_id: str
    form_version: str
    first_submitted_at: Instant
    submitted_at: Instant
    on_time: bool
    review: Review | None
    withdrawn_at: Instant | None


class ReportDetail(ReportSummary):
    """A report with the content of its current version; `leader_check` for forms that have
    one (null for 2023.1 reports)."""

    content: dict[str, Any]
    content_sha256: str
    warnings: list[ContentIssue]
    leader_check: LeaderCheckView | None = None


class ReportVersionView(ResponseModel):
    """One stored version with its full content."""

    version: int
    submitted_at: Instant
    submitted_by: str
    content: dict[str, Any]
    content_sha256: str
    warnings: list[ContentIssue]
    leader_check: LeaderCheckView | None = None


class AuditEntry(ResponseModel):
    """One line of a report's audit trail."""

    at: Instant
    actor: str
    role: str
    action: str
    report_id: str | None
    difficulty_id: str | None
    details: dict[str, Any]


class AttachmentInfo(ResponseModel):
    """An attachment's metadata; the bytes come from `download`."""

    attachment_id: str
    report_id: str
    version: int
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: Instant
    download: str


class ThreadMessage(ResponseModel):
    """One message of a difficulty thread; the opening text is the first (its id is the
    thread's)."""

    message_id: str
    side: Literal["unit", "office"]
    author: str
    text: str
    posted_at: datetime


class DifficultyThread(ResponseModel):
    """A difficulty (vướng mắc) thread: the unit's text, Phòng Nội vụ's latest answer, and the
    whole exchange. `open` means it waits for Phòng Nội vụ (the unit wrote last), since
    `open_since`, for `age_days` whole days."""

    difficulty_id: str
    report_id: str | None
    period_id: str
    unit_code: str
    text: str
    raised_at: datetime
    answer: str
    answered_by: str
    answered_at: datetime | None
    raised_in_version: int | None
    answered: bool
    open: bool = False
    open_since: datetime | None = None
    age_days: int | None = None
    messages: list[ThreadMessage] = Field(default_factory=list)


class DraftSource(ResponseModel):
    """The earlier report a draft's head start came from, and what it filled."""

    report_id: str
    period_id: str
    period_title: str
    version: int
    form_version: str
    filled: list[str]
    """The paths filled, e.g. "sections.1.narrative", "phuong_huong" (empty places only)."""


class Draft(ResponseModel):
    """A unit's draft of its report for a period: the body as last saved, problems and all.

    A draft is not a report: nobody but the unit sees it, it counts nowhere and raises no
    vướng mắc; sending a version of the report (`POST /v1/reports`, `PUT /v1/reports/{id}`)
    removes it. `issues` would block sending as it stands, `warnings` would not; `ready`
    means no issue. `report_id` is the unit's report for the period when one was sent (the
    draft is then the next version)."""

    period_id: str
    unit_code: str
    content: dict[str, Any]
    saved_at: Instant
    saved_by: str
    revision: int
    prefilled_from: DraftSource | None
    issues: list[ContentIssue]
    warnings: list[ContentIssue]
    ready: bool
    report_id: str | None


class PeriodInfo(ResponseModel):
    """The period a form is filled for."""

    period_id: str
    kind: str
    title: str
    status: str
    due_at: Instant
    due_text: str
    window_start: date | None
    window_end: date | None
    content: str


class FormUnit(ResponseModel):
    """The unit a form is cut for, as the registry resolved it for the period."""

    code: str
    name: str
    kind: UnitKind
    tags: list[str]
    display_order: int
    leader: LeaderInfo | None = None
    """The leader the registry holds for the unit (plan II.5; the form asks to confirm it)."""


class PeriodForm(ResponseModel):
    """The form a unit fills for a period, without the parts that do not apply to it."""

    period: PeriodInfo
    unit: FormUnit | None
    form: FormDefinition
