"""Approximate text widths in Times New Roman Bold, to size the short rules under headings."""

from __future__ import annotations

import string
import unicodedata

# Advance widths in 1/1000 em (Times Bold, same as the metric-compatible Liberation Serif).
# fmt: off
_UPPER = (722, 667, 722, 722, 667, 611, 778, 778, 389, 500, 778, 667, 944,
          722, 778, 611, 778, 722, 556, 667, 722, 722, 1000, 722, 722, 667)
_LOWER = (500, 556, 444, 556, 444, 333, 500, 556, 278, 333, 556, 278, 833,
          556, 500, 556, 556, 444, 389, 333, 556, 500, 722, 500, 500, 444)
# fmt: on
_BOLD_WIDTHS: dict[str, int] = {
    **dict.fromkeys(" ,.", 250),
    **dict.fromkeys("-():", 333),
    "/": 278,
    **dict.fromkeys(string.digits, 500),
    **dict(zip(string.ascii_uppercase, _UPPER, strict=True)),
    **dict(zip(string.ascii_lowercase, _LOWER, strict=True)),
    "Đ": 722,
    "đ": 556,
}
_HORN = "\u031b"
_HORN_EXTRA = 60
_UNKNOWN = 500


def bold_text_width_pt(text: str, size_pt: float) -> float:
    """Estimate the printed width of one line of bold Times New Roman text, in points."""
    units = 0
    for char in unicodedata.normalize("NFC", text):
        if char in _BOLD_WIDTHS:
            units += _BOLD_WIDTHS[char]
            continue
        # Vietnamese letters keep their base letter's advance; only the horn (ơ, ư) widens it.
        decomposed = unicodedata.normalize("NFD", char)
        units += _BOLD_WIDTHS.get(decomposed[0], _UNKNOWN)
        if _HORN in decomposed:
            units += _HORN_EXTRA
    return units * size_pt / 1000
