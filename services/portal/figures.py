"""Figures as typed on the form and as shown: Vietnamese separators, "not reported" kept.

Pure functions: text from an input becomes the JSON value intake expects, and a stored
value becomes the text an input or a report page shows.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.formatting import vn_number
from shared.forms import Indicator

# The values of the yes/no radio buttons ("" is "Chưa báo cáo").
YES, NO = "co", "khong"

_COUNT = re.compile(r"-?\d+")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:\.\d{3})+")
_DECIMAL_VN = re.compile(r"-?\d{1,3}(?:\.\d{3})*,\d+|-?\d+,\d+")
_DECIMAL_DOT = re.compile(r"-?\d+\.\d+")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def parse_indicator(indicator: Indicator, raw: str) -> Any:
    """The JSON value of a typed figure: None when blank; the raw text when unreadable.

    Unreadable text is sent as is so intake answers with its own message for the field,
    next to the other problems, instead of the portal guessing a number.
    """
    text = _SPACES.sub("", raw)
    if not text:
        return None
    if indicator.type == "yes_no":
        return {YES: True, NO: False}.get(text, raw)
    if indicator.type == "count":
        if _COUNT.fullmatch(text):
            return int(text)
        if _THOUSANDS.fullmatch(text):
            return int(text.replace(".", ""))
        return raw
    if _COUNT.fullmatch(text):
        return int(text)
    if _THOUSANDS.fullmatch(text):
        return int(text.replace(".", ""))
    if _DECIMAL_VN.fullmatch(text):
        return _json_number(text.replace(".", "").replace(",", "."))
    if _DECIMAL_DOT.fullmatch(text):
        return _json_number(text)
    return raw


def _json_number(text: str) -> int | float:
    number = Decimal(text)
    if number == number.to_integral_value():
        return int(number)
    # repr of this float reads back as the same short decimal, which intake checks.
    return float(text)


def format_figure(indicator: Indicator, value: Any) -> str:
    """A stored figure as the input shows it ("" when not reported, 12,5 for decimals)."""
    if value is None:
        return ""
    if indicator.type == "yes_no":
        return YES if value is True else NO if value is False else ""
    if indicator.type == "decimal":
        try:
            return format(Decimal(str(value)), "f").replace(".", ",")
        except InvalidOperation:
            return str(value)
    return str(value)


def display_figure(indicator: Indicator, value: Any) -> str:
    """A stored figure as the report page shows it."""
    if value is None:
        return "Chưa báo cáo"
    if indicator.type == "yes_no":
        return "Có" if value is True else "Không" if value is False else str(value)
    if isinstance(value, int | float):
        return vn_number(value)
    return vn_number(str(value))
