"""What consolidation keeps of each report, and how events merge into it whatever their order.

Every part of a report record is the greatest value seen by a total order (version first,
then time, then content), so applying the same events in any order, any number of times,
gives the same record: versions decide, not arrival.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from shared.contracts.registry import ExpectedUnit, RequestBasis

ReportState = Literal["pending", "submitted", "awaiting_revision", "accepted", "withdrawn"]


@dataclass(frozen=True)
class PeriodInfo:
    """A reporting period with the units the registry expected at its deadline."""

    period_id: str
    kind: str
    year: int
    title: str
    form_id: str
    form_version: str
    due_at: datetime
    status: str
    expected_units: tuple[ExpectedUnit, ...]
    version: int
    window_start: date | None = None
    window_end: date | None = None
    # Ad-hoc periods: the document that asked for the report, when the registry recorded it.
    basis: RequestBasis | None = None

    def ordered_units(self) -> list[ExpectedUnit]:
        """Expected units in registry order (display order, then code), each code once."""
        seen: set[str] = set()
        ordered: list[ExpectedUnit] = []
        # A code listed twice is still one unit expected to send one report.
        for unit in sorted(self.expected_units, key=lambda u: (u.display_order, u.code)):
            if unit.code not in seen:
                seen.add(unit.code)
                ordered.append(unit)
        return ordered


@dataclass(frozen=True)
class Submission:
    """The newest version of a report seen so far, with its full content."""

    version: int
    status: str
    on_time: bool
    first_submitted_at: datetime
    submitted_at: datetime
    content: dict[str, Any]
    content_sha256: str
    warnings: tuple[dict[str, Any], ...] = ()
    form_id: str = ""
    form_version: str = ""

    def rank(self) -> tuple[int, datetime, str]:
        """Order of submissions: version, then time, then content hash for a stable tie-break."""
        return (self.version, self.submitted_at, self.content_sha256)


@dataclass(frozen=True)
class Review:
    """Phòng Nội vụ's latest decision on a version of the report."""

    version: int
    decision: str
    reason: str
    reviewed_by: str
    reviewed_at: datetime

    def rank(self) -> tuple[int, datetime, str]:
        """Order of reviews: version, then time, then decision."""
        return (self.version, self.reviewed_at, self.decision)


@dataclass(frozen=True)
class Withdrawal:
    """The unit withdrew the report at a version."""

    version: int
    withdrawn_at: datetime

    def rank(self) -> tuple[int, datetime]:
        """Order of withdrawals: version, then time."""
        return (self.version, self.withdrawn_at)


@dataclass(frozen=True)
class ReportRecord:
    """One report (all its versions collapse into the newest) as the events describe it."""

    report_id: str
    period_id: str
    unit_code: str
    submission: Submission | None = None
    review: Review | None = None
    withdrawal: Withdrawal | None = None

    @property
    def state(self) -> ReportState:
        """Where the report stands now."""
        s = self.submission
        if s is None:
            return "pending"  # a review or withdrawal arrived before the version it names
        w = self.withdrawal
        # A withdrawal of this version (or a later one) removes it; a newer version revives it.
        if s.status == "withdrawn" or (
            w is not None and (w.version, w.withdrawn_at) >= (s.version, s.submitted_at)
        ):
            return "withdrawn"
        r = self.review
        if r is not None and r.version == s.version:
            return "accepted" if r.decision == "accepted" else "awaiting_revision"
        if s.status == "accepted":
            return "accepted"
        if s.status == "returned":
            return "awaiting_revision"
        return "submitted"

    @property
    def is_current(self) -> bool:
        """Whether the report counts for its unit (it has a version and was not withdrawn)."""
        return self.state in ("submitted", "awaiting_revision", "accepted")

    def with_submission(self, submission: Submission) -> ReportRecord:
        """The record after a version arrived; older or equal versions change nothing."""
        if self.submission is not None and self.submission.rank() >= submission.rank():
            return self
        return replace(self, submission=submission)

    def with_review(self, review: Review) -> ReportRecord:
        """The record after a review arrived; only the newest review counts."""
        if self.review is not None and self.review.rank() >= review.rank():
            return self
        return replace(self, review=review)

    def with_withdrawal(self, withdrawal: Withdrawal) -> ReportRecord:
        """The record after a withdrawal arrived; only the newest withdrawal counts."""
        if self.withdrawal is not None and self.withdrawal.rank() >= withdrawal.rank():
            return self
        return replace(self, withdrawal=withdrawal)


@dataclass(frozen=True)
class DifficultyRecord:
    """A difficulty (vướng mắc) a unit raised, with Phòng Nội vụ's answer once given."""

    difficulty_id: str
    report_id: str | None
    period_id: str
    unit_code: str
    text: str
    raised_at: datetime
    answer: str = ""
    answered_by: str = ""
    answered_at: datetime | None = None

    def rank(self) -> tuple[bool, datetime, str, str, datetime, str]:
        """An answered state beats an unanswered one, a later answer an earlier one."""
        answered = self.answered_at is not None and bool(self.answer)
        at = self.answered_at or self.raised_at
        return (answered, at, self.answer, self.answered_by, self.raised_at, self.text)

    def merged(self, other: DifficultyRecord) -> DifficultyRecord:
        """The newer of two states of the same difficulty."""
        return other if other.rank() > self.rank() else self


def current_reports(reports: list[ReportRecord]) -> dict[str, ReportRecord]:
    """Each unit's report that counts: not withdrawn, the latest submitted if several."""
    chosen: dict[str, ReportRecord] = {}
    for report in reports:
        if not report.is_current or report.submission is None:
            continue
        held = chosen.get(report.unit_code)
        if held is None or _newer(report, held):
            chosen[report.unit_code] = report
    return chosen


def _newer(a: ReportRecord, b: ReportRecord) -> bool:
    assert a.submission is not None and b.submission is not None
    return (a.submission.submitted_at, a.report_id) > (b.submission.submitted_at, b.report_id)


def earlier_period(period: PeriodInfo, known: list[PeriodInfo]) -> PeriodInfo | None:
    """The same period a year earlier (2022-H1 for 2023-H1), when it is known."""
    if period.kind == "ad_hoc":
        return None
    candidates = [p for p in known if p.kind == period.kind and p.year == period.year - 1]
    prefix = f"{period.year}-"
    if period.period_id.startswith(prefix):
        same_id = f"{period.year - 1}-{period.period_id.removeprefix(prefix)}"
        named = [p for p in candidates if p.period_id == same_id]
        if named:
            return named[0]
    # Without the usual naming, only an unambiguous match is a comparison.
    return candidates[0] if len(candidates) == 1 else None
