"""Build a simple .xlsx workbook (one table per sheet) for figures that reviewers filter."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

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
    """Render the sheets as .xlsx bytes, in order."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    workbook = Workbook()
    workbook.remove(workbook.active)
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


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    header_font = Font(bold=True)
    ws.append([clean_text(c) for c in sheet.columns])
    for cell in ws[1]:
        cell.font = header_font
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    # Rows are numbered here: `Worksheet.max_row` scans every cell written so far, which made
    # a workbook of 10,000 units quadratic. `ws.cell` creates each cell it is asked for, so
    # the numbering is the one `max_row + 1` gave.
    for row_index, row in enumerate(sheet.rows, start=2):
        _append(ws, row_index, row, bold=False)
    if sheet.totals_row is not None:
        _append(ws, len(sheet.rows) + 2, sheet.totals_row, bold=True)
    ws.freeze_panes = "A2"
    if sheet.columns:
        last = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A1:{last}{1 + len(sheet.rows)}"
    _set_widths(ws, sheet)


_TEXT_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_BOLD = Font(bold=True)


def _append(ws: Worksheet, row_index: int, values: Sequence[XlsxCell], *, bold: bool) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row_index, column=col)
        if isinstance(value, str):
            cell.value = clean_text(value)
            # A narrative starting with "=" must stay text, never become a live formula.
            cell.data_type = "s"
            cell.alignment = _TEXT_ALIGNMENT
        elif value is not None:
            cell.value = value
            is_int = isinstance(value, int) and not isinstance(value, bool)
            cell.number_format = _INTEGER_FORMAT if is_int else _DECIMAL_FORMAT
        if bold:
            cell.font = _BOLD


def _set_widths(ws: Worksheet, sheet: Sheet) -> None:
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
