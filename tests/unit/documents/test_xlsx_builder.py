"""The .xlsx helper keeps numbers numeric and text inert, read back with openpyxl."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from shared.documents import Sheet, build_xlsx, sanitize_sheet_title
from tests.unit.documents.xlsx_reference import reference_xlsx, workbook_content

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


# Every kind of cell the builder writes: text (Vietnamese, multi-line, spaces at its ends,
# looking like a formula, empty), whole and decimal numbers (zero, negative, large), missing
# values in the body, at the end of a row and in the bold totals row, a row of nothing, a
# sheet without rows, titles that collide, a width capped by the longest value.
EDGE_SHEETS = (
    Sheet("Tổng hợp", COLUMNS, ROWS, totals_row=("Tổng cộng", 1246, None, "")),
    Sheet(
        "tổng hợp",
        ("TT", "Nội dung", "Số liệu", "Tỷ lệ"),
        [
            (1, "  Hội nghị đối thoại\nvới Nhân dân  ", -3, 0.0),
            (2, "=1+1", 0, -12.75),
            (3, "", 10**12, 1 / 3),
            (4, "x" * 200, None, None),
            # Decomposed (NFD) Vietnamese and a character XML cannot carry.
            (5, unicodedata.normalize("NFD", "Thuận Lộc\x07 đúng hạn"), 1, 2.5),
            (None, None, None, None),
        ],
        totals_row=(None, "Tổng cộng", 10**12 - 3, None),
    ),
    Sheet("Vướng mắc: [6 tháng/2023]", ("Đơn vị", "Khó khăn, vướng mắc"), []),
)


def _parts(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        # The document properties hold the time the workbook was written.
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("sheets", [EDGE_SHEETS, EDGE_SHEETS[2:]], ids=["every-kind", "no-rows"])
def test_the_write_only_workbook_is_the_one_cells_one_by_one_made(sheets: tuple[Sheet]) -> None:
    """The write-only builder gives the workbook the ordinary mode gave (the reference,
    `xlsx_reference.py`): the same content read back (values, types, styles, widths, frozen
    header, filter) and the same parts, byte for byte, but for the time it was written."""
    built, reference = build_xlsx(sheets), reference_xlsx(sheets)
    assert workbook_content(built) == workbook_content(reference)
    assert _parts(built) == _parts(reference)
