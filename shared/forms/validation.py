"""Validate a report body against its form, collecting every problem at once.

The body is what the unit sends (JSON already parsed), without ``period_id``. Periodic:
``{"sections": {"1": {"narrative": str, "indicators": {code: value}}, ...},
"ton_tai_han_che": str, "phuong_huong": str, "de_xuat_kien_nghi": str,
"vuong_mac": [str, ...]}``; ad-hoc: ``{"noi_dung": str, "vuong_mac": [str, ...]}``.
Numbers must be JSON numbers: a string of digits, a boolean or ``3.0`` for a count are
refused, so nothing is guessed. See ``ValidationResult`` for the canonical content.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

from shared.formatting import vn_number
from shared.forms.applicability import form_for_unit
from shared.forms.issues import Issue, IssueCode, ValidationResult
from shared.forms.model import (
    CARRIED_OVER_NOTE,
    FormDefinition,
    Indicator,
    LeaderCheck,
    Section,
    Severity,
    SumLeRule,
    TextField,
)
from shared.forms.text import TextRejected, clean_text, is_blank
from shared.forms.wording import EXPECTED, where_in


class _Validator:
    """Walks one body, building the canonical content and the list of issues."""

    def __init__(self, form: FormDefinition, leader_on_record: bool | None = None) -> None:
        self.form = form
        self.leader_on_record = leader_on_record
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def result(self, content: dict[str, Any]) -> ValidationResult:
        return ValidationResult(content=content, errors=self.errors, warnings=self.warnings)

    def issue(
        self,
        path: str,
        code: IssueCode,
        field: str,
        label: str,
        message: str,
        severity: Severity = "error",
    ) -> None:
        issue = Issue(
            path=path, code=code, field=field, label=label, message=message, severity=severity
        )
        (self.errors if severity == "error" else self.warnings).append(issue)

    def mapping(
        self, raw: Any, path: str, field: str, label: str, message: str
    ) -> Mapping[Any, Any] | None:
        """The value as a mapping ({} when absent), or None after a wrong_type issue."""
        if raw is None:
            return {}
        if isinstance(raw, Mapping):
            return raw
        self.issue(path, IssueCode.WRONG_TYPE, field, label, message)
        return None

    def unknown(self, path: str, key: Any, where: str = "", what: str = "Trường") -> None:
        key_text = str(key)
        message = (
            f"{where}{what} “{key_text}” không có trong biểu mẫu "
            f"{self.form.form_id} phiên bản {self.form.version}."
        )
        self.issue(f"{path}{key_text}", IssueCode.UNKNOWN_FIELD, key_text, key_text, message)

    def not_applicable(self, path: str, field: str, label: str, where: str = "") -> None:
        message = f"{where}{label} không áp dụng cho đơn vị này nên không được gửi."
        self.issue(path, IssueCode.NOT_APPLICABLE, field, label, message)

    def text(
        self, field: TextField, raw: Any, path: str, section: Section | None = None
    ) -> str | None:
        """A single text field, cleaned; None when empty or invalid."""
        where, name = where_in(section), field.label
        value = self.clean(field, raw, path, where, name)
        # Absent and blank are both "not filled in"; a value refused by clean is not.
        if raw is None or value == "":
            if field.required:
                hint = "; nếu không có kết quả, ghi “Không phát sinh”" if section else ""
                message = f"{where}{name} chưa được nhập{hint}."
                self.issue(path, IssueCode.REQUIRED, field.code, field.label, message)
            return None
        return value

    def clean(self, field: TextField, raw: Any, path: str, where: str, name: str) -> str | None:
        """Cleaned text ("" when blank), or None when absent or after an issue."""
        if raw is None:
            return None
        if not isinstance(raw, str):
            message = f"{where}{name} phải là {EXPECTED['text']}."
            self.issue(path, IssueCode.WRONG_TYPE, field.code, field.label, message)
            return None
        try:
            value = clean_text(raw)
        except TextRejected as exc:
            kind = "ký tự điều khiển" if exc.code == "control_character" else "ký tự"
            message = (
                f"{where}{name} chứa {kind} không được phép ({exc.codepoint}) "
                f"ở vị trí {exc.position + 1}."
            )
            self.issue(path, IssueCode(exc.code), field.code, field.label, message)
            return None
        if is_blank(value):
            return ""
        if len(value) > field.max_length:
            message = (
                f"{where}{name} dài {vn_number(len(value))} ký tự, vượt quá giới hạn "
                f"{vn_number(field.max_length)} ký tự."
            )
            self.issue(path, IssueCode.TOO_LONG, field.code, field.label, message)
            return None
        return value

    def text_list(self, field: TextField, raw: Any, path: str) -> list[str]:
        """A repeated text field: every non-empty entry, cleaned."""
        name = field.label
        if raw is None:
            raw = []
        if not isinstance(raw, list | tuple):
            message = f"{name} phải là {EXPECTED['list']}."
            self.issue(path, IssueCode.WRONG_TYPE, field.code, field.label, message)
            return []
        if field.max_items is not None and len(raw) > field.max_items:
            message = f"{name} có {len(raw)} mục, vượt quá giới hạn {field.max_items} mục."
            self.issue(path, IssueCode.TOO_MANY_ITEMS, field.code, field.label, message)
        entries: list[str] = []
        for index, entry in enumerate(raw):
            entry_path, entry_name = f"{path}.{index}", f"{name}, mục thứ {index + 1},"
            value = self.clean(field, entry, entry_path, "", entry_name)
            if value:
                entries.append(value)
            elif value == "" or entry is None:
                message = f"{entry_name} để trống."
                self.issue(entry_path, IssueCode.EMPTY_ENTRY, field.code, field.label, message)
        if field.required and not raw:
            message = f"{name} chưa được nhập."
            self.issue(path, IssueCode.REQUIRED, field.code, field.label, message)
        return entries

    def indicator(self, ind: Indicator, raw: Any, path: str, section: Section) -> Any:
        """The canonical value of one indicator, or None when not reported or invalid."""
        where, name = where_in(section), ind.label

        def problem(code: IssueCode, text: str) -> None:
            self.issue(path, code, ind.code, ind.label, f"{where}{name} {text}.")

        if raw is None:
            return None
        if ind.type == "yes_no":
            if isinstance(raw, bool):
                return raw
            problem(IssueCode.WRONG_TYPE, f"phải là {EXPECTED['yes_no']}")
            return None
        # bool is a subclass of int: True must never count as 1.
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            problem(IssueCode.WRONG_TYPE, f"phải là {EXPECTED[ind.type]}")
            return None
        if isinstance(raw, float) and not math.isfinite(raw):
            problem(IssueCode.NOT_A_NUMBER, "không phải là một số hợp lệ")
            return None
        if isinstance(raw, Decimal) and not raw.is_finite():
            problem(IssueCode.NOT_A_NUMBER, "không phải là một số hợp lệ")
            return None
        if ind.type == "count" and not isinstance(raw, int):
            problem(IssueCode.NOT_INTEGER, "phải là số nguyên, không có phần thập phân")
            return None
        # repr gives the shortest decimal that reads back as the same float (0.1 -> "0.1").
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        assert ind.minimum is not None and ind.maximum is not None  # model guarantees
        if not ind.minimum <= number <= ind.maximum:
            bounds = f"từ {vn_number(ind.minimum)} đến {vn_number(ind.maximum)}"
            problem(IssueCode.OUT_OF_RANGE, f"phải nằm trong khoảng {bounds}")
            return None
        if _decimal_places(number) > ind.decimal_places:
            places = ind.decimal_places
            problem(IssueCode.TOO_MANY_DECIMALS, f"chỉ được có tối đa {places} chữ số thập phân")
            return None
        if ind.type == "count":
            return raw
        if number == 0:
            number = Decimal(0)  # "-0.0" and "0.0" are the same amount
        return str(number.quantize(Decimal(1).scaleb(-ind.decimal_places)))

    def section(self, section: Section, full: Section, raw: Any) -> dict[str, Any]:
        """One section's narrative and indicators."""
        path, where = f"sections.{section.key}", where_in(section)
        content: dict[str, Any] = {
            "narrative": None,
            "indicators": {ind.code: None for ind in section.indicators},
        }
        message = f"{where}nội dung của mục phải là {EXPECTED['section']}."
        check = section.leader_check
        if check is not None:
            content[check.code] = None
        body = self.mapping(raw, path, section.key, section.title, message)
        if body is None:
            return content
        allowed = {"narrative", "indicators", *((check.code,) if check else ())}
        for key in body:
            if key not in allowed:
                self.unknown(f"{path}.", key, where)
        content["narrative"] = self.text(
            section.narrative, body.get("narrative"), f"{path}.narrative", section
        )
        if check is not None:
            content[check.code] = self.leader(check, body.get(check.code), section)
        message = f"{where}các chỉ số phải là {EXPECTED['indicators']}."
        raw_indicators = self.mapping(
            body.get("indicators"), f"{path}.indicators", "indicators", "Các chỉ số", message
        )
        if raw_indicators is None:
            return content
        applicable = {ind.code for ind in section.indicators}
        known_indicators = {ind.code: ind for ind in reversed(full.indicators)}
        for key in raw_indicators:
            known = known_indicators.get(key) if isinstance(key, str) else None
            if known is None:
                self.unknown(f"{path}.indicators.", key, where)
            elif key not in applicable:
                self.not_applicable(f"{path}.indicators.{key}", key, known.label, where)
        for ind in section.indicators:
            value = self.indicator(
                ind, raw_indicators.get(ind.code), f"{path}.indicators.{ind.code}", section
            )
            content["indicators"][ind.code] = value
        return content

    def leader(self, check: LeaderCheck, raw: Any, section: Section) -> dict[str, Any] | None:
        """The unit's answer to the leader check: confirmed, or who the leader is now."""
        path, where, label = f"sections.{section.key}.{check.code}", where_in(section), check.label

        def problem(at: str, code: IssueCode, text: str, name: str = label) -> None:
            self.issue(at, code, check.code, name, f"{where}{text}")

        if raw is None:
            if check.required:
                problem(path, IssueCode.REQUIRED, f"{label}: chưa xác nhận hoặc báo thay đổi.")
            return None
        if not isinstance(raw, Mapping):
            problem(path, IssueCode.WRONG_TYPE, f"{label}: phải là {EXPECTED['leader']}.")
            return None
        for key in raw:
            if key not in ("confirmed", "full_name", "title"):
                self.unknown(f"{path}.", key, where)
        confirmed = raw.get("confirmed")
        if confirmed is None:
            if check.required:
                problem(path, IssueCode.REQUIRED, f"{label}: chưa xác nhận hoặc báo thay đổi.")
            return None
        if not isinstance(confirmed, bool):
            text = f"{label}: phần xác nhận phải là {EXPECTED['yes_no']}."
            problem(f"{path}.confirmed", IssueCode.WRONG_TYPE, text)
            return None
        if confirmed:
            if self.leader_on_record is False:
                text = (
                    f"{label}: danh mục đơn vị chưa có lãnh đạo phụ trách của đơn vị nên chưa "
                    "thể xác nhận; đề nghị ghi họ và tên, chức vụ của lãnh đạo phụ trách."
                )
                problem(f"{path}.confirmed", IssueCode.LEADER_NOT_ON_RECORD, text)
                return None
            return {"confirmed": True, "full_name": None, "title": None}
        answer: dict[str, Any] = {"confirmed": False}
        for key, name in (("full_name", check.full_name_label), ("title", check.title_label)):
            field = TextField(
                code=check.code, label=name, required=True, max_length=check.max_length
            )
            value = self.clean(field, raw.get(key), f"{path}.{key}", where, name)
            if not value and (raw.get(key) is None or value == ""):
                text = f"{name} chưa được nhập (đơn vị báo thay đổi lãnh đạo phụ trách)."
                problem(f"{path}.{key}", IssueCode.REQUIRED, text, name)
            answer[key] = value or None
        return answer

    def rule(self, rule: SumLeRule, figures: Mapping[str, Decimal], form: FormDefinition) -> None:
        """Check one cross-field rule whose inputs were all reported."""
        total = sum((figures[code] for code in rule.left), Decimal(0))
        if total <= figures[rule.right]:
            return
        section, target = next((s, i) for s, i in form.iter_indicators() if i.code == rule.target)
        names = [_label(form, code) for code in rule.left]
        right = _mid_sentence(_label(form, rule.right))
        if len(names) == 1:
            left = names[0]
        else:
            inner = [_mid_sentence(name) for name in names]
            left = "Tổng " + ", ".join(inner[:-1]) + f" và {inner[-1]}"
        message = (
            f"{where_in(section)}{left} là {vn_number(total)}, lớn hơn {right} "
            f"là {vn_number(figures[rule.right])}."
        )
        if rule.note:
            message += f" {rule.note}"
        if rule.carried_over:
            message += f" {CARRIED_OVER_NOTE}"
        path = f"sections.{section.key}.indicators.{target.code}"
        self.issue(
            path, IssueCode.RULE_VIOLATION, target.code, target.label, message, rule.severity
        )


def _decimal_places(number: Decimal) -> int:
    # Not normalize(): it rounds to the context precision and would hide extra digits.
    digits, exponent = number.as_tuple().digits, number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only reach here
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    return max(0, -exponent - (len(digits) - len(significant)))


def _mid_sentence(label: str) -> str:
    """A label inside a sentence: "Số hồ sơ …" reads "số hồ sơ …" (abbreviations kept)."""
    if label[:1].isupper() and label[1:2].islower():
        return label[0].lower() + label[1:]
    return label


def _label(form: FormDefinition, code: str) -> str:
    indicator = form.indicator(code)
    return indicator.label if indicator else code


def _whole_report_fields(v: _Validator, body: Mapping[Any, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for field in v.form.text_fields:
        raw = body.get(field.code)
        if field.repeated:
            content[field.code] = v.text_list(field, raw, field.code)
        else:
            content[field.code] = v.text(field, raw, field.code)
    return content


def _body(v: _Validator, body: Any) -> Mapping[Any, Any]:
    if isinstance(body, Mapping):
        return body
    message = "Nội dung báo cáo phải là một đối tượng JSON gồm các trường của biểu mẫu."
    v.issue("", IssueCode.WRONG_TYPE, "", v.form.title, message)
    return {}


def validate_periodic(
    form: FormDefinition,
    unit_kind: str,
    unit_tags: Set[str],
    body: Mapping[str, Any],
    *,
    leader_on_record: bool | None = None,
) -> ValidationResult:
    """Validate a periodic report of a unit of this kind and tags against the form.

    `leader_on_record` says whether the registry holds a leader for the unit (plan II.5): a
    unit the registry holds none for cannot confirm one. None (unknown) checks nothing more.
    """
    if form.kind != "periodic":
        raise ValueError(f"{form.form_id} is not a periodic form")
    unit_form = form_for_unit(form, unit_kind, unit_tags)
    v = _Validator(form, leader_on_record)
    data = _body(v, body)
    allowed = {"sections", *(field.code for field in form.text_fields)}
    for key in data:
        if key not in allowed:
            v.unknown("", key)
    message = "Các mục kết quả phải là một bảng dạng số mục: nội dung."
    raw_sections = v.mapping(data.get("sections"), "sections", "sections", "Các mục", message) or {}
    # The sections by key, once per call (`form.section(key)` walks the sections).
    form_sections = {s.key: s for s in reversed(form.sections)}  # the first of a key
    unit_keys = {s.key for s in unit_form.sections}
    for key in raw_sections:
        full = form_sections.get(key) if isinstance(key, str) else None
        if full is None:
            v.unknown("sections.", key, what="Mục")
        elif key not in unit_keys:
            message = f"Mục {key}. {full.title} không áp dụng cho đơn vị này nên không được gửi."
            v.issue(f"sections.{key}", IssueCode.NOT_APPLICABLE, key, full.title, message)
    sections: dict[str, Any] = {}
    for section in unit_form.sections:
        full = form_sections.get(section.key)
        assert full is not None  # unit_form is cut from form
        sections[section.key] = v.section(section, full, raw_sections.get(section.key))
    figures = {
        code: Decimal(value)
        for part in sections.values()
        for code, value in part["indicators"].items()
        if value is not None and not isinstance(value, bool)
    }
    for rule in unit_form.rules:
        if all(code in figures for code in rule.inputs):
            v.rule(rule, figures, form)
    return v.result({"sections": sections, **_whole_report_fields(v, data)})


def validate_ad_hoc(form: FormDefinition, body: Mapping[str, Any]) -> ValidationResult:
    """Validate an ad-hoc report against the form."""
    if form.kind != "ad_hoc":
        raise ValueError(f"{form.form_id} is not an ad-hoc form")
    v = _Validator(form)
    data = _body(v, body)
    allowed = {field.code for field in form.text_fields}
    for key in data:
        if key not in allowed:
            v.unknown("", key)
    return v.result(_whole_report_fields(v, data))


def validate_report(
    form: FormDefinition,
    unit_kind: str,
    unit_tags: Set[str],
    body: Mapping[str, Any],
    *,
    leader_on_record: bool | None = None,
) -> ValidationResult:
    """Validate a report body against its form, periodic or ad-hoc."""
    if form.kind == "periodic":
        return validate_periodic(
            form, unit_kind, unit_tags, body, leader_on_record=leader_on_record
        )
    return validate_ad_hoc(form, body)
