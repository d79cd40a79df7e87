"""Intake's answers (`shared.contracts.api.intake`) and event payloads, built from table rows."""

from __future__ import annotations

from typing import Any

from shared.contracts.api.intake import (
    AttachmentInfo,
    AuditEntry,
    ContentIssue,
    DifficultyThread,
    ReportDetail,
    ReportSummary,
    ReportVersionView,
    Review,
)
from shared.contracts.intake import Difficulty, ReportIssue


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


def version_view(row: Any) -> ReportVersionView:
    """One stored version with its full content."""
    return ReportVersionView(
        version=row.version,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        content=row.content,
        content_sha256=row.content_sha256,
        warnings=issues(row.warnings),
    )


def report_view(row: Any, version: Any) -> ReportDetail:
    """A report with the content of its current version."""
    return ReportDetail(
        **_summary_fields(row),
        content=version.content,
        content_sha256=version.content_sha256,
        warnings=issues(version.warnings),
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


def difficulty_view(row: Any) -> DifficultyThread:
    """A difficulty thread: the unit's text and Phòng Nội vụ's answer."""
    return DifficultyThread(
        **difficulty_contract(row).model_dump(),
        raised_in_version=row.raised_in_version,
        answered=row.answered_at is not None,
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
