"""Vietnamese wording shared by validation messages."""

from __future__ import annotations

from decimal import Decimal

from shared.forms.model import Section

EXPECTED = {
    "count": "một số nguyên không âm",
    "decimal": "một số không âm",
    "yes_no": "giá trị có hoặc không (true hoặc false)",
    "text": "một đoạn văn bản",
    "list": "một danh sách các đoạn văn bản",
    "section": "một mục gồm narrative và indicators",
    "indicators": "một bảng chỉ số dạng mã: giá trị",
}


def vn_number(value: Decimal | int) -> str:
    """A number written the Vietnamese way: 1.000.000 and 12,5."""
    number = Decimal(value)
    sign = "-" if number < 0 else ""
    number = abs(number)
    whole = int(number)
    text = f"{whole:,}".replace(",", ".")
    fraction = number - whole
    if fraction:
        text += "," + format(fraction.normalize(), "f").removeprefix("0.")
    return sign + text


def field_name(label: str, code: str) -> str:
    """How a message names a field: its Vietnamese label, then its code."""
    return f"{label} ({code})"


def where_in(section: Section | None) -> str:
    """The prefix placing a message in its section, or nothing outside sections."""
    return f"Mục {section.number}. {section.title}: " if section else ""
