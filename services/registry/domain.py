"""Registry rules without I/O: who is expected to report, and the plan's reporting regime."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.clock import VN_TZ, local_midnight
from shared.contracts.registry import ExpectedUnit, PeriodKind, UnitState

PERIODIC_FORM = ("dvcq-dinh-ky", "2023.1")
AD_HOC_FORM = ("dvcq-dot-xuat", "2023.1")


@dataclass(frozen=True)
class Scope:
    """Which units a period asks: all, some kinds, or a list of codes."""

    all: bool = False
    kinds: tuple[str, ...] = ()
    units: tuple[str, ...] = ()

    def includes(self, unit: UnitState) -> bool:
        """Whether the unit falls in the scope."""
        return self.all or unit.kind in self.kinds or unit.code in self.units

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        if self.all:
            return {"all": True}
        if self.kinds:
            return {"kinds": list(self.kinds)}
        return {"units": list(self.units)}

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Scope:
        """Read the JSON form."""
        kinds = raw.get("kinds") or ()
        units = raw.get("units") or ()
        return cls(
            all=bool(raw.get("all")),
            kinds=tuple(str(k) for k in kinds) if isinstance(kinds, list | tuple) else (),
            units=tuple(str(u) for u in units) if isinstance(units, list | tuple) else (),
        )


def last_valid_day(due_at: datetime) -> date:
    """The last local day on which a report is on time: 'trước ngày 10/6' gives 9/6."""
    return (due_at.astimezone(VN_TZ) - timedelta(microseconds=1)).date()


def valid_on(unit: UnitState, day: date) -> bool:
    """Whether the unit exists on that day."""
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day)


def resolve_expected_units(
    units: Iterable[UnitState], scope: Scope, due_at: datetime
) -> list[ExpectedUnit]:
    """Units in scope that must report and are valid at the deadline, in registry order."""
    day = last_valid_day(due_at)
    chosen = [u for u in units if u.must_report and valid_on(u, day) and scope.includes(u)]
    chosen.sort(key=lambda u: (u.display_order, u.code))
    return [
        ExpectedUnit(
            code=u.code, name=u.name, kind=u.kind, tags=u.tags, display_order=u.display_order
        )
        for u in chosen
    ]


@dataclass(frozen=True)
class RegimeRule:
    """One periodic report of the plan: when it is due and what data window it covers."""

    suffix: str
    kind: PeriodKind
    title: str
    due_month: int
    due_day: int
    window_end_month: int
    window_end_day: int


# Plan IV.4 (due dates) and Nghị định 09/2019 (data windows from 15/12 of the year before).
DEFAULT_REGIME: tuple[RegimeRule, ...] = (
    RegimeRule("H1", "six_month", "6 tháng đầu năm {year}", 6, 10, 6, 14),
    RegimeRule("Y", "annual", "năm {year}", 11, 25, 12, 14),
)


@dataclass(frozen=True)
class PlannedPeriod:
    """A period the regime generates for a year."""

    period_id: str
    kind: PeriodKind
    year: int
    title: str
    window_start: date
    window_end: date
    due_at: datetime
    form: tuple[str, str]


def regime_periods(year: int, rules: Sequence[RegimeRule] = DEFAULT_REGIME) -> list[PlannedPeriod]:
    """The periodic reports due in a year."""
    return [
        PlannedPeriod(
            period_id=f"{year}-{rule.suffix}",
            kind=rule.kind,
            year=year,
            title=rule.title.format(year=year),
            window_start=date(year - 1, 12, 15),
            window_end=date(year, rule.window_end_month, rule.window_end_day),
            due_at=local_midnight(date(year, rule.due_month, rule.due_day)),
            form=PERIODIC_FORM,
        )
        for rule in rules
    ]
