"""A period's running completeness counters, moved one unit at a time.

A report event changes the standing of one unit at most, so the period's counters move by
the difference between that unit's old and new standing: applying an event costs the same
whatever the number of units. `recount` computes everything from scratch with the same
rules as `completeness`; a period change (a new expected set) uses it once, and tests
compare the running counters against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from services.consolidation.domain.completeness import (
    Tally,
    UnitProgressState,
    completeness,
    contribution,
    last_withdrawn,
)
from services.consolidation.domain.records import PeriodInfo, ReportRecord, current_reports


@dataclass(frozen=True)
class Standing:
    """What the counters need of one expected unit: its state and the timeliness of its report."""

    state: UnitProgressState = "missing"
    on_time: bool | None = None
    report_id: str | None = None
    # Missing units only: the report last withdrawn, shown as such (it does not count).
    withdrawn_report_id: str | None = None


def unit_standing(reports: Iterable[ReportRecord]) -> Standing:
    """A unit's standing from every report record it has in the period."""
    records = list(reports)
    current = current_reports(records)
    if len(current) > 1 or len({r.unit_code for r in records}) > 1:
        raise ValueError("unit_standing takes the reports of one unit")
    report = next(iter(current.values()), None)
    if report is None or report.submission is None:
        withdrawn = next(iter(last_withdrawn(records).values()), None)
        return Standing(withdrawn_report_id=withdrawn.report_id if withdrawn else None)
    state = report.state
    assert state in ("submitted", "awaiting_revision", "accepted")  # current reports only
    return Standing(state=state, on_time=report.submission.on_time, report_id=report.report_id)


@dataclass(frozen=True)
class Counters:
    """A period's completeness counts, the same numbers `Tally` gives for its expected units."""

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

    @property
    def ratio(self) -> float:
        """Submitted share of expected units (0 when nobody is expected)."""
        return self.submitted / self.expected if self.expected else 0.0

    @classmethod
    def from_tally(cls, tally: Tally) -> Counters:
        """The counters of a tally computed from scratch."""
        return cls(
            expected=tally.expected,
            submitted=tally.submitted,
            on_time=tally.on_time,
            late=tally.late,
            awaiting_revision=tally.awaiting_revision,
            accepted=tally.accepted,
        )

    def moved(self, old: Standing, new: Standing) -> Counters:
        """The counters after one expected unit went from `old` to `new`."""
        before = contribution(old.state, old.on_time)
        after = contribution(new.state, new.on_time)
        d = [a - b for a, b in zip(after, before, strict=True)]
        return replace(
            self,
            submitted=self.submitted + d[0],
            on_time=self.on_time + d[1],
            late=self.late + d[2],
            awaiting_revision=self.awaiting_revision + d[3],
            accepted=self.accepted + d[4],
        )


@dataclass(frozen=True)
class PeriodProgress:
    """The stored counters of a period and the period version they were computed for."""

    period_id: str
    period_version: int | None  # None until the period's own event has been counted
    counters: Counters


@dataclass(frozen=True)
class Recount:
    """A period's counters and every expected unit's standing, in registry order."""

    counters: Counters
    standings: tuple[tuple[str, Standing], ...]


def recount(period: PeriodInfo, reports: Iterable[ReportRecord]) -> Recount:
    """Everything the running counters hold, computed from scratch like `completeness`."""
    status = completeness(period, reports)
    return Recount(
        counters=Counters.from_tally(status.tally),
        standings=tuple(
            (
                u.code,
                Standing(
                    state=u.state,
                    on_time=u.on_time,
                    report_id=u.report_id,
                    withdrawn_report_id=u.withdrawn.report_id if u.withdrawn else None,
                ),
            )
            for u in status.units
        ),
    )
