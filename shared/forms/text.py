"""Cleaning of free text: Unicode NFC, one kind of line break, no control characters."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

TextProblem = Literal["control_character", "invalid_character"]

_ALLOWED_CONTROLS = frozenset("\n\t")
# Every character `clean_text` refuses: Unicode's Cc (U+0000–U+001F, U+007F–U+009F) but
# the allowed controls, and Cs (the surrogates). Text without any (nearly all of it) is not
# walked character by character (tests/unit/forms/test_text.py checks the two agree).
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class TextRejected(ValueError):
    """The text holds a character that may not be stored."""

    def __init__(self, code: TextProblem, position: int, character: str) -> None:
        super().__init__(f"{code} U+{ord(character):04X} at position {position}")
        self.code: TextProblem = code
        self.position = position
        self.character = character

    @property
    def codepoint(self) -> str:
        """The offending character as U+XXXX."""
        return f"U+{ord(self.character):04X}"


def clean_text(value: str) -> str:
    """The text NFC-normalised, trimmed, with CR LF and lone CR as LF; raises TextRejected."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _REFUSED.search(text) is None:
        return unicodedata.normalize("NFC", text).strip()
    for position, character in enumerate(text):
        category = unicodedata.category(character)
        if category == "Cc" and character not in _ALLOWED_CONTROLS:
            raise TextRejected("control_character", position, character)
        if category == "Cs":
            # A lone surrogate cannot be encoded as UTF-8, so it could never be stored.
            raise TextRejected("invalid_character", position, character)
    return unicodedata.normalize("NFC", text).strip()


def is_blank(text: str) -> bool:
    """True when the text has nothing visible (only spaces or zero-width characters)."""
    return all(unicodedata.category(character)[0] in "ZC" for character in text)
