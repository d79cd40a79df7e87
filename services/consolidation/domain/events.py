"""Event payloads as domain records, and the pure fold of events into projections.

The database handlers and `InMemoryProjection` apply events with the same functions, so the
order-independence shown on the in-memory fold holds for the stored projections too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.consolidation.domain.records import (
    DifficultyRecord,
    PeriodInfo,
    ReportRecord,
    Review,
    Submission,
    Withdrawal,
)
from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    DifficultyRaised,
    ReportReview,
    ReportReviewed,
    ReportSubmitted,
    ReportVersion,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.contracts.registry import PeriodChanged, PeriodState


def _utc(instant: datetime) -> datetime:
    # Stored and shown in UTC, so a projection reads the same from memory or the database.
    return instant.astimezone(UTC)


def period_from(p: PeriodState) -> PeriodInfo:
    """A period event's state; the expected units are kept exactly as the registry sent them."""
    return PeriodInfo(
        period_id=p.period_id,
        kind=p.kind,
        year=p.year,
        title=p.title,
        form_id=p.form_id,
        form_version=p.form_version,
        due_at=_utc(p.due_at),
        status=p.status,
        expected_units=p.expected_units,
        version=p.version,
        window_start=p.window_start,
        window_end=p.window_end,
        basis=p.basis,
    )


def merge_period(held: PeriodInfo | None, incoming: PeriodInfo) -> PeriodInfo:
    """The newer of two states of a period (a higher version wins)."""
    return incoming if held is None or incoming.version > held.version else held


def submission_from(v: ReportVersion) -> Submission:
    """A report version as the submission part of a record."""
    return Submission(
        version=v.version,
        status=v.status,
        on_time=v.on_time,
        first_submitted_at=_utc(v.first_submitted_at),
        submitted_at=_utc(v.submitted_at),
        content=dict(v.content),
        content_sha256=v.content_sha256,
        warnings=tuple(w.model_dump(mode="json") for w in v.warnings),
        form_id=v.form_id,
        form_version=v.form_version,
    )


def review_from(r: ReportReview) -> Review:
    """A review decision as the review part of a record."""
    return Review(
        version=r.version,
        decision=r.decision,
        reason=r.reason,
        reviewed_by=r.reviewed_by,
        reviewed_at=_utc(r.reviewed_at),
    )


def withdrawal_from(w: ReportWithdrawal) -> Withdrawal:
    """A withdrawal as the withdrawal part of a record."""
    return Withdrawal(version=w.version, withdrawn_at=_utc(w.withdrawn_at))


def difficulty_from(d: Difficulty) -> DifficultyRecord:
    """A difficulty event's state."""
    return DifficultyRecord(
        difficulty_id=d.difficulty_id,
        report_id=d.report_id,
        period_id=d.period_id,
        unit_code=d.unit_code,
        text=d.text,
        raised_at=_utc(d.raised_at),
        answer=d.answer,
        answered_by=d.answered_by,
        answered_at=_utc(d.answered_at) if d.answered_at else None,
    )


ReportEvent = ReportSubmitted | ReportWithdrawn | ReportReviewed


def apply_report_event(held: ReportRecord | None, event: ReportEvent) -> ReportRecord:
    """The report record after one report event (unchanged when the event is older)."""
    p = event.payload
    record = held or ReportRecord(p.report_id, p.period_id, p.unit_code)
    if isinstance(event, ReportSubmitted):
        return record.with_submission(submission_from(event.payload))
    if isinstance(event, ReportWithdrawn):
        return record.with_withdrawal(withdrawal_from(event.payload))
    return record.with_review(review_from(event.payload))


@dataclass
class InMemoryProjection:
    """The projections as plain dictionaries: what the database holds, without the database."""

    periods: dict[str, PeriodInfo] = field(default_factory=dict)
    reports: dict[str, ReportRecord] = field(default_factory=dict)
    difficulties: dict[str, DifficultyRecord] = field(default_factory=dict)

    def apply(self, event: Any) -> bool:
        """Apply one event; True when it changed something."""
        if isinstance(event, PeriodChanged):
            incoming = period_from(event.payload)
            held_period = self.periods.get(incoming.period_id)
            merged = merge_period(held_period, incoming)
            self.periods[incoming.period_id] = merged
            return merged is not held_period
        if isinstance(event, ReportSubmitted | ReportWithdrawn | ReportReviewed):
            held = self.reports.get(event.payload.report_id)
            updated = apply_report_event(held, event)
            self.reports[updated.report_id] = updated
            return updated != held
        if isinstance(event, DifficultyRaised | DifficultyAnswered):
            incoming_d = difficulty_from(event.payload)
            held_d = self.difficulties.get(incoming_d.difficulty_id)
            merged_d = held_d.merged(incoming_d) if held_d else incoming_d
            self.difficulties[merged_d.difficulty_id] = merged_d
            return merged_d != held_d
        return False

    def period_reports(self, period_id: str) -> list[ReportRecord]:
        """Every report record of a period, by report id."""
        return sorted(
            (r for r in self.reports.values() if r.period_id == period_id),
            key=lambda r: r.report_id,
        )

    def period_difficulties(self, period_id: str) -> list[DifficultyRecord]:
        """Every difficulty of a period, by id."""
        return sorted(
            (d for d in self.difficulties.values() if d.period_id == period_id),
            key=lambda d: d.difficulty_id,
        )
