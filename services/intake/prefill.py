"""A draft's head start, without I/O: which earlier report it starts from, and what it copies.

A draft starts from the unit's most recent earlier periodic report (for an annual report,
that year's six-month report when the unit sent one). Only the narratives are copied: each
section's "Kết quả thực hiện" and the whole-report texts (tồn tại, hạn chế; phương hướng;
đề xuất, kiến nghị), read across form versions through the explicit crosswalk. Figures stay
empty, vướng mắc are not copied (they are this period's questions), and the leader check is
answered afresh. Nothing the clerk already wrote is overwritten: only empty places are filled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.clock import VN_TZ
from shared.forms import FormDefinition
from shared.forms.crosswalk import translate_content


@dataclass(frozen=True)
class EarlierReport:
    """A report the unit sent for an earlier periodic period (its current version)."""

    report_id: str
    period_id: str
    period_title: str
    period_kind: str
    period_year: int | None
    due_at: datetime
    version: int
    form_id: str
    form_version: str

    @property
    def year(self) -> int:
        """The reporting year (from the deadline when the projection predates the year)."""
        return self.period_year or self.due_at.astimezone(VN_TZ).year


def pick_source(kind: str, year: int, earlier: Sequence[EarlierReport]) -> EarlierReport | None:
    """The report to start from: for an annual report that year's six-month report if the
    unit sent one, otherwise (and for a six-month report) the most recent earlier one."""
    latest_first = sorted(earlier, key=lambda r: r.due_at, reverse=True)
    if kind == "annual":
        same_year = [r for r in latest_first if r.period_kind == "six_month" and r.year == year]
        if same_year:
            return same_year[0]
    return latest_first[0] if latest_first else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def prefilled(
    draft: Mapping[str, Any],
    source_content: Mapping[str, Any],
    source_form: FormDefinition,
    target_form: FormDefinition,
    unit_form: FormDefinition,
) -> tuple[dict[str, Any], list[str]]:
    """The draft with its empty narratives filled from the earlier report, and the paths it
    filled. `target_form` is the period's form, `unit_form` the same cut to the unit."""
    earlier = translate_content(source_content, source_form, target_form)
    content = dict(draft)
    filled: list[str] = []
    raw_sections = content.get("sections", {})
    if isinstance(raw_sections, Mapping):
        sections = dict(raw_sections)
        earlier_sections = earlier.get("sections", {})
        for section in unit_form.sections:
            narrative = _text((earlier_sections.get(section.key) or {}).get("narrative"))
            if narrative is None:
                continue
            current = sections.get(section.key)
            if current is None:
                current = {"narrative": None, "indicators": {}}
            if not isinstance(current, Mapping) or not _blank(current.get("narrative")):
                continue
            sections[section.key] = {**current, "narrative": narrative}
            filled.append(f"sections.{section.key}.narrative")
        content["sections"] = sections
    for field in unit_form.text_fields:
        text = _text(earlier.get(field.code))
        if field.repeated or text is None or not _blank(content.get(field.code)):
            continue
        content[field.code] = text
        filled.append(field.code)
    return content, filled
