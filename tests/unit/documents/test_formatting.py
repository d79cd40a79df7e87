"""Vietnamese date lines and numbers as official documents print them."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from shared.documents import clean_text
from shared.formatting import vn_date_line, vn_number


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2023, 6, 5), "Hồng Lĩnh, ngày 05 tháng 6 năm 2023"),
        (date(2024, 2, 3), "Hồng Lĩnh, ngày 03 tháng 02 năm 2024"),
        (date(2024, 1, 9), "Hồng Lĩnh, ngày 09 tháng 01 năm 2024"),
        (date(2023, 3, 10), "Hồng Lĩnh, ngày 10 tháng 3 năm 2023"),
        (date(2023, 10, 1), "Hồng Lĩnh, ngày 01 tháng 10 năm 2023"),
        (date(2023, 12, 31), "Hồng Lĩnh, ngày 31 tháng 12 năm 2023"),
    ],
)
def test_date_line_pads_days_below_10_and_only_months_1_and_2(d: date, expected: str) -> None:
    assert vn_date_line("Hồng Lĩnh", d) == expected


def test_date_line_is_nfc_even_when_the_place_is_decomposed() -> None:
    decomposed = unicodedata.normalize("NFD", "Hồng Lĩnh")
    line = vn_date_line(f"  {decomposed} ", date(2023, 6, 5))
    assert line == "Hồng Lĩnh, ngày 05 tháng 6 năm 2023"
    assert unicodedata.is_normalized("NFC", line)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1234, "1.234"),
        (-1234567, "-1.234.567"),
        (95.5, "95,5"),
        (100.0, "100"),
        (1234.567, "1.234,567"),
        (0.001, "0,001"),
        (True, "Có"),
        (False, "Không"),
    ],
)
def test_numbers_use_dot_thousands_and_comma_decimals(value: float, expected: str) -> None:
    assert vn_number(value) == expected


def test_clean_text_drops_characters_xml_cannot_carry() -> None:
    assert clean_text("Báo\x0bcáo\x00 kết quả\tđúng") == "Báocáo kết quả\tđúng"
