"""Vietnamese text conventions shared by the .docx and .xlsx builders."""

from __future__ import annotations

import re
import unicodedata

# XML 1.0 forbids these; python-docx and openpyxl would raise on them deep inside a build.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Return text in NFC with characters that XML cannot carry removed."""
    return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))
