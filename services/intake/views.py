"""Intake's answers (`shared.contracts.api.intake`) and event payloads, built from table rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.intake.domain import leader_answer, waited_days
from shared.contracts.api.intake import (
    AttachmentInfo,
    AuditEntry,
    ContentIssue,
    DifficultyThread,
    LeaderChange,
    LeaderCheckView,
    LeaderInfo,
    ReportDetail,
    ReportSummary,
    ReportVersionView,
    Review,
    ThreadMessage,
)
from shared.contracts.intake import Difficulty, DifficultyMessage, ReportIssue
from shared.contracts.registry import Leader
from shared.forms import FormDefinition


def review_view(row: Any) -> Review | None:
    """The latest review decision of a report, shown to the unit too."""
    if row.review_decision is None:
        return None
    return Review(
        decision=row.review_decision,
        reason=row.review_reason or "",
        version=row.review_version,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "report_id": row.report_id,
        "period_id": row.period_id,
        "unit_code": row.unit_code,
        "unit_name": row.unit_name,
        "status": row.status,
        "version": row.version,
        "form_id": row.form_id,
        "form_version": row.form_version,
        "first_submitted_at": row.first_submitted_at,
        "submitted_at": row.submitted_at,
        "on_time": row.on_time,
        "review": review_view(row),
        "withdrawn_at": row.withdrawn_at,
    }


def report_summary(row: Any) -> ReportSummary:
    """A report without its content (for listings)."""
    return ReportSummary(**_summary_fields(row))


def issues(stored: list[dict[str, Any]]) -> list[ContentIssue]:
    """Stored issues (warnings) as the answers carry them."""
    return [ContentIssue.model_validate(issue) for issue in stored]


def leader_info(leader: Leader | dict[str, Any] | None) -> LeaderInfo | None:
    """A leader's name and title as the answers show them (contacts stay in the registry)."""
    if leader is None:
        return None
    known = leader if isinstance(leader, Leader) else Leader.model_validate(leader)
    return LeaderInfo(full_name=known.full_name, title=known.title)


def leader_check_view(form: FormDefinition, version: Any) -> LeaderCheckView | None:
    """How a version answered the leader check (None for forms without one)."""
    answer = leader_answer(form, version.content)
    if version.leader_changed is None or answer is None:
        return None
    confirmed = bool(answer.get("confirmed"))
    return LeaderCheckView(
        on_record=leader_info(version.leader_on_record),
        confirmed=confirmed,
        changed=not confirmed,
        reported=None
        if confirmed
        else LeaderInfo(full_name=answer.get("full_name") or "", title=answer.get("title") or ""),
    )


def version_view(row: Any, form: FormDefinition) -> ReportVersionView:
    """One stored version with its full content."""
    return ReportVersionView(
        version=row.version,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        content=row.content,
        content_sha256=row.content_sha256,
        warnings=issues(row.warnings),
        leader_check=leader_check_view(form, row),
    )


def report_view(row: Any, version: Any, form: FormDefinition) -> ReportDetail:
    """A report with the content of its current version."""
    return ReportDetail(
        **_summary_fields(row),
        content=version.content,
        content_sha256=version.content_sha256,
        warnings=issues(version.warnings),
        leader_check=leader_check_view(form, version),
    )


def leader_change_view(row: Any, form: FormDefinition) -> LeaderChange | None:
    """A report whose current version reports a change of leader."""
    check = leader_check_view(form, row)
    if check is None or check.reported is None:
        return None
    return LeaderChange(
        report_id=row.report_id,
        period_id=row.period_id,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
        version=row.version,
        status=row.status,
        submitted_at=row.version_submitted_at,
        on_record=check.on_record,
        reported=check.reported,
    )


def difficulty_contract(row: Any) -> Difficulty:
    """A difficulty row as its event payload."""
    return Difficulty(
        difficulty_id=row.difficulty_id,
        report_id=row.report_id,
        period_id=row.period_id,
        unit_code=row.unit_code,
        text=row.text,
        raised_at=row.raised_at,
        answer=row.answer or "",
        answered_by=row.answered_by or "",
        answered_at=row.answered_at,
    )


def message_contract(row: Any, message: Any) -> DifficultyMessage:
    """A unit's follow-up as its event payload."""
    return DifficultyMessage(
        difficulty_id=row.difficulty_id,
        report_id=row.report_id,
        period_id=row.period_id,
        unit_code=row.unit_code,
        message_id=message.message_id,
        author=message.author,
        text=message.text,
        posted_at=message.posted_at,
    )


def difficulty_view(row: Any, messages: list[Any], now: datetime) -> DifficultyThread:
    """A difficulty thread: the unit's text, Phòng Nội vụ's latest answer, every message
    (the opening text first) and how long it has waited for Phòng Nội vụ."""
    opening = ThreadMessage(
        message_id=row.difficulty_id,
        side="unit",
        author=row.unit_code,
        text=row.text,
        posted_at=row.raised_at,
    )
    return DifficultyThread(
        **difficulty_contract(row).model_dump(),
        raised_in_version=row.raised_in_version,
        answered=row.answered_at is not None,
        open=row.open_since is not None,
        open_since=row.open_since,
        age_days=waited_days(row.open_since, now),
        messages=[
            opening,
            *(
                ThreadMessage(
                    message_id=m.message_id,
                    side=m.side,
                    author=m.author,
                    text=m.text,
                    posted_at=m.posted_at,
                )
                for m in messages
            ),
        ],
    )


def warning_contracts(warnings: list[dict[str, Any]]) -> tuple[ReportIssue, ...]:
    """Stored warnings as the event carries them."""
    return tuple(ReportIssue.model_validate(w) for w in warnings)


def audit_view(row: Any) -> AuditEntry:
    """One audit line."""
    return AuditEntry(
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=row.action,
        report_id=row.report_id,
        difficulty_id=row.difficulty_id,
        details=row.details,
    )


def attachment_view(row: Any) -> AttachmentInfo:
    """An attachment's metadata (the bytes come from its download link)."""
    return AttachmentInfo(
        attachment_id=row.attachment_id,
        report_id=row.report_id,
        version=row.version,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
        download=f"/v1/reports/{row.report_id}/attachments/{row.attachment_id}",
    )
