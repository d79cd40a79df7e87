"""Paragraph primitives and body blocks shared by the parts of an official document."""

from __future__ import annotations

import copy
from typing import Any

from docx.document import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from shared.documents import _docx_xml as xml
from shared.documents.formatting import clean_text
from shared.documents.model import Block, Bullet, Cell, Heading, Paragraph, Table
from shared.formatting import vn_number

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]
BODY_SIZE = 14
FIRST_LINE_INDENT = Cm(1.27)
PARAGRAPH_SPACING = Pt(6)
_TABLE_SIZE = 12

Container = Document | _Cell


def paragraph(
    container: Container,
    text: str = "",
    *,
    size: float = BODY_SIZE,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
    space_before: Length | None = None,
) -> DocxParagraph:
    """Add a single-spaced paragraph with one uniformly formatted run (or none)."""
    added = container.add_paragraph()
    added.alignment = align
    fmt = added.paragraph_format
    fmt.space_before = space_before or Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    xml.set_paragraph_mark_size(added, size)
    if text:
        xml.style_run(added.add_run(clean_text(text)), size, bold=bold, italic=italic)
    return added


def rule(container: Container, column_width: Length, rule_width_pt: float) -> None:
    """Add a short centred line: an empty paragraph with a bottom border, narrowed by indents."""
    # The gap above keeps the line clear of descenders and diacritics on the line above.
    line = paragraph(container, size=1, space_before=Pt(2))
    side = max(0, (column_width.pt - rule_width_pt) / 2)
    line.paragraph_format.left_indent = Pt(side)
    line.paragraph_format.right_indent = Pt(side)
    xml.add_bottom_rule(line)


def add_block(document: Document, block: Block) -> None:
    """Append one body block: a justified, indented paragraph or a bordered table."""
    match block:
        case Table():
            _add_table(document, block)
            return
        case Heading(text=text, level=level):
            # Levels 1-2 bold, 3 bold italic, deeper italic: the usual weight ladder of reports.
            bold, italic = level <= 3, level >= 3
        case Bullet(text=item, marker=marker):
            text, bold, italic = f"{marker.strip() or '-'} {item.strip()}", False, False
        case Paragraph(text=text, bold=bold, italic=italic, centred=True):
            paragraph(document, text.strip(), bold=bold, italic=italic)
            return
        case Paragraph(text=text, bold=bold, italic=italic):
            pass
        case _:
            raise TypeError(f"unsupported body block: {type(block).__name__}")
    added = paragraph(
        document,
        text.strip(),
        bold=bold,
        italic=italic,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        space_before=PARAGRAPH_SPACING,
    )
    added.paragraph_format.first_line_indent = FIRST_LINE_INDENT
    if isinstance(block, Heading):
        added.paragraph_format.keep_with_next = True


def _add_table(document: Document, block: Table) -> None:
    n = len(block.columns)
    widths_mm = block.widths_mm or [TEXT_WIDTH_MM / n] * n
    table = document.add_table(rows=0, cols=n)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    xml.set_table_borders(table, visible=True)
    header: list[tuple[Cell, bool]] = [(c, True) for c in block.columns]
    rows = [header]
    rows += [[(c, False) for c in row] for row in block.rows]
    if block.totals_row is not None:
        rows.append([(c, True) for c in block.totals_row])
    widths: list[Length] = [Mm(w) for w in widths_mm]
    cells = _CellFactory(table, widths)
    for r, row in enumerate(rows):
        tr = table._tbl._new_tr()
        # The rows are the table's last children, so appending is where python-docx's
        # `add_row` would put them; it would also look up `w:tblGrid` by scanning every row
        # added so far, which made a table of 10,000 units quadratic.
        table._tbl.append(tr)
        for column, (value, bold) in enumerate(row):
            tr.append(cells.make(column, value, bold=bold, centred=r == 0))
    xml.repeat_as_header(table.rows[0])
    # The cells already have their widths (`set_column_widths` sets them on every cell).
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


class _CellFactory:
    """Table cells made by copying a cell formatted once per column, emphasis and alignment
    (and a run's formatting once per emphasis): the same XML `_fill_table_cell` writes for
    each cell, without python-docx's lookups for every element of every cell, which took
    most of a 10,000-unit report's time (tests/unit/documents checks they are the same)."""

    def __init__(self, table: DocxTable, widths: list[Length]) -> None:
        self._table = table
        self._widths = widths
        self._cells: dict[tuple[int, bool, bool], Any] = {}
        self._runs: dict[bool, Any] = {}

    def make(self, column: int, value: Cell, *, bold: bool, centred: bool) -> Any:
        """A new `w:tc` holding the value, formatted as `_fill_table_cell` formats it."""
        centre = centred or isinstance(value, int | float)
        key = (column, bold, centre)
        if key not in self._cells:
            tc = self._table._tbl._new_tr().add_tc()
            tc.width = self._widths[column]
            _format_table_cell(_Cell(tc, self._table), centred=centre)
            self._cells[key] = tc
        tc = copy.deepcopy(self._cells[key])
        text = _cell_text(value)
        if text:
            paragraph = DocxParagraph(tc.find(qn("w:p")), _Cell(tc, self._table))
            run = paragraph.add_run(text)
            run._r.insert(0, copy.deepcopy(self._run_properties(bold)))
        return tc

    def _run_properties(self, bold: bool) -> Any:
        if bold not in self._runs:
            scratch = DocxParagraph(OxmlElement("w:p"), self._table).add_run()
            xml.style_run(scratch, _TABLE_SIZE, bold=bold)
            self._runs[bold] = scratch._r.rPr
        return self._runs[bold]


def _fill_table_cell(cell: _Cell, value: Cell, *, bold: bool, centred: bool) -> None:
    """A table cell as every table of the documents has it (what `_CellFactory` copies)."""
    content = _format_table_cell(cell, centred=centred or isinstance(value, int | float))
    text = _cell_text(value)
    if text:
        xml.style_run(content.add_run(text), _TABLE_SIZE, bold=bold)


def _format_table_cell(cell: _Cell, *, centred: bool) -> DocxParagraph:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    content: DocxParagraph = cell.paragraphs[0]
    content.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
    fmt = content.paragraph_format
    fmt.space_before = fmt.space_after = Pt(2)
    fmt.line_spacing = 1.0
    xml.set_paragraph_mark_size(content, _TABLE_SIZE)
    return content


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return vn_number(value)
    return clean_text(value)
