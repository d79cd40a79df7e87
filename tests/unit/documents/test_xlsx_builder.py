"""The .xlsx helper keeps numbers numeric and text inert, read back with openpyxl."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from shared.documents import Sheet, build_xlsx, sanitize_sheet_title

COLUMNS = ("Đơn vị", "Số cuộc đối thoại", "Tỷ lệ (%)", "Ghi chú")
ROWS = (
    ("UBND phường Bắc Hồng", 12, 95.5, None),
    ("UBND xã Thuận Lộc", 1234, None, "=SUM(A1:A9)"),
    ("Phòng Văn hóa - Thông tin", 0, 100.0, "Đúng hạn"),
)


def _open(*sheets: Sheet) -> Workbook:
    return load_workbook(io.BytesIO(build_xlsx(list(sheets))))


def test_header_row_is_bold_vietnamese_and_frozen() -> None:
    ws = _open(Sheet("Tổng hợp", COLUMNS, ROWS)).active
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert not ws["A2"].font.bold


def test_numbers_stay_numeric_and_none_stays_empty() -> None:
    ws = _open(Sheet("Tổng hợp", COLUMNS, ROWS)).active
    assert ws["B3"].value == 1234 and ws["B3"].data_type == "n"
    assert ws["C2"].value == 95.5 and ws["C2"].data_type == "n"
    assert ws["B4"].value == 0
    assert ws["D2"].value is None
    assert ws["C3"].value is None


def test_text_that_looks_like_a_formula_stays_text() -> None:
    ws = _open(Sheet("Tổng hợp", COLUMNS, ROWS)).active
    assert ws["D3"].value == "=SUM(A1:A9)"
    assert ws["D3"].data_type == "s"


def test_row_count_includes_header_rows_and_bold_totals() -> None:
    totals = ("Tổng cộng", 1246, None, "")
    ws = _open(Sheet("Tổng hợp", COLUMNS, ROWS, totals_row=totals)).active
    assert ws.max_row == 1 + len(ROWS) + 1
    assert ws.cell(row=ws.max_row, column=1).value == "Tổng cộng"
    assert ws.cell(row=ws.max_row, column=1).font.bold
    assert ws.cell(row=ws.max_row, column=2).value == 1246


def test_columns_are_wide_enough_for_their_longest_value() -> None:
    ws = _open(Sheet("Tổng hợp", COLUMNS, ROWS)).active
    assert ws.column_dimensions["A"].width >= len("Phòng Văn hóa - Thông tin")
    assert 8 <= ws.column_dimensions["C"].width < 20


def test_sheets_keep_their_order_and_sanitised_titles() -> None:
    long_title = "Tổng hợp: 6 tháng/2023 [bản nháp] của các phường, xã"
    wb = _open(
        Sheet(long_title, COLUMNS, ROWS),
        Sheet("tổng hợp: 6 tháng/2023 [bản nháp] của các phường, xã", ("A",), [[1]]),
        Sheet("Vướng mắc", ("A",), []),
    )
    titles = wb.sheetnames
    assert len(titles) == 3
    assert all(len(t) <= 31 for t in titles)
    assert not any(ch in t for t in titles for ch in "[]:*?/\\")
    assert titles[0].casefold() != titles[1].casefold()
    assert titles[1].endswith(" (2)")
    assert titles[2] == "Vướng mắc"


@pytest.mark.parametrize(
    ("title", "expected"),
    [("", "Sheet"), ("'Báo cáo'", "Báo cáo"), ("A/B", "A B"), ("x" * 40, "x" * 31)],
)
def test_sanitize_sheet_title(title: str, expected: str) -> None:
    assert sanitize_sheet_title(title) == expected


def test_rejects_empty_workbook_and_ragged_rows() -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        build_xlsx([])
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Sheet("x", ("A", "B"), [["a"]])
