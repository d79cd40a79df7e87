"""Aggregation of a period's current reports: figures, compiled texts, difficulties, warnings.

"Not reported" is not 0: a figure's total is None when no unit reported it, and every
total says how many units it is made of.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.consolidation.domain.completeness import (
    Completeness,
    UnitProgress,
    completeness,
    kind_rank,
)
from services.consolidation.domain.records import (
    DifficultyRecord,
    PeriodInfo,
    ReportRecord,
    current_reports,
)
from shared.contracts.registry import ExpectedUnit
from shared.forms import FormDefinition, Indicator, Section

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


def parse_value(indicator: Indicator, raw: Any) -> Value | None:
    """An indicator's value from report content; anything unusable is "not reported"."""
    if raw is None:
        return None
    if indicator.type == "yes_no":
        return raw if isinstance(raw, bool) else None
    if isinstance(raw, bool):
        return None
    if indicator.type == "count":
        return raw if isinstance(raw, int) else None
    try:
        if isinstance(raw, float):
            return Decimal(repr(raw)) if math.isfinite(raw) else None
        if isinstance(raw, int | str):
            number = Decimal(raw)
            return number if number.is_finite() else None
    except InvalidOperation:
        return None
    return None


def summarise(
    period: PeriodInfo,
    form: FormDefinition,
    reports: Iterable[ReportRecord],
    difficulties: Iterable[DifficultyRecord] = (),
    *,
    earlier: Summary | None = None,
    unit_names: Mapping[str, str] | None = None,
) -> Summary:
    """Consolidate a period's current reports; `earlier` adds last year's figures."""
    all_reports = [r for r in reports if r.period_id == period.period_id]
    status = completeness(period, all_reports)
    current = current_reports(all_reports)
    expected = {u.code: u for u in period.ordered_units()}
    # Registry order: the expected units that have a current report.
    reporting = [(expected[u.code], current[u.code]) for u in status.units if u.code in current]
    sections = tuple(_section(s, reporting, earlier) for s in form.sections)
    texts = tuple(
        TextFieldSummary(
            code=f.code,
            label=f.label,
            entries=tuple(
                UnitText(u.code, u.name, u.kind, text)
                for u, r in reporting
                if (text := _text(_content(r).get(f.code)))
            ),
        )
        for f in form.text_fields
        if not f.repeated
    )
    names = {**(unit_names or {}), **{code: u.name for code, u in expected.items()}}
    return Summary(
        completeness=status,
        sections=sections,
        text_fields=texts,
        difficulties=_difficulties(status.units, reporting, all_reports, difficulties, names),
        warnings=_warnings(status.units, current),
        earlier=earlier.period if earlier else None,
        form_title=form.title,
        indicators={i.code: i for s in sections for i in s.indicators},
    )


def _content(report: ReportRecord) -> dict[str, Any]:
    return report.submission.content if report.submission else {}


def _text(raw: Any) -> str:
    return unicodedata.normalize("NFC", raw).strip() if isinstance(raw, str) else ""


def _section_content(report: ReportRecord, key: str) -> Mapping[str, Any]:
    sections = _content(report).get("sections")
    part = sections.get(key) if isinstance(sections, Mapping) else None
    return part if isinstance(part, Mapping) else {}


def _section(
    section: Section,
    reporting: list[tuple[ExpectedUnit, ReportRecord]],
    earlier: Summary | None,
) -> SectionSummary:
    narratives = tuple(
        UnitText(u.code, u.name, u.kind, text)
        for u, r in reporting
        if (text := _text(_section_content(r, section.key).get("narrative")))
    )
    indicators = tuple(_indicator(section, ind, reporting, earlier) for ind in section.indicators)
    return SectionSummary(section.key, section.title, section.plan_ref, indicators, narratives)


def _indicator(
    section: Section,
    indicator: Indicator,
    reporting: list[tuple[ExpectedUnit, ReportRecord]],
    earlier: Summary | None,
) -> IndicatorSummary:
    values: dict[str, Value] = {}
    kinds: dict[str, list[Value]] = {}
    applicable = 0
    for unit, report in reporting:
        tags = set(unit.tags)
        if section.applies_to.includes(unit.kind, tags) and indicator.applies_to.includes(
            unit.kind, tags
        ):
            applicable += 1
        raw = _section_content(report, section.key).get("indicators")
        value = parse_value(
            indicator, raw.get(indicator.code) if isinstance(raw, Mapping) else None
        )
        kinds.setdefault(unit.kind, [])
        if value is not None:
            values[unit.code] = value
            kinds[unit.kind].append(value)
    previous = None
    if earlier is not None and indicator.code in earlier.indicators:
        previous = earlier.indicators[indicator.code].overall
    return IndicatorSummary(
        section=section.key,
        code=indicator.code,
        label=indicator.label,
        type=indicator.type,
        overall=_figure(indicator, list(values.values())),
        applicable=applicable,
        by_kind={k: _figure(indicator, kinds[k]) for k in sorted(kinds, key=kind_rank)},
        values=values,
        previous=previous,
    )


def _figure(indicator: Indicator, values: list[Value]) -> Figure:
    if not values:
        return Figure(total=None, reported=0, **({"yes": 0, "no": 0} if _yes_no(indicator) else {}))
    if _yes_no(indicator):
        yes = sum(1 for v in values if v is True)
        return Figure(total=yes, reported=len(values), yes=yes, no=len(values) - yes)
    if indicator.type == "count":
        return Figure(total=sum(int(v) for v in values), reported=len(values))
    return Figure(total=sum((Decimal(v) for v in values), Decimal(0)), reported=len(values))


def _yes_no(indicator: Indicator) -> bool:
    return indicator.type == "yes_no"


def _warnings(
    units: tuple[UnitProgress, ...], current: dict[str, ReportRecord]
) -> tuple[WarningItem, ...]:
    items: list[WarningItem] = []
    for unit in units:
        report = current.get(unit.code)
        if report is None or report.submission is None:
            continue
        for w in report.submission.warnings:
            items.append(
                WarningItem(
                    unit_code=unit.code,
                    unit_name=unit.name,
                    state=unit.state,
                    path=str(w.get("path", "")),
                    code=str(w.get("code", "")),
                    field=str(w.get("field", "")),
                    label=str(w.get("label", "")),
                    message=str(w.get("message", "")),
                )
            )
    return tuple(items)


def _difficulties(
    units: tuple[UnitProgress, ...],
    reporting: list[tuple[ExpectedUnit, ReportRecord]],
    reports: list[ReportRecord],
    raised: Iterable[DifficultyRecord],
    names: Mapping[str, str],
) -> tuple[DifficultyItem, ...]:
    withdrawn = {r.report_id for r in reports if r.state == "withdrawn"}
    threads = [d for d in raised if d.report_id is None or d.report_id not in withdrawn]
    by_unit: dict[str, list[DifficultyItem]] = {}
    for d in threads:
        by_unit.setdefault(d.unit_code, []).append(
            DifficultyItem(
                difficulty_id=d.difficulty_id,
                unit_code=d.unit_code,
                unit_name=names.get(d.unit_code, d.unit_code),
                text=d.text,
                raised_at=d.raised_at,
                answer=d.answer,
                answered_by=d.answered_by,
                answered_at=d.answered_at,
            )
        )
    # A report's "vướng mắc" entries that intake has not (yet) raised as threads still count.
    for unit, report in reporting:
        entries = _content(report).get("vuong_mac")
        known = {_text(item.text) for item in by_unit.get(unit.code, [])}
        for entry in entries if isinstance(entries, list) else []:
            text = _text(entry)
            if text and text not in known:
                known.add(text)
                by_unit.setdefault(unit.code, []).append(
                    DifficultyItem(None, unit.code, unit.name, text, None)
                )
    order = {u.code: i for i, u in enumerate(units)}
    ordered = sorted(by_unit, key=lambda code: (order.get(code, len(order)), code))
    items: list[DifficultyItem] = []
    for code in ordered:
        items.extend(
            sorted(
                by_unit[code],
                key=lambda d: (
                    d.raised_at is None,
                    d.raised_at or datetime.min,
                    d.difficulty_id or "",
                    d.text,
                ),
            )
        )
    return tuple(items)
