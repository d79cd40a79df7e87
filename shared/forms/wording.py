"""Vietnamese wording shared by validation messages."""

from __future__ import annotations

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


def field_name(label: str, code: str) -> str:
    """How a message names a field: its Vietnamese label, then its code."""
    return f"{label} ({code})"


def where_in(section: Section | None) -> str:
    """The prefix placing a message in its section, or nothing outside sections."""
    return f"Mục {section.number}. {section.title}: " if section else ""
