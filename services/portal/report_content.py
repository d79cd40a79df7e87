"""A stored report laid out by its form for reading: labels in Vietnamese, figures
formatted, "Chưa báo cáo" where nothing was reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.portal.figures import display_figure
from shared.contracts.api.intake import LeaderCheckView, LeaderInfo
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
    # Plan II.5 as the version answered it: the question and the answer in words.
    leader_label: str = ""
    leader_text: str = ""


@dataclass(frozen=True)
class ContentText:
    """A whole-report text field of a stored report; ``entries`` for repeated fields."""

    code: str
    label: str
    text: str
    entries: list[str]
    repeated: bool


def _person(person: LeaderInfo | None) -> str:
    if person is None or not person.full_name:
        return ""
    return person.full_name + (f", {person.title}" if person.title else "")


def _answered_person(answer: Mapping[str, Any]) -> str:
    """The leader a report body names (the form's shape, not an API model)."""
    full_name, title = str(answer.get("full_name") or ""), str(answer.get("title") or "")
    return _person(LeaderInfo(full_name=full_name, title=title))


def leader_text(answer: Any, check: LeaderCheckView | None) -> str:
    """The unit's answer to the leader check in words; ``check`` is intake's
    ``leader_check`` view (with the leader the registry held), when it has one."""
    if check is not None:
        on_record = _person(check.on_record)
        if check.confirmed:
            return f"Đơn vị xác nhận: {on_record}." if on_record else "Đơn vị xác nhận."
        reported = _person(check.reported)
        before = f" (danh mục đơn vị: {on_record})" if on_record else ""
        return f"Đơn vị báo thay đổi: nay là {reported}{before}."
    if not isinstance(answer, Mapping) or answer.get("confirmed") is None:
        return "Chưa báo cáo"
    if answer.get("confirmed") is True:
        return "Đơn vị xác nhận lãnh đạo phụ trách theo danh mục đơn vị."
    return f"Đơn vị báo thay đổi: nay là {_answered_person(answer)}."


def content_view(
    form: FormDefinition,
    content: Mapping[str, Any],
    leader_check: LeaderCheckView | None = None,
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
                leader_label=section.leader_check.label if section.leader_check else "",
                leader_text=leader_text(stored.get(section.leader_check.code), leader_check)
                if section.leader_check
                else "",
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
