"""The tables of the home page and the reviewers' dashboard, built from backend answers.

Pure: backend JSON in, view rows out. Tolerant of missing keys, since the backends grow
their answers additively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.portal.wording import Deadline, describe_deadline, parse_instant

KIND_LABELS: dict[str, str] = {
    "ward": "Phường",
    "commune": "Xã",
    "department": "Phòng, ban",
    "centre": "Trung tâm, đơn vị",
    "agency": "Cơ quan",
}
KIND_ORDER = tuple(KIND_LABELS)


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
    report: Mapping[str, Any] | None
    action: str | None  # "new", "amend", "revise", "resend" or None
    return_reason: str = ""


def _deadline(period: Mapping[str, Any], now: datetime) -> Deadline | None:
    due_at = parse_instant(period.get("due_at"))
    if due_at is None:
        return None
    return describe_deadline(due_at, now, closed=period.get("status") == "closed")


def _next_action(period_open: bool, report: Mapping[str, Any] | None) -> str | None:
    status = report.get("status") if report else None
    if not period_open or status == "accepted":
        return None
    if report is None:
        return "new"
    if status == "withdrawn":
        return "resend"
    return "revise" if status == "returned" else "amend"


def unit_period_rows(
    periods: Iterable[Mapping[str, Any]],
    reports: Iterable[Mapping[str, Any]],
    unit_code: str | None,
    now: datetime,
) -> list[PeriodRow]:
    """The periods that ask this unit to report, each with its report (if any)."""
    by_period: dict[str, Mapping[str, Any]] = {}
    report: Mapping[str, Any] | None
    for report in reports:
        period_id = str(report.get("period_id"))
        # Of several (e.g. an old withdrawn one), the newest submission is the unit's report.
        if period_id not in by_period or str(report.get("submitted_at") or "") > str(
            by_period[period_id].get("submitted_at") or ""
        ):
            by_period[period_id] = report
    rows = []
    for period in periods:
        expected = period.get("expected_units")
        if unit_code and isinstance(expected, list) and unit_code not in expected:
            continue
        period_id = str(period.get("period_id"))
        report = by_period.get(period_id)
        is_open = period.get("status", "open") == "open"
        review = report.get("review") if report else None
        reason = ""
        if report and report.get("status") == "returned" and isinstance(review, Mapping):
            reason = str(review.get("reason") or "")
        rows.append(
            PeriodRow(
                period_id=period_id,
                title=str(period.get("title") or period_id),
                kind=str(period.get("kind") or ""),
                open=is_open,
                deadline=_deadline(period, now),
                window_start=period.get("window_start"),
                window_end=period.get("window_end"),
                report=report,
                action=_next_action(is_open, report),
                return_reason=reason,
            )
        )
    return rows


@dataclass(frozen=True)
class UnitProgressRow:
    """One expected unit on the dashboard."""

    code: str
    name: str
    kind: str
    state: str
    report_id: str | None = None
    version: int | None = None
    submitted_at: str | None = None
    first_submitted_at: str | None = None
    on_time: bool | None = None


@dataclass(frozen=True)
class KindTally:
    """Counts for one kind of unit."""

    kind: str
    label: str
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int


@dataclass
class CompletenessView:
    """Who has reported in a period, as the dashboard shows it."""

    period_id: str
    title: str
    due_at: str | None
    status: str
    expected: int
    submitted: int
    on_time: int
    late: int
    awaiting_revision: int
    accepted: int
    missing: list[Mapping[str, Any]]
    rates: Mapping[str, Any] = field(default_factory=dict)
    by_kind: list[KindTally] = field(default_factory=list)
    units: list[UnitProgressRow] = field(default_factory=list)
    # "consolidation", or "intake" when rebuilt here because consolidation did not answer.
    source: str = "consolidation"

    @property
    def missing_count(self) -> int:
        """Expected units without a current report."""
        return len(self.missing)

    def in_state(self, *states: str) -> list[UnitProgressRow]:
        """Units in one of the states, in registry order."""
        return [u for u in self.units if u.state in states]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _unit_row(raw: Mapping[str, Any]) -> UnitProgressRow:
    version = raw.get("version")
    on_time = raw.get("on_time")
    return UnitProgressRow(
        code=str(raw.get("code") or ""),
        name=str(raw.get("name") or raw.get("code") or ""),
        kind=str(raw.get("kind") or ""),
        state=str(raw.get("state") or "missing"),
        report_id=raw.get("report_id") or None,
        version=version if isinstance(version, int) else None,
        submitted_at=raw.get("submitted_at") or None,
        first_submitted_at=raw.get("first_submitted_at") or None,
        on_time=on_time if isinstance(on_time, bool) else None,
    )


def _kind_tallies(by_kind: Any) -> list[KindTally]:
    if not isinstance(by_kind, Mapping):
        return []
    ordered = sorted(
        by_kind, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k)
    )
    tallies = []
    for kind in ordered:
        t = by_kind[kind] if isinstance(by_kind[kind], Mapping) else {}
        expected, submitted = _int(t.get("expected")), _int(t.get("submitted"))
        missing = t.get("missing")
        tallies.append(
            KindTally(
                kind=kind,
                label=KIND_LABELS.get(kind, kind),
                expected=expected,
                submitted=submitted,
                on_time=_int(t.get("on_time")),
                late=_int(t.get("late")),
                missing=_int(missing) if isinstance(missing, int) else expected - submitted,
            )
        )
    return tallies


def completeness_view(raw: Mapping[str, Any]) -> CompletenessView:
    """Consolidation's completeness answer as the dashboard shows it."""
    missing = raw.get("missing")
    rates = raw.get("rates")
    units = [_unit_row(u) for u in raw.get("units") or [] if isinstance(u, Mapping)]
    return CompletenessView(
        period_id=str(raw.get("period_id") or ""),
        title=str(raw.get("title") or raw.get("period_id") or ""),
        due_at=raw.get("due_at"),
        status=str(raw.get("status") or "open"),
        expected=_int(raw.get("expected")),
        submitted=_int(raw.get("submitted")),
        on_time=_int(raw.get("on_time")),
        late=_int(raw.get("late")),
        awaiting_revision=_int(raw.get("awaiting_revision")),
        accepted=_int(raw.get("accepted")),
        missing=[m for m in missing or [] if isinstance(m, Mapping)],
        rates=rates if isinstance(rates, Mapping) else {},
        by_kind=_kind_tallies(raw.get("by_kind")),
        units=units,
    )


def with_withdrawals(
    view: CompletenessView, reports: Iterable[Mapping[str, Any]]
) -> CompletenessView:
    """Units without a current report whose report was withdrawn read "Đã rút", with a link.

    A withdrawn report does not count, so the unit stays among the missing ones; only the
    row changes, so the reviewer sees why the unit's report went away and can open it.
    """
    newest: dict[str, Mapping[str, Any]] = {}
    for report in reports:
        if report.get("status") != "withdrawn" or not report.get("report_id"):
            continue
        code = str(report.get("unit_code"))
        when = str(report.get("withdrawn_at") or report.get("submitted_at") or "")
        held = newest.get(code)
        if held is None or when > str(held.get("withdrawn_at") or held.get("submitted_at") or ""):
            newest[code] = report
    if not newest:
        return view
    units = []
    for row in view.units:
        found = newest.get(row.code) if row.state == "missing" else None
        if found is not None:
            version = found.get("version")
            row = replace(
                row,
                state="withdrawn",
                report_id=str(found["report_id"]),
                version=version if isinstance(version, int) else None,
                submitted_at=found.get("submitted_at") or None,
                first_submitted_at=found.get("first_submitted_at") or None,
                on_time=None,
            )
        units.append(row)
    return replace(view, units=units)


_STATE_OF_STATUS = {
    "submitted": "submitted",
    "returned": "awaiting_revision",
    "accepted": "accepted",
}


def completeness_from_reports(
    period: Mapping[str, Any], reports: Iterable[Mapping[str, Any]]
) -> CompletenessView:
    """Completeness rebuilt from the registry's expected units and intake's report list.

    Used only when consolidation does not answer, so reviewers still see who is missing.
    """
    reports = list(reports)
    current: dict[str, Mapping[str, Any]] = {}
    report: Mapping[str, Any] | None
    for report in reports:
        if report.get("status") in _STATE_OF_STATUS:
            current[str(report.get("unit_code"))] = report
    details = period.get("expected_unit_details")
    expected_units: list[Mapping[str, Any]] = (
        [u for u in details if isinstance(u, Mapping)]
        if isinstance(details, list)
        else [{"code": c, "name": c} for c in period.get("expected_units") or []]
    )
    expected_units.sort(key=lambda u: (_int(u.get("display_order")), str(u.get("code"))))
    units: list[UnitProgressRow] = []
    tallies: dict[str, dict[str, int]] = {}
    for unit in expected_units:
        code = str(unit.get("code"))
        report = current.get(code)
        row = UnitProgressRow(
            code=code,
            name=str(unit.get("name") or code),
            kind=str(unit.get("kind") or ""),
            state=_STATE_OF_STATUS[str(report.get("status"))] if report else "missing",
            report_id=report.get("report_id") if report else None,
            version=report.get("version") if report else None,
            submitted_at=report.get("submitted_at") if report else None,
            first_submitted_at=report.get("first_submitted_at") if report else None,
            on_time=report.get("on_time") if report else None,
        )
        units.append(row)
        tally = tallies.setdefault(
            row.kind, {"expected": 0, "submitted": 0, "on_time": 0, "late": 0}
        )
        tally["expected"] += 1
        if row.state != "missing":
            tally["submitted"] += 1
            tally["on_time" if row.on_time else "late"] += 1
    reported = [u for u in units if u.state != "missing"]
    expected = len(units)

    def rate(count: int) -> float | None:
        return round(count / expected, 4) if expected else None

    on_time = sum(1 for u in reported if u.on_time)
    accepted = sum(1 for u in units if u.state == "accepted")
    view = CompletenessView(
        period_id=str(period.get("period_id") or ""),
        title=str(period.get("title") or period.get("period_id") or ""),
        due_at=period.get("due_at"),
        status=str(period.get("status") or "open"),
        expected=expected,
        submitted=len(reported),
        on_time=on_time,
        late=len(reported) - on_time,
        awaiting_revision=sum(1 for u in units if u.state == "awaiting_revision"),
        accepted=accepted,
        missing=[{"code": u.code, "name": u.name} for u in units if u.state == "missing"],
        rates={
            "submitted": rate(len(reported)),
            "on_time": rate(on_time),
            "accepted": rate(accepted),
        },
        by_kind=_kind_tallies(tallies),
        units=units,
        source="intake",
    )
    return with_withdrawals(view, reports)
