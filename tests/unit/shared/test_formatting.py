"""One Vietnamese formatter: a number or a date reads the same on a page, in a message, in a
mail and in an official document."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import docx
import pytest

from services.portal import figures, wording
from shared.clock import VN_TZ
from shared.documents import DocumentSpec, Issuer, Signature, Table, build_docx
from shared.formatting import (
    data_window_phrase,
    last_on_time_day,
    vn_date,
    vn_date_line,
    vn_datetime,
    vn_deadline,
    vn_number,
    vn_percent,
    vn_time,
)
from shared.forms import Indicator


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (7, "7"),
        (1000, "1.000"),
        (-1234567, "-1.234.567"),
        (1000.125, "1.000,125"),
        (Decimal("1000.125"), "1.000,125"),
        ("1000.125", "1.000,125"),
        (12.5, "12,5"),
        (Decimal("12.50"), "12,5"),
        (100.0, "100"),
        (0.1, "0,1"),
        (0.001, "0,001"),
        (-0.5, "-0,5"),
        (1234567.891, "1.234.567,891"),
        (Decimal("1E+3"), "1.000"),
        (True, "Có"),
        (False, "Không"),
        ("không phải số", "không phải số"),
    ],
)
def test_numbers_group_thousands_with_dots_and_keep_every_decimal(value, expected) -> None:
    assert vn_number(value) == expected


def test_1000_125_prints_the_same_on_pages_in_documents_and_in_messages() -> None:
    decimal = Indicator(
        code="x", label="Số liệu", type="decimal", minimum=0, maximum=10_000, decimal_places=3
    )
    spec = DocumentSpec(
        issuer=Issuer("Ủy ban nhân dân", "Thị xã Hồng Lĩnh", "BC-UBND"),
        place="Hồng Lĩnh",
        issued_on=date(2023, 6, 20),
        kind_title="Báo cáo",
        subject="Số liệu",
        signature=Signature.thay_mat("Ủy ban nhân dân", "Chủ tịch", "Nguyễn Huy Hùng"),
        body=(Table(columns=["Chỉ số", "Giá trị"], rows=[["x", 1000.125]]),),
    )
    document = docx.Document(io.BytesIO(build_docx(spec)))
    in_docx = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert "1.000,125" in in_docx
    assert wording.vn_number(1000.125) == "1.000,125"
    assert figures.display_figure(decimal, 1000.125) == "1.000,125"
    assert vn_number(1000.125) == "1.000,125"


def test_percentages_keep_one_decimal() -> None:
    assert vn_percent(0.8571) == "85,7%"
    assert vn_percent(1) == "100%"
    assert vn_percent(0) == "0%"


def test_dates_and_times_are_local_dd_mm_yyyy_with_the_time_first() -> None:
    instant = datetime(2023, 6, 5, 3, 5, tzinfo=UTC)
    assert vn_date(instant) == "05/06/2023"
    assert vn_date(date(2023, 1, 9)) == "09/01/2023"
    assert vn_time(instant) == "10:05"
    assert vn_datetime(instant) == "10:05 05/06/2023"
    assert vn_datetime(instant, ZoneInfo("UTC")) == "03:05 05/06/2023"


def test_deadlines_read_as_the_plan_writes_them() -> None:
    assert vn_deadline(datetime(2023, 6, 9, 17, tzinfo=UTC)) == "trước ngày 10/06/2023"
    assert vn_deadline(datetime(2023, 6, 16, 10, tzinfo=UTC)) == "trước 17:00 ngày 16/06/2023"


def test_the_date_line_of_an_official_document() -> None:
    assert vn_date_line("Hồng Lĩnh", date(2024, 2, 3)) == "Hồng Lĩnh, ngày 03 tháng 02 năm 2024"
    assert vn_date_line("Hồng Lĩnh", date(2023, 6, 5)) == "Hồng Lĩnh, ngày 05 tháng 6 năm 2023"


def test_a_window_ending_after_the_deadline_says_the_last_days_are_estimates():
    due = datetime(2023, 6, 10, tzinfo=VN_TZ)  # "trước ngày 10/06/2023"
    assert data_window_phrase(date(2022, 12, 15), date(2023, 6, 14), due) == (
        "số liệu từ ngày 15/12/2022 đến ngày 14/06/2023, trong đó số liệu từ ngày 10/06/2023 "
        "đến hết kỳ là số liệu ước thực hiện"
    )


def test_a_window_ending_before_the_deadline_reads_plainly_and_no_window_reads_nothing():
    due = datetime(2023, 6, 10, tzinfo=VN_TZ)
    assert data_window_phrase(date(2022, 12, 15), date(2023, 6, 9), due) == (
        "số liệu từ ngày 15/12/2022 đến ngày 09/06/2023"
    )
    assert data_window_phrase(None, None, due) == ""
    # A deadline during the day: that day still counts as on time, so it is not estimated.
    afternoon = datetime(2023, 6, 16, 17, 0, tzinfo=VN_TZ)
    assert last_on_time_day(afternoon) == date(2023, 6, 16)
    assert "ước thực hiện" not in data_window_phrase(date(2023, 6, 1), date(2023, 6, 16), afternoon)
