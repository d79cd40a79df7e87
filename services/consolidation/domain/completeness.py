"""Who has reported in a period: counts, rates, by unit kind, each unit's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from services.consolidation.domain.records import PeriodInfo, ReportRecord, current_reports

UnitProgressState = Literal["missing", "submitted", "awaiting_revision", "accepted"]

# Fixed order for "by kind" so documents and JSON list kinds the same way every time.
KIND_ORDER: tuple[str, ...] = ("ward", "commune", "department", "centre", "agency")
KIND_LABELS: dict[str, str] = {
    "ward": "Phường",
    "commune": "Xã",
    "department": "Phòng, ban",
    "centre": "Trung tâm, đơn vị",
    "agency": "Cơ quan",
}
STATE_LABELS: dict[str, str] = {
    "missing": "Chưa gửi",
    "submitted": "Đã gửi, chờ xem xét",
    "awaiting_revision": "Trả lại, chờ bổ sung",
    "accepted": "Đã chấp nhận",
}


def kind_rank(kind: str) -> tuple[int, str]:
    """Sort key for unit kinds."""
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


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

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "report_id": self.report_id,
            "version": self.version,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "first_submitted_at": (
                self.first_submitted_at.isoformat() if self.first_submitted_at else None
            ),
            "on_time": self.on_time,
        }


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

    def as_dict(self) -> dict[str, Any]:
        """JSON form (counts and rates)."""
        return {
            "expected": self.expected,
            "submitted": self.submitted,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
            "awaiting_revision": self.awaiting_revision,
            "accepted": self.accepted,
            "rates": self.rates(),
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

    def as_dict(self) -> dict[str, Any]:
        """JSON form of the whole completeness view."""
        t = self.tally
        return {
            "period_id": self.period.period_id,
            "title": self.period.title,
            "due_at": self.period.due_at.isoformat(),
            "status": self.period.status,
            "expected": t.expected,
            "submitted": t.submitted,
            "on_time": t.on_time,
            "late": t.late,
            "missing": [{"code": u.code, "name": u.name} for u in self.in_state("missing")],
            "missing_count": t.missing,
            "awaiting_revision": t.awaiting_revision,
            "accepted": t.accepted,
            "rates": t.rates(),
            "by_kind": {kind: tally.as_dict() for kind, tally in self.by_kind.items()},
            "units": [u.as_dict() for u in self.units],
        }


def completeness(period: PeriodInfo, reports: Iterable[ReportRecord]) -> Completeness:
    """Completeness of a period from its expected units and the reports seen for it."""
    current = current_reports([r for r in reports if r.period_id == period.period_id])
    units: list[UnitProgress] = []
    tally = Tally()
    by_kind: dict[str, Tally] = {}
    for unit in period.ordered_units():
        report = current.get(unit.code)
        progress = _progress(unit.code, unit.name, unit.kind, unit.display_order, report)
        units.append(progress)
        tally.add(progress)
        by_kind.setdefault(unit.kind, Tally()).add(progress)
    ordered_kinds = {k: by_kind[k] for k in sorted(by_kind, key=kind_rank)}
    return Completeness(period=period, tally=tally, by_kind=ordered_kinds, units=tuple(units))


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
