"""Who has reported in a period: counts, rates, by unit kind, each unit's state.

Two ways to the same answer: `completeness` counts a period's reports from scratch (the
reference, and what the summary uses), `completeness_from_progress` reads it from the
running counters and the stored standings (what the HTTP reads use, so a read never
recounts). Tests keep the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from services.consolidation.domain.records import PeriodInfo, ReportRecord, current_reports
from shared.contracts.registry import UNIT_KIND_LABELS, UNIT_KIND_ORDER

if TYPE_CHECKING:
    from services.consolidation.domain.progress import Counters, Standing

UnitProgressState = Literal["missing", "submitted", "awaiting_revision", "accepted"]

# Fixed order for "by kind" so documents and JSON list kinds the same way every time; the
# order and the labels are the registry's (shared.contracts.registry), shown as they are.
KIND_ORDER: tuple[str, ...] = UNIT_KIND_ORDER
KIND_LABELS: dict[str, str] = UNIT_KIND_LABELS
STATE_LABELS: dict[str, str] = {
    "missing": "Chưa gửi",
    "submitted": "Đã gửi, chờ xem xét",
    "awaiting_revision": "Trả lại, chờ bổ sung",
    "accepted": "Đã chấp nhận",
}


def kind_rank(kind: str) -> tuple[int, str]:
    """Sort key for unit kinds."""
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


def kind_label(kind: str) -> str:
    """A unit kind as users read it ("Phường")."""
    return KIND_LABELS.get(kind, kind)


def contribution(state: UnitProgressState, on_time: bool | None) -> tuple[int, int, int, int, int]:
    """What one expected unit adds to (submitted, on time, late, awaiting revision, accepted)."""
    if state == "missing":
        return (0, 0, 0, 0, 0)
    return (
        1,
        1 if on_time else 0,
        0 if on_time else 1,
        1 if state == "awaiting_revision" else 0,
        1 if state == "accepted" else 0,
    )


@dataclass(frozen=True)
class ReportFacts:
    """When and at which version a report was sent (what a completeness row shows of it)."""

    report_id: str
    version: int | None = None
    submitted_at: datetime | None = None
    first_submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None


@dataclass(frozen=True)
class UnitProgress:
    """One expected unit's standing in the period."""

    code: str
    name: str
    kind: str
    display_order: int
    state: UnitProgressState
    report_id: str | None = None
    version: int | None = None
    submitted_at: datetime | None = None
    first_submitted_at: datetime | None = None
    on_time: bool | None = None
    # A missing unit whose last report was withdrawn (it counts as missing all the same).
    withdrawn: ReportFacts | None = None


@dataclass
class Tally:
    """Counts over a set of expected units."""

    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    awaiting_revision: int = 0
    accepted: int = 0

    @property
    def missing(self) -> int:
        """Expected units without a current report."""
        return self.expected - self.submitted

    def add(self, unit: UnitProgress) -> None:
        """Count one unit."""
        self.expected += 1
        submitted, on_time, late, awaiting, accepted = contribution(unit.state, unit.on_time)
        self.submitted += submitted
        self.on_time += on_time
        self.late += late
        self.awaiting_revision += awaiting
        self.accepted += accepted

    def rates(self) -> dict[str, float | None]:
        """Shares of the expected units; None when nobody is expected."""
        if not self.expected:
            return {"submitted": None, "on_time": None, "accepted": None}
        return {
            "submitted": round(self.submitted / self.expected, 4),
            "on_time": round(self.on_time / self.expected, 4),
            "accepted": round(self.accepted / self.expected, 4),
        }


@dataclass(frozen=True)
class Completeness:
    """A period's completeness: totals, totals by unit kind, and every expected unit."""

    period: PeriodInfo
    tally: Tally
    by_kind: dict[str, Tally]
    units: tuple[UnitProgress, ...] = field(default=())

    @property
    def ratio(self) -> float:
        """Submitted share of expected units (0 when nobody is expected)."""
        return self.tally.submitted / self.tally.expected if self.tally.expected else 0.0

    def in_state(self, *states: UnitProgressState) -> list[UnitProgress]:
        """Units in one of the states, in registry order."""
        return [u for u in self.units if u.state in states]

    def late_units(self) -> list[UnitProgress]:
        """Units whose report came after the deadline."""
        return [u for u in self.units if u.state != "missing" and not u.on_time]

    def unit(self, code: str) -> UnitProgress | None:
        """One expected unit's row."""
        return next((u for u in self.units if u.code == code), None)


@dataclass(frozen=True)
class OwnProgress:
    """What a unit account sees of a period: the period and its own row, if it is expected."""

    period: PeriodInfo
    unit: UnitProgress | None


def _by_kind(units: Iterable[UnitProgress]) -> dict[str, Tally]:
    by_kind: dict[str, Tally] = {}
    for unit in units:
        by_kind.setdefault(unit.kind, Tally()).add(unit)
    return {k: by_kind[k] for k in sorted(by_kind, key=kind_rank)}


def completeness(period: PeriodInfo, reports: Iterable[ReportRecord]) -> Completeness:
    """Completeness of a period from its expected units and the reports seen for it."""
    mine = [r for r in reports if r.period_id == period.period_id]
    current = current_reports(mine)
    withdrawn = last_withdrawn(mine)
    units: list[UnitProgress] = []
    tally = Tally()
    for unit in period.ordered_units():
        report = current.get(unit.code)
        progress = _progress(unit.code, unit.name, unit.kind, unit.display_order, report)
        if progress.state == "missing" and unit.code in withdrawn:
            progress = _with_withdrawn(progress, withdrawn[unit.code])
        units.append(progress)
        tally.add(progress)
    return Completeness(period=period, tally=tally, by_kind=_by_kind(units), units=tuple(units))


@dataclass(frozen=True)
class StoredStanding:
    """An expected unit's stored standing with the facts of the reports it names."""

    code: str
    standing: Standing
    report: ReportFacts | None = None
    withdrawn: ReportFacts | None = None


def completeness_from_progress(
    period: PeriodInfo, counters: Counters, standings: Mapping[str, StoredStanding]
) -> Completeness:
    """A period's completeness read from its running counters and stored standings: the
    totals are the counters, each unit's row its standing (no report is recounted)."""
    units: list[UnitProgress] = []
    for unit in period.ordered_units():
        stored = standings.get(unit.code)
        if stored is None or stored.standing.state == "missing":
            row = UnitProgress(unit.code, unit.name, unit.kind, unit.display_order, "missing")
            if stored is not None and stored.withdrawn is not None:
                row = _with_withdrawn(row, stored.withdrawn)
        else:
            facts = stored.report
            row = UnitProgress(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                display_order=unit.display_order,
                state=stored.standing.state,
                report_id=stored.standing.report_id,
                version=facts.version if facts else None,
                submitted_at=facts.submitted_at if facts else None,
                first_submitted_at=facts.first_submitted_at if facts else None,
                on_time=stored.standing.on_time,
            )
        units.append(row)
    tally = Tally(
        expected=counters.expected,
        submitted=counters.submitted,
        on_time=counters.on_time,
        late=counters.late,
        awaiting_revision=counters.awaiting_revision,
        accepted=counters.accepted,
    )
    return Completeness(period=period, tally=tally, by_kind=_by_kind(units), units=tuple(units))


def last_withdrawn(reports: Iterable[ReportRecord]) -> dict[str, ReportRecord]:
    """Each unit's most recently withdrawn report."""
    newest: dict[str, ReportRecord] = {}
    for report in reports:
        if report.state != "withdrawn" or report.submission is None:
            continue
        held = newest.get(report.unit_code)
        if held is None or _withdrawn_rank(report) > _withdrawn_rank(held):
            newest[report.unit_code] = report
    return newest


def _withdrawn_rank(report: ReportRecord) -> tuple[datetime, str]:
    assert report.submission is not None
    at = report.withdrawal.withdrawn_at if report.withdrawal else report.submission.submitted_at
    return (at, report.report_id)


def report_facts(report: ReportRecord) -> ReportFacts:
    """What a completeness row shows of a report."""
    s = report.submission
    return ReportFacts(
        report_id=report.report_id,
        version=s.version if s else None,
        submitted_at=s.submitted_at if s else None,
        first_submitted_at=s.first_submitted_at if s else None,
        withdrawn_at=report.withdrawal.withdrawn_at if report.withdrawal else None,
    )


def _with_withdrawn(row: UnitProgress, report: ReportRecord | ReportFacts) -> UnitProgress:
    facts = report if isinstance(report, ReportFacts) else report_facts(report)
    return UnitProgress(row.code, row.name, row.kind, row.display_order, "missing", withdrawn=facts)


def _progress(
    code: str, name: str, kind: str, order: int, report: ReportRecord | None
) -> UnitProgress:
    if report is None or report.submission is None:
        return UnitProgress(code=code, name=name, kind=kind, display_order=order, state="missing")
    s = report.submission
    state = report.state
    assert state in ("submitted", "awaiting_revision", "accepted")  # current reports only
    return UnitProgress(
        code=code,
        name=name,
        kind=kind,
        display_order=order,
        state=state,
        report_id=report.report_id,
        version=s.version,
        submitted_at=s.submitted_at,
        first_submitted_at=s.first_submitted_at,
        on_time=s.on_time,
    )
