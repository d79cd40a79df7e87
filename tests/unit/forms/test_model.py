"""A form definition that is inconsistent is refused when it is loaded."""

from __future__ import annotations

import copy
import unicodedata
from typing import Any

import pytest
from pydantic import ValidationError

from shared.forms import FormDefinition

MINIMAL: dict[str, Any] = {
    "form_id": "thu-nghiem",
    "version": "2024.1",
    "kind": "periodic",
    "title": "Biểu mẫu thử nghiệm",
    "limits": {"count": {"minimum": 0, "maximum": 100}},
    "sections": [
        {
            "number": 1,
            "title": "Mục một",
            "narrative": {
                "code": "narrative",
                "label": "Kết quả",
                "required": True,
                "max_length": 10,
            },
            "indicators": [
                {"code": "a", "label": "A", "type": "count"},
                {"code": "b", "label": "B", "type": "count"},
                {"code": "c", "label": "C", "type": "yes_no"},
            ],
        }
    ],
    "rules": [{"id": "a_le_b", "kind": "sum_le", "left": ["a"], "right": "b", "severity": "error"}],
}


def definition(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


def test_minimal_definition_is_accepted_with_limits_applied() -> None:
    form = FormDefinition.model_validate(definition())
    a = form.indicator("a")
    assert a is not None and a.maximum == 100


def test_rule_reading_an_unknown_field_is_refused() -> None:
    rules = [{"id": "r", "kind": "sum_le", "left": ["a"], "right": "zzz", "severity": "error"}]
    with pytest.raises(ValidationError, match="zzz"):
        FormDefinition.model_validate(definition(rules=rules))


def test_rule_reading_a_yes_no_field_is_refused() -> None:
    rules = [{"id": "r", "kind": "sum_le", "left": ["c"], "right": "b", "severity": "warning"}]
    with pytest.raises(ValidationError, match="non-numeric"):
        FormDefinition.model_validate(definition(rules=rules))


def test_rule_with_unknown_severity_is_refused() -> None:
    rules = [{"id": "r", "kind": "sum_le", "left": ["a"], "right": "b", "severity": "fatal"}]
    with pytest.raises(ValidationError):
        FormDefinition.model_validate(definition(rules=rules))


def test_duplicate_field_codes_are_refused() -> None:
    data = definition()
    data["sections"][0]["indicators"].append({"code": "a", "label": "A2", "type": "count"})
    with pytest.raises(ValidationError, match="unique"):
        FormDefinition.model_validate(data)


def test_count_without_bounds_is_refused() -> None:
    with pytest.raises(ValidationError, match="minimum"):
        FormDefinition.model_validate(definition(limits={}))


def test_unknown_unit_kind_in_applicability_is_refused() -> None:
    data = definition()
    data["sections"][0]["applies_to"] = {"kinds": ["village"]}
    with pytest.raises(ValidationError):
        FormDefinition.model_validate(data)


def test_unknown_key_in_definition_is_refused() -> None:
    with pytest.raises(ValidationError):
        FormDefinition.model_validate(definition(colour="red"))


def test_definition_is_frozen() -> None:
    form = FormDefinition.model_validate(definition())
    with pytest.raises(ValidationError):
        form.title = "khác"  # type: ignore[misc]


def test_label_not_in_nfc_is_refused() -> None:
    data = definition()
    data["sections"][0]["indicators"][0]["label"] = unicodedata.normalize("NFD", "Số hộ")
    with pytest.raises(ValidationError, match="NFC"):
        FormDefinition.model_validate(data)
