"""Vietnamese text conventions shared by the .docx and .xlsx builders."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# XML 1.0 forbids these; python-docx and openpyxl would raise on them deep inside a build.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SWAP_SEPARATORS = str.maketrans({",": ".", ".": ","})


def clean_text(text: str) -> str:
    """Return text in NFC with characters that XML cannot carry removed."""
    return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))


def format_vn_date_line(place: str, d: date) -> str:
    """Return "Hồng Lĩnh, ngày 05 tháng 6 năm 2023" as Nghị định 30/2020/NĐ-CP writes dates."""
    # The decree pads days below 10 and months 1 and 2 only, so "tháng 02" but "tháng 6".
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return clean_text(f"{place.strip()}, ngày {d.day:02d} tháng {month} năm {d.year}")


def format_vn_number(value: int | float) -> str:
    """Return a number the Vietnamese way: "1.234", "12,5"; booleans as "Có"/"Không"."""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float):
        value = round(value, 2)
        if not value.is_integer():
            text = f"{value:,.2f}".rstrip("0")
            return text.translate(_SWAP_SEPARATORS)
    text = f"{int(value):,}"
    return text.translate(_SWAP_SEPARATORS)
