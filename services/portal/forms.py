"""The report form as HTML fields: values in and out, and issues placed next to their field.

Pure functions, no I/O. Every input is named by the dotted path intake uses in its issues
("sections.4.indicators.ho_so_tthc_qua_han", "ton_tai_han_che", "vuong_mac" with entries
"vuong_mac.0", ...), so a 422 maps back onto the page without a translation table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from services.portal.figures import format_figure, parse_indicator
from shared.contracts.api.intake import ContentIssue, LeaderInfo
from shared.forms import FormDefinition, Indicator, Section, TextField
from shared.forms.model import LeaderCheck

# Boxes for "vướng mắc" entries without JavaScript: at least this many in all, and always
# at least BLANK_DIFFICULTY_BOXES empty ones after those already written (within max_items).
MIN_DIFFICULTY_BOXES = 5
BLANK_DIFFICULTY_BOXES = 2

FieldKind = Literal["count", "decimal", "yes_no", "text", "text_list"]
FormValues = dict[str, str | list[str]]
# What the functions read: any mapping of paths to typed text (entries for repeated fields).
ValuesIn = Mapping[str, str | list[str]]

_SECTION_PREFIX = re.compile(r"^Mục \d+\. [^:]+: ")


@dataclass(frozen=True)
class IssueView:
    """One problem as the page shows it."""

    path: str
    label: str
    message: str
    severity: str = "error"

    @property
    def inline_message(self) -> str:
        """The message shown next to its field, without the section prefix the field's
        own section heading already shows ("Mục 4. Cải cách hành chính: ...")."""
        return _SECTION_PREFIX.sub("", self.message, count=1) or self.message

    @property
    def anchor(self) -> str:
        """The id of the input the issue belongs to (the summary links to it)."""
        return self.path or "bieu-mau"


@dataclass
class FieldView:
    """One input on the page."""

    path: str
    code: str
    label: str
    kind: FieldKind
    value: str = ""
    entries: list[str] = field(default_factory=list)
    required: bool = False
    max_length: int | None = None
    hint: str = ""
    errors: list[IssueView] = field(default_factory=list)
    warnings: list[IssueView] = field(default_factory=list)
    entry_errors: dict[int, list[IssueView]] = field(default_factory=dict)

    @property
    def invalid(self) -> bool:
        """True when an error is attached to the field or one of its entries."""
        return bool(self.errors) or any(self.entry_errors.values())


# The two answers to the leader check (plan II.5); "" is not answered yet.
LEADER_CONFIRMED, LEADER_CHANGED = "xac-nhan", "thay-doi"


@dataclass
class LeaderCheckView:
    """Plan II.5 on the page: the leader the registry holds for the unit, and the unit's
    answer (confirmed, or who is in charge now)."""

    path: str
    label: str
    on_record: LeaderInfo | None
    choice: str
    full_name: str
    title: str
    full_name_label: str
    title_label: str
    max_length: int
    errors: list[IssueView] = field(default_factory=list)
    full_name_errors: list[IssueView] = field(default_factory=list)
    title_errors: list[IssueView] = field(default_factory=list)

    @property
    def invalid(self) -> bool:
        """True when any part of the answer has an error."""
        return bool(self.errors or self.full_name_errors or self.title_errors)

    @property
    def confirmed_path(self) -> str:
        """The input name (and id of the "confirm" choice) of the answer."""
        return f"{self.path}.confirmed"

    @property
    def full_name_path(self) -> str:
        """The input name of the reported leader's full name."""
        return f"{self.path}.full_name"

    @property
    def title_path(self) -> str:
        """The input name of the reported leader's title."""
        return f"{self.path}.title"


@dataclass
class SectionView:
    """One task area: its narrative and indicators."""

    number: int
    title: str
    plan_ref: str | None
    path: str
    narrative: FieldView
    indicators: list[FieldView]
    errors: list[IssueView] = field(default_factory=list)
    leader_check: LeaderCheckView | None = None


@dataclass
class FormView:
    """The whole form with the values to show and every issue placed."""

    form_id: str
    version: str
    kind: str
    title: str
    sections: list[SectionView]
    text_fields: list[FieldView]
    errors: list[IssueView]
    warnings: list[IssueView]
    # Issues whose path names no input on the page (shown only in the summary).
    general: list[IssueView]


def indicator_path(section: Section, indicator: Indicator) -> str:
    """The input name of an indicator."""
    return f"sections.{section.key}.indicators.{indicator.code}"


def narrative_path(section: Section) -> str:
    """The input name of a section's narrative."""
    return f"sections.{section.key}.narrative"


def leader_path(section: Section, check: LeaderCheck) -> str:
    """The dotted path of a section's leader check ("sections.8.lanh_dao_phu_trach")."""
    return f"sections.{section.key}.{check.code}"


def _hint(indicator: Indicator) -> str:
    if indicator.type == "count":
        return "Số nguyên ≥ 0. Để trống nếu không báo cáo (khác với 0)."
    if indicator.type == "decimal":
        places = indicator.decimal_places
        return (
            f"Số ≥ 0, tối đa {places} chữ số thập phân, dùng dấu phẩy (ví dụ 12,5). "
            "Để trống nếu không báo cáo."
        )
    return ""


def values_from_submission(form: FormDefinition, data: Mapping[str, Sequence[str]]) -> FormValues:
    """The raw strings the user typed, keyed by path (blank difficulty boxes dropped)."""
    values: FormValues = {}

    def first(path: str) -> str:
        found = data.get(path) or [""]
        return found[0]

    for section in form.sections:
        values[narrative_path(section)] = first(narrative_path(section))
        for indicator in section.indicators:
            values[indicator_path(section, indicator)] = first(indicator_path(section, indicator))
        if section.leader_check is not None:
            base = leader_path(section, section.leader_check)
            for part in ("confirmed", "full_name", "title"):
                values[f"{base}.{part}"] = first(f"{base}.{part}")
    for text in form.text_fields:
        if text.repeated:
            values[text.code] = [entry for entry in data.get(text.code) or [] if entry.strip()]
        else:
            values[text.code] = first(text.code)
    return values


def body_from_values(period_id: str, form: FormDefinition, values: ValuesIn) -> dict[str, Any]:
    """The JSON body intake expects, from the typed values."""
    body: dict[str, Any] = {"period_id": period_id}
    if form.kind == "periodic":
        sections: dict[str, Any] = {}
        for section in form.sections:
            part: dict[str, Any] = {
                "narrative": _text(values.get(narrative_path(section))),
                "indicators": {
                    ind.code: parse_indicator(ind, _text(values.get(indicator_path(section, ind))))
                    for ind in section.indicators
                },
            }
            check = section.leader_check
            if check is not None:
                answer = leader_answer_from_values(leader_path(section, check), values)
                if answer is not None:
                    part[check.code] = answer
            sections[section.key] = part
        body["sections"] = sections
    for text in form.text_fields:
        raw = values.get(text.code)
        if text.repeated:
            body[text.code] = list(raw) if isinstance(raw, list) else []
        else:
            body[text.code] = _text(raw)
    return body


def _text(value: str | list[str] | None) -> str:
    return value if isinstance(value, str) else ""


def leader_answer_from_values(path: str, values: ValuesIn) -> dict[str, Any] | None:
    """The leader check's answer in a report body, from the page's choice and inputs: None
    while nothing is chosen (intake then says it is still to answer)."""
    choice = _text(values.get(f"{path}.confirmed")).strip()
    if choice == LEADER_CONFIRMED:
        return {"confirmed": True}
    if choice == LEADER_CHANGED:
        return {
            "confirmed": False,
            "full_name": _text(values.get(f"{path}.full_name")),
            "title": _text(values.get(f"{path}.title")),
        }
    return None


def values_from_content(form: FormDefinition, content: Mapping[str, Any]) -> FormValues:
    """The values to show when amending a stored report."""
    values: FormValues = {}
    sections = content.get("sections") or {}
    for section in form.sections:
        stored = sections.get(section.key) or {}
        values[narrative_path(section)] = stored.get("narrative") or ""
        figures = stored.get("indicators") or {}
        for indicator in section.indicators:
            values[indicator_path(section, indicator)] = format_figure(
                indicator, figures.get(indicator.code)
            )
        if section.leader_check is not None:
            base = leader_path(section, section.leader_check)
            answer = stored.get(section.leader_check.code)
            answer = answer if isinstance(answer, Mapping) else {}
            confirmed = answer.get("confirmed")
            values[f"{base}.confirmed"] = (
                LEADER_CONFIRMED
                if confirmed is True
                else LEADER_CHANGED
                if confirmed is False
                else ""
            )
            values[f"{base}.full_name"] = str(answer.get("full_name") or "")
            values[f"{base}.title"] = str(answer.get("title") or "")
    for text in form.text_fields:
        stored_value = content.get(text.code)
        if text.repeated:
            values[text.code] = [str(e) for e in stored_value or [] if isinstance(e, str)]
        else:
            values[text.code] = stored_value if isinstance(stored_value, str) else ""
    return values


def issue_views(raw: Iterable[ContentIssue | Mapping[str, Any]], severity: str) -> list[IssueView]:
    """Intake's issues as page issues: a report's kept warnings (`ContentIssue`), or the
    problems of a refusal, which its error body lists (`validation_failed` issues in the
    `ContentIssue` shape; `invalid_request` details with a path and a message)."""
    views = []
    for item in raw:
        if isinstance(item, ContentIssue):
            views.append(
                IssueView(item.path, item.label or item.field, item.message, item.severity)
            )
            continue
        views.append(
            IssueView(
                path=str(item.get("path") or ""),
                label=str(item.get("label") or item.get("field") or ""),
                message=str(item.get("message") or ""),
                severity=str(item.get("severity") or severity),
            )
        )
    return views


def build_form_view(
    form: FormDefinition,
    values: ValuesIn,
    errors: Sequence[IssueView] = (),
    warnings: Sequence[IssueView] = (),
    *,
    leader: LeaderInfo | None = None,
) -> FormView:
    """The form ready for the template: each input with its value and its issues;
    ``leader`` is the leader in charge the registry holds for the unit (plan II.5)."""
    by_path: dict[str, FieldView] = {}
    sections: list[SectionView] = []
    section_by_path: dict[str, SectionView] = {}
    checks: dict[str, LeaderCheckView] = {}
    for section in form.sections:
        narrative = _text_field(narrative_path(section), section.narrative, values)
        indicators = [
            FieldView(
                path=indicator_path(section, ind),
                code=ind.code,
                label=ind.label,
                kind=ind.type,
                value=_text(values.get(indicator_path(section, ind))),
                hint=_hint(ind),
            )
            for ind in section.indicators
        ]
        view = SectionView(
            number=section.number,
            title=section.title,
            plan_ref=section.plan_ref,
            path=f"sections.{section.key}",
            narrative=narrative,
            indicators=indicators,
        )
        if section.leader_check is not None:
            view.leader_check = _leader_view(section, section.leader_check, values, leader)
            checks[view.leader_check.path] = view.leader_check
        sections.append(view)
        section_by_path[view.path] = view
        by_path[narrative.path] = narrative
        by_path.update((ind.path, ind) for ind in indicators)
    text_fields = [_text_field(text.code, text, values) for text in form.text_fields]
    by_path.update((text.path, text) for text in text_fields)
    general: list[IssueView] = []
    for issue in [*errors, *warnings]:
        if not (_place_leader(issue, checks) or _place(issue, by_path, section_by_path)):
            general.append(issue)
    return FormView(
        form_id=form.form_id,
        version=form.version,
        kind=form.kind,
        title=form.title,
        sections=sections,
        text_fields=text_fields,
        errors=list(errors),
        warnings=list(warnings),
        general=general,
    )


def blank_entry_boxes(written: int, max_items: int | None) -> int:
    """How many empty boxes follow the entries already written in a repeated field."""
    wanted = max(MIN_DIFFICULTY_BOXES - written, BLANK_DIFFICULTY_BOXES)
    if max_items is not None:
        wanted = min(wanted, max(max_items - written, 0))
    return wanted


def _text_field(path: str, text: TextField, values: ValuesIn) -> FieldView:
    raw = values.get(path)
    if text.repeated:
        entries = list(raw) if isinstance(raw, list) else []
        return FieldView(
            path=path,
            code=text.code,
            label=text.label,
            kind="text_list",
            entries=entries + [""] * blank_entry_boxes(len(entries), text.max_items),
            required=text.required,
            max_length=text.max_length,
            hint=(
                "Mỗi ô một vướng mắc; Phòng Nội vụ trả lời từng ý. Để trống các ô thừa. "
                "Cần thêm ô: gửi báo cáo rồi mở lại biểu mẫu, luôn có thêm ít nhất 2 ô trống."
            ),
        )
    return FieldView(
        path=path,
        code=text.code,
        label=text.label,
        kind="text",
        value=_text(raw),
        required=text.required,
        max_length=text.max_length,
        hint='Nếu không có kết quả, ghi "Không phát sinh".' if path.startswith("sections.") else "",
    )


def _leader_view(
    section: Section, check: LeaderCheck, values: ValuesIn, leader: LeaderInfo | None
) -> LeaderCheckView:
    path = leader_path(section, check)
    on_record = leader if leader is not None and leader.full_name.strip() else None
    return LeaderCheckView(
        path=path,
        label=check.label,
        on_record=on_record,
        choice=_text(values.get(f"{path}.confirmed")),
        full_name=_text(values.get(f"{path}.full_name")),
        title=_text(values.get(f"{path}.title")),
        full_name_label=check.full_name_label,
        title_label=check.title_label,
        max_length=check.max_length,
    )


def _place_leader(issue: IssueView, checks: Mapping[str, LeaderCheckView]) -> bool:
    """Attach an issue about the leader check to its part of the answer."""
    for path, check in checks.items():
        if issue.path == check.full_name_path:
            check.full_name_errors.append(issue)
        elif issue.path == check.title_path:
            check.title_errors.append(issue)
        elif issue.path in (path, check.confirmed_path):
            check.errors.append(issue)
        else:
            continue
        return True
    return False


def _place(
    issue: IssueView, by_path: dict[str, FieldView], sections: dict[str, SectionView]
) -> bool:
    """Attach an issue to its input, entry or section; False when nothing on the page fits."""
    target = by_path.get(issue.path)
    if target is not None:
        (target.errors if issue.severity == "error" else target.warnings).append(issue)
        return True
    head, _, tail = issue.path.rpartition(".")
    parent = by_path.get(head)
    if parent is not None and parent.kind == "text_list" and tail.isdigit():
        parent.entry_errors.setdefault(int(tail), []).append(issue)
        return True
    section = sections.get(issue.path)
    if section is not None:
        section.errors.append(issue)
        return True
    return False
