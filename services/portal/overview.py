"""The unit's home page table: the periods that ask the unit, each with its report.

Pure: the registry's `PeriodView` and intake's `ReportSummary` models in, rows out. The
reviewers' dashboard needs no such table: it shows consolidation's `PeriodCompleteness` as
it is (counts, kind and state labels, the deadline as it reads), computing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from services.portal.wording import Deadline, describe_deadline
from shared.contracts.api.intake import ReportSummary
from shared.contracts.api.registry import PeriodView


@dataclass(frozen=True)
class PeriodRow:
    """One period on a unit's home page, with the unit's report and what to do next."""

    period_id: str
    title: str
    kind: str
    open: bool
    deadline: Deadline
    window_start: date | None
    window_end: date | None
    report: ReportSummary | None
    action: str | None  # "new", "amend", "revise", "resend" or None
    return_reason: str = ""


def _deadline(period: PeriodView, now: datetime) -> Deadline:
    return describe_deadline(period.due_at, now, closed=period.status == "closed")


def _next_action(period_open: bool, report: ReportSummary | None) -> str | None:
    status = report.status if report else None
    if not period_open or status == "accepted":
        return None
    if report is None:
        return "new"
    if status == "withdrawn":
        return "resend"
    return "revise" if status == "returned" else "amend"


def unit_period_rows(
    periods: Iterable[PeriodView],
    reports: Iterable[ReportSummary],
    unit_code: str | None,
    now: datetime,
) -> list[PeriodRow]:
    """The periods that ask this unit to report, each with its report (if any)."""
    by_period: dict[str, ReportSummary] = {}
    for report in reports:
        held = by_period.get(report.period_id)
        # Of several (e.g. an old withdrawn one), the newest submission is the unit's report.
        if held is None or report.submitted_at > held.submitted_at:
            by_period[report.period_id] = report
    rows = []
    for period in periods:
        if unit_code and unit_code not in period.expected_units:
            continue
        found = by_period.get(period.period_id)
        is_open = period.status == "open"
        reason = ""
        if found is not None and found.status == "returned" and found.review is not None:
            reason = found.review.reason
        rows.append(
            PeriodRow(
                period_id=period.period_id,
                title=period.title,
                kind=period.kind,
                open=is_open,
                deadline=_deadline(period, now),
                window_start=period.window_start,
                window_end=period.window_end,
                report=found,
                action=_next_action(is_open, found),
                return_reason=reason,
            )
        )
    return rows
