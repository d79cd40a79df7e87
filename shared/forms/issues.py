"""What validation reports: issues with a stable code and a Vietnamese message."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from shared.forms.model import Severity


class IssueCode(StrEnum):
    """Stable machine codes of validation issues."""

    REQUIRED = "required"
    WRONG_TYPE = "wrong_type"
    NOT_INTEGER = "not_integer"
    NOT_A_NUMBER = "not_a_number"
    TOO_MANY_DECIMALS = "too_many_decimals"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_FIELD = "unknown_field"
    NOT_APPLICABLE = "not_applicable"
    TOO_LONG = "too_long"
    TOO_MANY_ITEMS = "too_many_items"
    EMPTY_ENTRY = "empty_entry"
    CONTROL_CHARACTER = "control_character"
    INVALID_CHARACTER = "invalid_character"
    RULE_VIOLATION = "rule_violation"
    LEADER_NOT_ON_RECORD = "leader_not_on_record"


class Issue(BaseModel):
    """One problem in a report body.

    ``path`` is dotted from the body root ("sections.4.indicators.ho_so_tthc_qua_han",
    "vuong_mac.2" with 0-based entries); ``field`` is the field code (the section key
    for a whole section; the key as sent for an unknown field); ``label`` is the
    Vietnamese label (the key as sent when the field is unknown).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    code: IssueCode
    field: str
    label: str
    message: str
    severity: Severity


class ValidationResult(BaseModel):
    """The outcome of validating a report body.

    ``content`` is the canonical content to store and hash, and is only meaningful when
    ``ok``. Periodic: ``{"sections": {"1": {"narrative": str | None, "indicators":
    {code: value}}}, "ton_tai_han_che": ..., "phuong_huong": ..., "de_xuat_kien_nghi":
    str | None, "vuong_mac": [str, ...]}`` with every applicable section and indicator
    present; the section holding the leader check (plan II.5) also has its answer under the
    check's code: ``{"confirmed": bool, "full_name": str | None, "title": str | None}``
    (names only when not confirmed), ``None`` when not answered. An indicator not reported
    (absent or null) is ``None``, never 0. Counts are ``int``, yes/no answers ``bool``,
    decimals a string quantised to the indicator's places ("12.5", "3.0") so the content
    is exact and plain JSON. Text is NFC, trimmed, with LF line breaks; an empty optional
    text is ``None``, empty ``vuong_mac`` is ``[]``. Ad-hoc: ``{"noi_dung": str,
    "vuong_mac": [str, ...]}``. Values that failed validation are ``None`` (or left out of
    ``vuong_mac``).
    """

    model_config = ConfigDict(frozen=True)

    content: dict[str, Any]
    errors: list[Issue]
    warnings: list[Issue]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when nothing blocks submission (warnings do not)."""
        return not self.errors
