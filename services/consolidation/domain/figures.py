"""The shapes of a consolidation: figures, compiled texts, difficulties, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

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

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"total": json_number(self.total), "reported": self.reported}
        if self.yes is not None:
            out.update(yes=self.yes, no=self.no)
        return out


@dataclass(frozen=True)
class IndicatorSummary:
    """One indicator across the period: overall, by unit kind, per unit, against last year."""

    section: str
    code: str
    label: str
    type: str
    overall: Figure
    applicable: int
    by_kind: dict[str, Figure]
    values: dict[str, Value]
    previous: Figure | None = None

    @property
    def change(self) -> Number | None:
        """Difference from the earlier period's total, when both exist."""
        if self.previous is None or self.previous.total is None or self.overall.total is None:
            return None
        return self.overall.total - self.previous.total

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {
            "section": self.section,
            "code": self.code,
            "label": self.label,
            "type": self.type,
            **self.overall.as_dict(),
            "applicable": self.applicable,
            "by_kind": {kind: fig.as_dict() for kind, fig in self.by_kind.items()},
            "by_unit": {code: json_number(v) for code, v in self.values.items()},
        }
        if self.previous is not None:
            out["previous"] = self.previous.as_dict()
            out["change"] = json_number(self.change)
        return out


@dataclass(frozen=True)
class UnitText:
    """A text one unit wrote."""

    unit_code: str
    unit_name: str
    kind: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "kind": self.kind,
            "text": self.text,
        }


@dataclass(frozen=True)
class SectionSummary:
    """A task area: its indicators and the units' narratives in registry order."""

    key: str
    title: str
    plan_ref: str | None
    indicators: tuple[IndicatorSummary, ...]
    narratives: tuple[UnitText, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "key": self.key,
            "title": self.title,
            "plan_ref": self.plan_ref,
            "indicators": [i.as_dict() for i in self.indicators],
            "narratives": [n.as_dict() for n in self.narratives],
        }


@dataclass(frozen=True)
class TextFieldSummary:
    """A whole-report text field (Part B) compiled from every unit."""

    code: str
    label: str
    entries: tuple[UnitText, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "code": self.code,
            "label": self.label,
            "entries": [e.as_dict() for e in self.entries],
        }


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

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "difficulty_id": self.difficulty_id,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "text": self.text,
            "raised_at": self.raised_at.isoformat() if self.raised_at else None,
            "answered": bool(self.answer),
            "answer": self.answer,
            "answered_by": self.answered_by,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
        }


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

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "state": self.state,
            "path": self.path,
            "code": self.code,
            "field": self.field,
            "label": self.label,
            "message": self.message,
        }


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

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        p = self.period
        return {
            "period_id": p.period_id,
            "title": p.title,
            "kind": p.kind,
            "year": p.year,
            "due_at": p.due_at.isoformat(),
            "window_start": p.window_start.isoformat() if p.window_start else None,
            "window_end": p.window_end.isoformat() if p.window_end else None,
            "form": {"form_id": p.form_id, "version": p.form_version, "title": self.form_title},
            "completeness": self.completeness.as_dict(),
            "sections": [s.as_dict() for s in self.sections],
            "text_fields": [t.as_dict() for t in self.text_fields],
            "difficulties": [d.as_dict() for d in self.difficulties],
            "warnings": [w.as_dict() for w in self.warnings],
            "comparison": (
                {"period_id": self.earlier.period_id, "title": self.earlier.title}
                if self.earlier
                else None
            ),
        }


def json_number(value: Value | None) -> int | float | bool | None:
    """A figure as a JSON value: counts stay integers, amounts become numbers."""
    return float(value) if isinstance(value, Decimal) else value
