"""The unit's home page table: the periods that ask the unit, each with its report.

Pure: the registry's periods and intake's `ReportSummary` models in, rows out. The
reviewers' dashboard needs no such table: it shows consolidation's `PeriodCompleteness` as
it is (counts, kind and state labels, the deadline as it reads), computing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.portal.wording import Deadline, describe_deadline, parse_instant
from shared.contracts.api.intake import ReportSummary


@dataclass(frozen=True)
class PeriodRow:
    """One period on a unit's home page, with the unit's report and what to do next."""

    period_id: str
    title: str
    kind: str
    open: bool
    deadline: Deadline | None
    window_start: str | None
    window_end: str | None
    report: ReportSummary | None
    action: str | None  # "new", "amend", "revise", "resend" or None
    return_reason: str = ""


def _deadline(period: Mapping[str, Any], now: datetime) -> Deadline | None:
    due_at = parse_instant(period.get("due_at"))
    if due_at is None:
        return None
    return describe_deadline(due_at, now, closed=period.get("status") == "closed")


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
    periods: Iterable[Mapping[str, Any]],
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
        expected = period.get("expected_units")
        if unit_code and isinstance(expected, list) and unit_code not in expected:
            continue
        period_id = str(period.get("period_id"))
        found = by_period.get(period_id)
        is_open = period.get("status", "open") == "open"
        reason = ""
        if found is not None and found.status == "returned" and found.review is not None:
            reason = found.review.reason
        rows.append(
            PeriodRow(
                period_id=period_id,
                title=str(period.get("title") or period_id),
                kind=str(period.get("kind") or ""),
                open=is_open,
                deadline=_deadline(period, now),
                window_start=period.get("window_start"),
                window_end=period.get("window_end"),
                report=found,
                action=_next_action(is_open, found),
                return_reason=reason,
            )
        )
    return rows
