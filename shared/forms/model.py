"""The shape of a form definition: sections, indicators, text fields and cross-field rules.

A form is data (YAML under ``definitions/``); these frozen models are what the data must
look like, and they check its internal consistency once, when it is loaded.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Set
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from shared.contracts.registry import UnitKind

UNIT_KINDS: Final[tuple[str, ...]] = get_args(UnitKind)


def _nfc(text: str) -> str:
    if not unicodedata.is_normalized("NFC", text):
        raise ValueError(f"text shown to users must be Unicode NFC: {text!r}")
    return text


# Labels and titles users see: non-empty, already NFC, so messages built from them are too.
Label = Annotated[str, StringConstraints(min_length=1), AfterValidator(_nfc)]
FieldCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
IndicatorType = Literal["count", "decimal", "yes_no"]
Severity = Literal["error", "warning"]
FormKind = Literal["periodic", "ad_hoc"]

# Keys of the report body that carry structure, so no field may take these codes.
RESERVED_CODES: Final = frozenset({"sections", "narrative", "indicators"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Applicability(_Frozen):
    """Which units a section or indicator applies to; empty lists mean no restriction."""

    kinds: tuple[UnitKind, ...] = ()
    tags: tuple[str, ...] = ()

    def includes(self, unit_kind: str, unit_tags: Set[str]) -> bool:
        """True when a unit of this kind with these tags must see the item."""
        if self.kinds and unit_kind not in self.kinds:
            return False
        return not self.tags or any(tag in unit_tags for tag in self.tags)


class Indicator(_Frozen):
    """A figure the unit reports: a count, a decimal amount or a yes/no answer."""

    code: FieldCode
    label: Label
    type: IndicatorType
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimal_places: int = Field(default=0, ge=0, le=6)
    applies_to: Applicability = Applicability()

    @model_validator(mode="after")
    def _bounds_fit_type(self) -> Indicator:
        if self.type == "yes_no":
            if self.minimum is not None or self.maximum is not None or self.decimal_places:
                raise ValueError(f"{self.code}: a yes/no indicator has no bounds")
            return self
        if self.minimum is None or self.maximum is None or self.minimum > self.maximum:
            raise ValueError(f"{self.code}: a numeric indicator needs minimum <= maximum")
        if self.type == "count" and self.decimal_places != 0:
            raise ValueError(f"{self.code}: a count has no decimal places")
        return self


class TextField(_Frozen):
    """Free text; ``repeated`` fields are a list of entries, each up to ``max_length``."""

    code: FieldCode
    label: Label
    type: Literal["text"] = "text"
    required: bool
    max_length: PositiveInt
    repeated: bool = False
    max_items: PositiveInt | None = None

    @model_validator(mode="after")
    def _items_only_when_repeated(self) -> TextField:
        if self.repeated != (self.max_items is not None):
            raise ValueError(f"{self.code}: max_items is set exactly when the field is repeated")
        return self


class LeaderWording(_Frozen):
    """How the leader check reads for some unit kinds (the plan words it by kind)."""

    kinds: tuple[UnitKind, ...] = Field(min_length=1)
    label: Label


class LeaderCheck(_Frozen):
    """Plan II.5: the leader in charge of mass-mobilisation work, checked against the registry.

    The form shows the leader the registry holds for the unit and asks only to confirm it or
    to report who it is now. In a report body the answer sits in the section under ``code``:
    ``{"confirmed": true}`` or ``{"confirmed": false, "full_name": "…", "title": "…"}``.
    ``label`` is the question; ``wording`` gives the plan's words for some unit kinds
    (`form_for_unit` keeps only the unit's own).
    """

    code: FieldCode
    label: Label
    wording: tuple[LeaderWording, ...] = ()
    required: bool = True
    max_length: PositiveInt = 200
    full_name_label: Label = "Họ và tên lãnh đạo phụ trách"
    title_label: Label = "Chức vụ của lãnh đạo phụ trách"

    def label_for(self, unit_kind: str) -> str:
        """The question as a unit of this kind reads it."""
        return next((w.label for w in self.wording if unit_kind in w.kinds), self.label)


class Section(_Frozen):
    """One task area of the plan: a narrative "Kết quả thực hiện", its indicators and, for
    plan II.5, the leader check."""

    number: PositiveInt
    title: Label
    plan_ref: str | None = None
    narrative: TextField
    indicators: tuple[Indicator, ...] = ()
    leader_check: LeaderCheck | None = None
    applies_to: Applicability = Applicability()

    @property
    def key(self) -> str:
        """The section's key in a report body ("1", "2", ...)."""
        return str(self.number)


# The one rule for figures that may include what the previous period left unfinished
# (files, letters, cases resolved now but received before): exceeding what was received is
# a warning, never an error, and the message asks the unit to state the carried-over number.
CARRIED_OVER_NOTE: Final = (
    "Số đã giải quyết có thể gồm cả số tồn kỳ trước chuyển sang; nếu vậy, đề nghị ghi rõ "
    "số tồn kỳ trước chuyển sang trong phần Kết quả thực hiện của mục này."
)


class SumLeRule(_Frozen):
    """The sum of ``left`` must not exceed ``right``; the issue is raised on ``field``.

    ``carried_over`` marks a rule whose ``left`` may legitimately include work carried over
    from the previous period: it must be a warning and its message ends with
    ``CARRIED_OVER_NOTE``.
    """

    id: FieldCode
    kind: Literal["sum_le"]
    left: tuple[FieldCode, ...] = Field(min_length=1)
    right: FieldCode
    severity: Severity
    field: FieldCode | None = None
    note: Label | None = None
    carried_over: bool = False

    @model_validator(mode="after")
    def _carried_over_is_a_warning(self) -> SumLeRule:
        if self.carried_over and self.severity != "warning":
            raise ValueError(f"rule {self.id}: carried-over work can only be a warning")
        return self

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every indicator the rule reads."""
        return (*self.left, self.right)

    @property
    def target(self) -> str:
        """The indicator the issue is reported on."""
        return self.field or self.left[-1]


# A union once a second kind of rule exists; the YAML names the kind explicitly already.
Rule = SumLeRule


class FormDefinition(_Frozen):
    """One version of a report form."""

    form_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    version: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}\.[0-9]+$")]
    kind: FormKind
    title: Label
    sections: tuple[Section, ...] = ()
    text_fields: tuple[TextField, ...] = ()
    rules: tuple[Rule, ...] = ()
    attachment_allowed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _apply_type_limits(cls, data: Any) -> Any:
        """Fill each numeric indicator's bounds from the form-wide ``limits`` by type."""
        if not isinstance(data, Mapping) or "limits" not in data:
            return data
        limits = data["limits"] or {}
        sections = []
        for section in data.get("sections") or ():
            indicators = [
                {**limits.get(ind.get("type"), {}), **ind} if isinstance(ind, Mapping) else ind
                for ind in (section.get("indicators") or ())
            ]
            sections.append({**section, "indicators": indicators})
        rest = {key: value for key, value in data.items() if key != "limits"}
        return {**rest, "sections": sections}

    @model_validator(mode="after")
    def _consistent(self) -> FormDefinition:
        numbers = [section.number for section in self.sections]
        if len(numbers) != len(set(numbers)):
            raise ValueError("section numbers must be unique")
        if self.kind == "periodic" and not self.sections:
            raise ValueError("a periodic form has sections")
        if self.kind == "ad_hoc" and self.sections:
            raise ValueError("an ad-hoc form has no sections")
        codes = [ind.code for ind in self.indicators] + [f.code for f in self.text_fields]
        checks = [s.leader_check.code for s in self.sections if s.leader_check is not None]
        if len(checks) > 1:
            raise ValueError("a form has at most one leader check")
        codes += checks
        if len(codes) != len(set(codes)):
            raise ValueError("field codes must be unique across the form")
        if RESERVED_CODES & set(codes):
            raise ValueError(f"field codes may not be any of {sorted(RESERVED_CODES)}")
        numeric = {ind.code for ind in self.indicators if ind.type != "yes_no"}
        rule_ids = [rule.id for rule in self.rules]
        if len(rule_ids) != len(set(rule_ids)):
            raise ValueError("rule ids must be unique")
        for rule in self.rules:
            unknown = [code for code in rule.inputs if code not in numeric]
            if unknown:
                raise ValueError(f"rule {rule.id} reads non-numeric or unknown fields {unknown}")
            if rule.target not in rule.inputs:
                raise ValueError(f"rule {rule.id} reports on a field it does not read")
        return self

    @property
    def leader_section(self) -> Section | None:
        """The section holding the leader check (plan II.5), if the form has one."""
        return next((s for s in self.sections if s.leader_check is not None), None)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator of every section, in form order."""
        return tuple(ind for section in self.sections for ind in section.indicators)

    def iter_indicators(self) -> Iterator[tuple[Section, Indicator]]:
        """Each indicator with the section it belongs to, in form order."""
        for section in self.sections:
            for indicator in section.indicators:
                yield section, indicator

    def section(self, key: str) -> Section | None:
        """The section with this key ("1", "2", ...), if the form has it."""
        return next((s for s in self.sections if s.key == key), None)

    def indicator(self, code: str) -> Indicator | None:
        """The indicator with this code, if the form has it."""
        return next((ind for ind in self.indicators if ind.code == code), None)

    def text_field(self, code: str) -> TextField | None:
        """The whole-report text field with this code, if the form has it."""
        return next((f for f in self.text_fields if f.code == code), None)
