"""Notifications that follow events rather than the schedule: an answer, an accepted report.

A notification is not a reminder: it is not a rule of the unit's track, never replaces or
delays one, and is sent whether or not the unit has reported. It shares the reminders'
machinery (dedupe key claimed before sending, channels, delivery log, events) and their
quiet-hours rule: one that falls due in quiet hours (or on a skipped day) waits for the end
of that quiet spell, like `opened` and `returned`.

Dedupe keys: `answered:<difficulty>:<answer time>` sends a corrected answer again but a
redelivered event never; `accepted:<report>:v<N>` once per report version.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from services.reminders.domain.models import ReminderPolicy, require_aware
from services.reminders.domain.schedule import ACCEPTED_PREFIX, ANSWERED_PREFIX, dedupe_key
from services.reminders.domain.timing import defer_to_sending_window, to_local
from shared.formatting import vn_datetime

NoticeKind = Literal["answered", "accepted"]

NOTICE_FAMILIES: tuple[NoticeKind, ...] = ("answered", "accepted")
ANSWERED_BY = "Phòng Nội vụ"


def answered_rule_id(difficulty_id: str, answered_at: datetime) -> str:
    """Rule id of the notice of one answer: the difficulty and the answer's instant (UTC)."""
    stamp = require_aware(answered_at, "answered_at").astimezone(UTC)
    return f"{ANSWERED_PREFIX}{difficulty_id}:{stamp:%Y%m%dT%H%M%S.%fZ}"


def accepted_rule_id(report_id: str, version: int) -> str:
    """Rule id of the notice that one version of a report was accepted."""
    return f"{ACCEPTED_PREFIX}{report_id}:v{version}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification to queue: what it is about, its dedupe key and its earliest send time.

    `subject_id` is the difficulty or report it is about and `version_at` the instant of the
    answer or review, so a newer answer can supersede an older one still waiting.
    """

    kind: NoticeKind
    rule_id: str
    dedupe_key: str
    period_id: str
    unit_code: str
    subject_id: str
    version_at: datetime
    not_before: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


def answered_notice(
    policy: ReminderPolicy,
    *,
    difficulty_id: str,
    period_id: str,
    unit_code: str,
    question: str,
    answer: str,
    answered_at: datetime | None,
    now: datetime,
) -> Notice | None:
    """The notice of an answer; None when the event carries no answer yet."""
    if answered_at is None or not answer.strip():
        return None
    rule_id = answered_rule_id(difficulty_id, answered_at)
    return Notice(
        kind="answered",
        rule_id=rule_id,
        dedupe_key=dedupe_key(period_id, unit_code, rule_id),
        period_id=period_id,
        unit_code=unit_code,
        subject_id=difficulty_id,
        version_at=answered_at,
        not_before=defer_to_sending_window(policy, require_aware(now, "now")),
        details={
            "question": _nfc(question.strip()),
            "answer": _nfc(answer.strip()),
            "answered_at": answered_at.isoformat(),
        },
    )


def accepted_notice(
    policy: ReminderPolicy,
    *,
    report_id: str,
    period_id: str,
    unit_code: str,
    version: int,
    reviewed_at: datetime,
    now: datetime,
) -> Notice:
    """The notice that a report version was accepted."""
    rule_id = accepted_rule_id(report_id, version)
    return Notice(
        kind="accepted",
        rule_id=rule_id,
        dedupe_key=dedupe_key(period_id, unit_code, rule_id),
        period_id=period_id,
        unit_code=unit_code,
        subject_id=report_id,
        version_at=require_aware(reviewed_at, "reviewed_at"),
        not_before=defer_to_sending_window(policy, require_aware(now, "now")),
        details={"version": version, "reviewed_at": reviewed_at.isoformat()},
    )


def notice_variables(
    policy: ReminderPolicy, kind: str, details: Mapping[str, Any]
) -> dict[str, object]:
    """The template variables proper to a notice family, times shown local HH:MM dd/mm/yyyy."""
    if kind == "answered":
        answered_at = datetime.fromisoformat(str(details["answered_at"]))
        return {
            "question": _nfc(str(details["question"])),
            "answer": _nfc(str(details["answer"])),
            "answered_by": ANSWERED_BY,
            "answered_at": vn_datetime(to_local(policy, answered_at), policy.zone),
        }
    if kind == "accepted":
        reviewed_at = datetime.fromisoformat(str(details["reviewed_at"]))
        return {
            "version": int(details["version"]),
            "reviewed_at": vn_datetime(to_local(policy, reviewed_at), policy.zone),
        }
    raise ValueError(f"unknown notice kind: {kind!r}")
