"""Vietnamese wording shared by validation messages.

A message names a field by its Vietnamese label only: a clerk never reads a field code;
the issue carries it (``field``, ``path``) for machines.
"""

from __future__ import annotations

from shared.forms.model import Section

EXPECTED = {
    "count": "một số nguyên không âm",
    "decimal": "một số không âm",
    "yes_no": "giá trị có hoặc không (true hoặc false)",
    "text": "một đoạn văn bản",
    "list": "một danh sách các đoạn văn bản",
    "section": "một mục gồm phần kết quả thực hiện và các chỉ số",
    "indicators": "một bảng chỉ số dạng mã: giá trị",
    "leader": "một câu trả lời xác nhận hoặc báo thay đổi lãnh đạo phụ trách",
}


def where_in(section: Section | None) -> str:
    """The prefix placing a message in its section, or nothing outside sections."""
    return f"Mục {section.number}. {section.title}: " if section else ""
