"""Aggregation of a period's current reports: figures, compiled texts, difficulties, warnings.

"Not reported" is not 0: a figure's total is None when no unit reported it, and every
total says how many units it is made of.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.consolidation.domain.completeness import UnitProgress, completeness, kind_rank
from services.consolidation.domain.figures import (
    DifficultyItem,
    Figure,
    IndicatorSummary,
    SectionSummary,
    Summary,
    TextFieldSummary,
    UnitText,
    Value,
    WarningItem,
)
from services.consolidation.domain.records import (
    DifficultyRecord,
    PeriodInfo,
    ReportRecord,
    current_reports,
)
from services.consolidation.domain.versions import FormLookup, ReadReport, content_in_form
from shared.contracts.registry import ExpectedUnit
from shared.forms import FormDefinition, Indicator, Section, load_form

# An expected unit with its current report's content, read in the period's form.
Reporting = list[tuple[ExpectedUnit, ReadReport]]


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
    form_of: FormLookup = load_form,
) -> Summary:
    """Consolidate a period's current reports in `form` (each report read through the
    crosswalk from the version it was written on); `earlier` adds last year's figures."""
    all_reports = [r for r in reports if r.period_id == period.period_id]
    status = completeness(period, all_reports)
    current = current_reports(all_reports)
    expected = {u.code: u for u in period.ordered_units()}
    period_form = (period.form_id, period.form_version)
    # Registry order: the expected units that have a current report.
    reporting: Reporting = [
        (expected[u.code], content_in_form(current[u.code], form, period_form, form_of))
        for u in status.units
        if u.code in current
    ]
    groups = _unit_groups(period.ordered_units())
    read_of = {u.code: read for u, read in reporting}
    sections = tuple(_section(s, reporting, earlier, groups, read_of) for s in form.sections)
    texts = tuple(
        TextFieldSummary(
            code=f.code,
            label=f.label,
            entries=tuple(
                UnitText(u.code, u.name, u.kind, text)
                for u, read in reporting
                if (text := _text(read.content.get(f.code)))
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


def _text(raw: Any) -> str:
    return unicodedata.normalize("NFC", raw).strip() if isinstance(raw, str) else ""


def _section_content(content: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    sections = content.get("sections")
    part = sections.get(key) if isinstance(sections, Mapping) else None
    return part if isinstance(part, Mapping) else {}


UnitGroups = Mapping[tuple[str, frozenset[str]], int]
"""How many expected units there are of each kind and set of tags: what a form's rules read
of a unit, so a count over the expected units costs the number of groups, not of units."""


def _unit_groups(units: Iterable[ExpectedUnit]) -> UnitGroups:
    return Counter((u.kind, frozenset(u.tags)) for u in units)


def _section(
    section: Section,
    reporting: Reporting,
    earlier: Summary | None,
    groups: UnitGroups,
    read_of: Mapping[str, ReadReport],
) -> SectionSummary:
    narratives = tuple(
        UnitText(u.code, u.name, u.kind, text)
        for u, read in reporting
        if (text := _text(_section_content(read.content, section.key).get("narrative")))
    )
    indicators = tuple(
        _indicator(section, ind, reporting, earlier, groups, read_of) for ind in section.indicators
    )
    expected = sum(
        n for (kind, tags), n in groups.items() if section.applies_to.includes(kind, tags)
    )
    return SectionSummary(
        section.key, section.title, section.plan_ref, indicators, narratives, expected
    )


def _applies(section: Section, indicator: Indicator, unit: ExpectedUnit) -> bool:
    return _applies_to(section, indicator, unit.kind, set(unit.tags))


def _applies_to(section: Section, indicator: Indicator, kind: str, tags: AbstractSet[str]) -> bool:
    return section.applies_to.includes(kind, tags) and indicator.applies_to.includes(kind, tags)


def _indicator(
    section: Section,
    indicator: Indicator,
    reporting: Reporting,
    earlier: Summary | None,
    groups: UnitGroups,
    read_of: Mapping[str, ReadReport],
) -> IndicatorSummary:
    values: dict[str, Value] = {}
    kinds: dict[str, list[Value]] = {}
    applicable = 0
    for unit, read in reporting:
        raw = _section_content(read.content, section.key).get("indicators")
        figures: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        kinds.setdefault(unit.kind, [])
        # Only units the figure applies to count (by kind and tag); a report written on a
        # version that never asked for the figure is neither reported nor applicable.
        if not (read.was_asked(indicator.code) and _applies(section, indicator, unit)):
            continue
        applicable += 1
        value = parse_value(indicator, figures.get(indicator.code))
        if value is not None:
            values[unit.code] = value
            kinds[unit.kind].append(value)
    # The "m" of "n/m đơn vị": the expected units asked for the figure, reported or not.
    # (Every expected unit the figure applies to, less those whose report was written on a
    # version that never asked for it.)
    expected = sum(
        n for (kind, tags), n in groups.items() if _applies_to(section, indicator, kind, tags)
    )
    reporting_units = {u.code: u for u, _ in reporting}
    expected -= sum(
        1
        for code, read in read_of.items()
        if not read.was_asked(indicator.code)
        and _applies(section, indicator, reporting_units[code])
    )
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
        expected=expected,
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
    reporting: Reporting,
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
    for unit, read in reporting:
        entries = read.content.get("vuong_mac")
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
