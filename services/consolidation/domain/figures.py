"""The shapes of a consolidation: figures, compiled texts, difficulties, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from services.consolidation.domain.completeness import Completeness
from services.consolidation.domain.records import PeriodInfo

Number = int | Decimal
Value = int | Decimal | bool


@dataclass(frozen=True)
class Figure:
    """A total over some units; for yes/no indicators the total is the number of "yes"."""

    total: Number | None
    reported: int
    yes: int | None = None
    no: int | None = None


@dataclass(frozen=True)
class IndicatorSummary:
    """One indicator across the period: overall, by unit kind, per unit, against last year.

    Only units the indicator applies to count (by unit kind and tag; for a report written on
    another version of the form, only if that version asked for it): `overall.reported` of
    them reported it, `applicable` of the reporting units could have, and `expected` of the
    period's expected units are asked for it. The report's "n/m đơn vị" is
    `overall.reported`/`expected`.
    """

    section: str
    code: str
    label: str
    type: str
    overall: Figure
    applicable: int
    by_kind: dict[str, Figure]
    values: dict[str, Value]
    previous: Figure | None = None
    expected: int = 0

    @property
    def change(self) -> Number | None:
        """Difference from the earlier period's total, when both exist."""
        if self.previous is None or self.previous.total is None or self.overall.total is None:
            return None
        return self.overall.total - self.previous.total


@dataclass(frozen=True)
class UnitText:
    """A text one unit wrote."""

    unit_code: str
    unit_name: str
    kind: str
    text: str


@dataclass(frozen=True)
class SectionSummary:
    """A task area: its indicators and the units' narratives in registry order."""

    key: str
    title: str
    plan_ref: str | None
    indicators: tuple[IndicatorSummary, ...]
    narratives: tuple[UnitText, ...]
    # The expected units the task area applies to (by unit kind and tag).
    expected: int = 0


@dataclass(frozen=True)
class TextFieldSummary:
    """A whole-report text field (Part B) compiled from every unit."""

    code: str
    label: str
    entries: tuple[UnitText, ...]


@dataclass(frozen=True)
class DifficultyItem:
    """A difficulty with its answer; raised only in a report's text when it has no id."""

    difficulty_id: str | None
    unit_code: str
    unit_name: str
    text: str
    raised_at: datetime | None
    answer: str = ""
    answered_by: str = ""
    answered_at: datetime | None = None

    @property
    def answered(self) -> bool:
        """Whether Phòng Nội vụ has answered it."""
        return bool(self.answer)


@dataclass(frozen=True)
class WarningItem:
    """A validation warning kept with a unit's current report."""

    unit_code: str
    unit_name: str
    state: str
    path: str
    code: str
    field: str
    label: str
    message: str


@dataclass(frozen=True)
class Summary:
    """Everything Phòng Nội vụ consolidates for a period."""

    completeness: Completeness
    sections: tuple[SectionSummary, ...]
    text_fields: tuple[TextFieldSummary, ...]
    difficulties: tuple[DifficultyItem, ...]
    warnings: tuple[WarningItem, ...]
    earlier: PeriodInfo | None = None
    form_title: str = ""
    indicators: dict[str, IndicatorSummary] = field(default_factory=dict)

    @property
    def period(self) -> PeriodInfo:
        """The period summarised."""
        return self.completeness.period


def json_number(value: Value | None) -> int | float | bool | None:
    """A figure as a JSON value: counts stay integers, amounts become numbers."""
    return float(value) if isinstance(value, Decimal) else value
