"""A stored report laid out by its form for reading: labels in Vietnamese, figures
formatted, "Chưa báo cáo" where nothing was reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.portal.figures import display_figure
from shared.forms import FormDefinition


@dataclass(frozen=True)
class FigureRow:
    """One indicator of a stored report, ready to show."""

    code: str
    label: str
    display: str
    reported: bool


@dataclass(frozen=True)
class ContentSection:
    """One section of a stored report, ready to show."""

    number: int
    title: str
    narrative: str
    figures: list[FigureRow]


@dataclass(frozen=True)
class ContentText:
    """A whole-report text field of a stored report; ``entries`` for repeated fields."""

    code: str
    label: str
    text: str
    entries: list[str]
    repeated: bool


def content_view(
    form: FormDefinition, content: Mapping[str, Any]
) -> tuple[list[ContentSection], list[ContentText]]:
    """A stored report's content laid out by its form, labels in Vietnamese."""
    stored_sections = content.get("sections") or {}
    sections = []
    for section in form.sections:
        stored = stored_sections.get(section.key) or {}
        figures = stored.get("indicators") or {}
        sections.append(
            ContentSection(
                number=section.number,
                title=section.title,
                narrative=str(stored.get("narrative") or ""),
                figures=[
                    FigureRow(
                        code=ind.code,
                        label=ind.label,
                        display=display_figure(ind, figures.get(ind.code)),
                        reported=figures.get(ind.code) is not None,
                    )
                    for ind in section.indicators
                ],
            )
        )
    texts = []
    for text in form.text_fields:
        value = content.get(text.code)
        entries = [str(v) for v in value] if isinstance(value, list) else []
        texts.append(
            ContentText(
                code=text.code,
                label=text.label,
                text=value if isinstance(value, str) else "",
                entries=entries,
                repeated=text.repeated,
            )
        )
    return sections, texts
