"""Report forms as versioned data, and pure validation of report bodies against them.

Glossary: biểu mẫu = form; vướng mắc (``vuong_mac``) = a difficulty the unit asks
Phòng Nội vụ to answer; "Không phát sinh" = "nothing arose", a valid narrative.
"""

from shared.forms.applicability import UnknownUnitKind, form_for_unit
from shared.forms.canonical import canonical_json, content_sha256
from shared.forms.issues import Issue, IssueCode, ValidationResult
from shared.forms.loader import FormNotFound, available_forms, load_form
from shared.forms.model import (
    UNIT_KINDS,
    Applicability,
    FormDefinition,
    Indicator,
    Rule,
    Section,
    SumLeRule,
    TextField,
)
from shared.forms.text import TextRejected, clean_text
from shared.forms.validation import validate_ad_hoc, validate_periodic, validate_report

__all__ = [
    "UNIT_KINDS",
    "Applicability",
    "FormDefinition",
    "FormNotFound",
    "Indicator",
    "Issue",
    "IssueCode",
    "Rule",
    "Section",
    "SumLeRule",
    "TextField",
    "TextRejected",
    "UnknownUnitKind",
    "ValidationResult",
    "available_forms",
    "canonical_json",
    "clean_text",
    "content_sha256",
    "form_for_unit",
    "load_form",
    "validate_ad_hoc",
    "validate_periodic",
    "validate_report",
]
