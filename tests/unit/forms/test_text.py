"""Cleaning of free text."""

from __future__ import annotations

import unicodedata

import pytest

from shared.forms import TextRejected, clean_text


def test_nfd_input_comes_back_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Dân vận khéo")
    assert nfd != "Dân vận khéo"
    assert clean_text(nfd) == "Dân vận khéo"


def test_text_is_trimmed() -> None:
    assert clean_text("  \n\tKhông phát sinh \u00a0\n") == "Không phát sinh"


def test_windows_and_old_mac_line_breaks_become_lf() -> None:
    assert clean_text("dòng 1\r\ndòng 2\rdòng 3") == "dòng 1\ndòng 2\ndòng 3"


def test_tab_and_newline_inside_text_are_kept() -> None:
    assert clean_text("a\tb\nc") == "a\tb\nc"


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_rejected(character: str) -> None:
    with pytest.raises(TextRejected) as caught:
        clean_text(f"ab{character}c")
    assert caught.value.code == "control_character"
    assert caught.value.position == 2


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(TextRejected) as caught:
        clean_text("a\ud800")
    assert caught.value.code == "invalid_character"


def test_the_quick_check_refuses_exactly_the_characters_the_walk_refuses() -> None:
    # clean_text skips its character-by-character walk when `_REFUSED` finds nothing: the
    # pattern must match every character the walk refuses, and only those.
    from shared.forms.text import _ALLOWED_CONTROLS, _REFUSED

    for codepoint in range(0x110000):
        character = chr(codepoint)
        category = unicodedata.category(character)
        refused = (category == "Cc" and character not in _ALLOWED_CONTROLS) or category == "Cs"
        assert (_REFUSED.match(character) is not None) is refused, hex(codepoint)
