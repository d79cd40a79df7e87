"""Events intake publishes about reports and difficulties."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from shared.contracts.envelope import Contract, Envelope
from shared.contracts.registry import Leader

REPORT_SUBMITTED = "danvan.intake.report.submitted.v1"
REPORT_WITHDRAWN = "danvan.intake.report.withdrawn.v1"
REPORT_REVIEWED = "danvan.intake.report.reviewed.v1"
DIFFICULTY_RAISED = "danvan.intake.difficulty.raised.v1"
DIFFICULTY_ANSWERED = "danvan.intake.difficulty.answered.v1"
DIFFICULTY_FOLLOWED_UP = "danvan.intake.difficulty.followed_up.v1"

ReportStatus = Literal["submitted", "returned", "accepted", "withdrawn"]


class ReportIssue(Contract):
    """A validation warning kept with an accepted report."""

    path: str
    code: str
    field: str
    label: str
    message: str


class LeaderCheckAnswer(Contract):
    """Plan II.5 as a version answered it (forms with a leader check, 2023.2 on): the leader
    the registry held for the unit when the version was sent (intake's projection; name and
    title only), and whether the unit confirmed it or reported who is in charge now."""

    on_record: Leader | None = None
    confirmed: bool
    reported: Leader | None = None


class ReportVersion(Contract):
    """One version of a unit's report, with its full content; `leader_check` is set when the
    form has one (a reported change of leader reaches Phòng Nội vụ here and in `content`)."""

    report_id: str
    period_id: str
    unit_code: str
    version: int
    status: ReportStatus
    form_id: str
    form_version: str
    first_submitted_at: datetime
    submitted_at: datetime
    on_time: bool
    content: dict[str, Any]
    content_sha256: str
    warnings: tuple[ReportIssue, ...] = ()
    leader_check: LeaderCheckAnswer | None = None


class ReportWithdrawal(Contract):
    """A report withdrawn by its unit."""

    report_id: str
    period_id: str
    unit_code: str
    version: int
    withdrawn_at: datetime


class ReportReview(Contract):
    """Phòng Nội vụ's decision on a report version."""

    report_id: str
    period_id: str
    unit_code: str
    version: int
    decision: Literal["accepted", "returned"]
    reason: str = ""
    reviewed_by: str
    reviewed_at: datetime


class Difficulty(Contract):
    """A difficulty (vướng mắc) raised by a unit, in a report (`report_id`) or on its own
    (`report_id` null, filed under a period all the same), with the latest answer once given."""

    difficulty_id: str
    report_id: str | None
    period_id: str
    unit_code: str
    text: str
    raised_at: datetime
    answer: str = ""
    answered_by: str = ""
    answered_at: datetime | None = None


class DifficultyMessage(Contract):
    """A unit's follow-up on its difficulty thread (the thread waits for Phòng Nội vụ again).

    Phòng Nội vụ's messages on a thread are answers and travel as `DifficultyAnswered`."""

    difficulty_id: str
    report_id: str | None
    period_id: str
    unit_code: str
    message_id: str
    author: str
    text: str
    posted_at: datetime


class ReportSubmitted(Envelope[ReportVersion]):
    """A unit submitted (or amended) a report; carries the full version."""

    subject: ClassVar[str] = REPORT_SUBMITTED


class ReportWithdrawn(Envelope[ReportWithdrawal]):
    """A unit withdrew its report."""

    subject: ClassVar[str] = REPORT_WITHDRAWN


class ReportReviewed(Envelope[ReportReview]):
    """A reviewer accepted or returned a report."""

    subject: ClassVar[str] = REPORT_REVIEWED


class DifficultyRaised(Envelope[Difficulty]):
    """A unit raised a difficulty that Phòng Nội vụ must answer."""

    subject: ClassVar[str] = DIFFICULTY_RAISED


class DifficultyAnswered(Envelope[Difficulty]):
    """Phòng Nội vụ answered a difficulty (each answer on the thread: `answer` is the latest;
    the unit is told by mail)."""

    subject: ClassVar[str] = DIFFICULTY_ANSWERED


class DifficultyFollowedUp(Envelope[DifficultyMessage]):
    """A unit wrote again on its difficulty thread."""

    subject: ClassVar[str] = DIFFICULTY_FOLLOWED_UP
