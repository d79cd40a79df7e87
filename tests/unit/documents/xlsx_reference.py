"""The .xlsx builder as it was before the write-only mode (main 84b4b9c,
`shared/documents/xlsx_builder.py`), kept as the reference the write-only builder is compared
with: every cell made and styled one by one through openpyxl's ordinary worksheet. Do not
change it to follow the builder: a difference between the two is what the comparison in
`test_xlsx_builder.py` is there to find."""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import copy
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared.documents.formatting import clean_text
from shared.documents.xlsx_builder import Sheet, XlsxCell, sanitize_sheet_title

_MIN_WIDTH = 8
_MAX_WIDTH = 60
_INTEGER_FORMAT = "#,##0"
_DECIMAL_FORMAT = "#,##0.##"


def reference_xlsx(sheets: Sequence[Sheet]) -> bytes:
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


def workbook_content(body: bytes) -> dict[str, Any]:
    """What a user sees of a workbook, read back with openpyxl: the sheets in order and, per
    sheet, its frozen pane, filter, merged ranges, column widths, row heights and every cell
    the file holds (an empty styled cell included) with its value, type and whole style
    (font, alignment, number format, fill, border, protection)."""
    workbook = load_workbook(io.BytesIO(body))
    sheets: dict[str, Any] = {}
    for ws in workbook.worksheets:
        sheets[ws.title] = {
            "freeze_panes": ws.freeze_panes,
            "auto_filter": ws.auto_filter.ref,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "max": (ws.max_row, ws.max_column),
            "cells": {
                cell.coordinate: (
                    cell.value,
                    cell.data_type,
                    # The style proxies compared by what they stand for.
                    copy(cell.font),
                    copy(cell.alignment),
                    cell.number_format,
                    copy(cell.fill),
                    copy(cell.border),
                    copy(cell.protection),
                )
                for row in ws.iter_rows()
                for cell in row
                if cell.value is not None or cell.has_style
            },
        }
    return {"sheetnames": workbook.sheetnames, "sheets": sheets}
