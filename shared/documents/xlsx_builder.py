"""Build a simple .xlsx workbook (one table per sheet) for figures that reviewers filter."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from shared.documents.formatting import clean_text

XlsxCell = str | int | float | None

MAX_TITLE_LENGTH = 31
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH = 8
_MAX_WIDTH = 60
_INTEGER_FORMAT = "#,##0"
_DECIMAL_FORMAT = "#,##0.##"


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a header row of column names, data rows, an optional bold totals row."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[XlsxCell]]
    totals_row: Sequence[XlsxCell] | None = None

    def __post_init__(self) -> None:
        n = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != n:
                raise ValueError(f"sheet {self.title!r}: row {i} has {len(row)} cells for {n}")
        if self.totals_row is not None and len(self.totals_row) != n:
            raise ValueError(f"sheet {self.title!r}: totals_row has {len(self.totals_row)} cells")


def build_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """Render the sheets as .xlsx bytes, in order.

    The workbook is written in openpyxl's write-only mode: each row goes to the sheet's XML
    as it is appended, and only the cells that hold a value or a style are made (the
    ordinary mode made a `Cell` for every position and kept them all until the save: 10,000
    units took ~2.5 s of CPU for ~440,000 cells, three quarters of them empty). A styled
    cell is given a style prepared once per kind (`_Styles`) instead of having its font,
    alignment and number format set and looked up one by one. What the workbook holds
    (values, types, styles, widths, frozen header, filter) is that of the ordinary mode;
    `tests/unit/documents/test_xlsx_builder.py` compares the two."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for sheet in sheets:
        title = sanitize_sheet_title(sheet.title, used)
        used.add(title.casefold())
        _fill(workbook.create_sheet(title), sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sanitize_sheet_title(title: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """Return a title Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case."""
    base = _TITLE_FORBIDDEN.sub(" ", clean_text(title))
    base = " ".join(base.split()).strip("'") or "Sheet"
    candidate = base[:MAX_TITLE_LENGTH]
    n = 2
    # Excel compares sheet names case-insensitively, so "Tổng hợp" and "TỔNG HỢP" collide.
    while candidate.casefold() in taken:
        suffix = f" ({n})"
        candidate = base[: MAX_TITLE_LENGTH - len(suffix)] + suffix
        n += 1
    return candidate


def _fill(ws: WriteOnlyWorksheet, sheet: Sheet) -> None:
    # The sheet's head (its size, the frozen pane, the column widths) is written with its
    # first row, so it is set before any row is appended. openpyxl writes the size
    # (`<dimension>`) of a sheet that can tell it; a write-only sheet cannot, and it is known.
    last_row = 1 + len(sheet.rows) + (sheet.totals_row is not None)
    size = f"A1:{get_column_letter(len(sheet.columns))}{last_row}" if sheet.columns else "A1:A1"
    ws.calculate_dimension = lambda: size
    ws.freeze_panes = "A2"
    _set_widths(ws, sheet)
    styles = _Styles(ws)
    ws.append([styles.header(clean_text(c)) for c in sheet.columns])
    for row in sheet.rows:
        ws.append([styles.body(value) for value in row])
    if sheet.totals_row is not None:
        ws.append([styles.totals(value) for value in sheet.totals_row])
    if sheet.columns:
        last = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A1:{last}{1 + len(sheet.rows)}"


_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TEXT_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_BOLD = Font(bold=True)


# The styles a cell is given: font, alignment, number format.
_STYLES: dict[str, tuple[Font | None, Alignment | None, str | None]] = {
    "header": (_BOLD, _HEADER_ALIGNMENT, None),
    "text": (None, _TEXT_ALIGNMENT, None),
    "integer": (None, None, _INTEGER_FORMAT),
    "decimal": (None, None, _DECIMAL_FORMAT),
    "bold": (_BOLD, None, None),
    "bold text": (_BOLD, _TEXT_ALIGNMENT, None),
    "bold integer": (_BOLD, None, _INTEGER_FORMAT),
    "bold decimal": (_BOLD, None, _DECIMAL_FORMAT),
}


class _Styles:
    """The cells of one sheet, each given one of `_STYLES`, prepared once when first used
    (so the workbook lists only the styles its cells have, in the order they first appear,
    as when each cell was styled on its own): the header is bold, centred and wrapped;
    text wrapped at the top; whole numbers #,##0, other numbers #,##0.##; the totals row
    bold. A missing value is no cell (an empty position), except in the totals row, where
    it is an empty bold cell."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self._ws = ws
        self._made: dict[str, StyleArray] = {}

    def _style(self, name: str) -> StyleArray:
        style = self._made.get(name)
        if style is None:
            font, alignment, number_format = _STYLES[name]
            cell = WriteOnlyCell(self._ws)
            if font is not None:
                cell.font = font
            if alignment is not None:
                cell.alignment = alignment
            if number_format is not None:
                cell.number_format = number_format
            style = self._made[name] = cell._style
        return style

    def _cell(self, value: XlsxCell, style: str) -> Cell:
        cell = Cell(self._ws, row=1, column=1, value=value, style_array=self._style(style))
        if isinstance(value, str):
            # A narrative starting with "=" must stay text, never become a live formula.
            cell.data_type = "s"
        return cell

    def header(self, name: str) -> Cell:
        return self._cell(name, "header")

    def body(self, value: XlsxCell) -> Cell | None:
        if value is None:
            return None
        if isinstance(value, str):
            return self._cell(clean_text(value), "text")
        return self._cell(value, "integer" if _is_int(value) else "decimal")

    def totals(self, value: XlsxCell) -> Cell:
        if value is None:
            return self._cell(None, "bold")
        if isinstance(value, str):
            return self._cell(clean_text(value), "bold text")
        return self._cell(value, "bold integer" if _is_int(value) else "bold decimal")


def _is_int(value: int | float) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _set_widths(ws: WriteOnlyWorksheet, sheet: Sheet) -> None:
    for col, name in enumerate(sheet.columns, start=1):
        values = [row[col - 1] for row in sheet.rows]
        if sheet.totals_row is not None:
            values.append(sheet.totals_row[col - 1])
        longest = max([_display_length(v) for v in values] + [_display_length(name)])
        width = min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH)
        ws.column_dimensions[get_column_letter(col)].width = width


def _display_length(value: XlsxCell) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value:,}"
    # Wrapped text shows its longest line, so that line decides the width.
    return max(len(line) for line in text.splitlines() or [""])
