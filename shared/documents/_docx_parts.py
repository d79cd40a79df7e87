"""Paragraph primitives and body blocks shared by the parts of an official document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from docx.blkcntnr import BlockItemContainer
from docx.document import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import element_class_lookup
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table as DocxTable
from docx.table import _Cell, _Row
from docx.text.paragraph import Paragraph as DocxParagraph
from lxml import etree  # type: ignore[import-untyped]  # python-docx's XML library; no stubs

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

Container = Document | BlockItemContainer


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
    """Append one body block through python-docx: a justified, indented paragraph or a
    bordered table. The reference `BlockWriter` copies (tests/unit/documents checks that
    both write the same XML); documents are written with `BlockWriter`."""
    if isinstance(block, Table):
        _add_table(document, block)
        return
    text, form = _paragraph_of(block)
    _add_paragraph(document, text, form)


@dataclass(frozen=True, slots=True)
class _Form:
    """How a body paragraph is formatted: its emphasis, and whether it is a body
    paragraph (justified, indented, spaced) or a centred line; headings keep with next."""

    bold: bool
    italic: bool
    body: bool
    keep_with_next: bool


def _paragraph_of(block: Block) -> tuple[str, _Form]:
    """The text of a paragraph block and its formatting."""
    match block:
        case Heading(text=text, level=level):
            # Levels 1-2 bold, 3 bold italic, deeper italic: the usual weight ladder of reports.
            return text.strip(), _Form(level <= 3, level >= 3, body=True, keep_with_next=True)
        case Bullet(text=item, marker=marker):
            text = f"{marker.strip() or '-'} {item.strip()}"
            return text.strip(), _Form(False, False, body=True, keep_with_next=False)
        case Paragraph(text=text, bold=bold, italic=italic, centred=True):
            return text.strip(), _Form(bold, italic, body=False, keep_with_next=False)
        case Paragraph(text=text, bold=bold, italic=italic):
            return text.strip(), _Form(bold, italic, body=True, keep_with_next=False)
        case _:
            raise TypeError(f"unsupported body block: {type(block).__name__}")


def _add_paragraph(container: Container, text: str, form: _Form) -> DocxParagraph:
    if not form.body:
        return paragraph(container, text, bold=form.bold, italic=form.italic)
    added = paragraph(
        container,
        text,
        bold=form.bold,
        italic=form.italic,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        space_before=PARAGRAPH_SPACING,
    )
    added.paragraph_format.first_line_indent = FIRST_LINE_INDENT
    if form.keep_with_next:
        added.paragraph_format.keep_with_next = True
    return added


class BlockWriter:
    """Appends body blocks at the end of a document's body (before its section properties).

    Each paragraph is the markup of one paragraph formatted the `add_block` way per
    formatting, with its text written as python-docx's `Run.text` writes it; a run of
    paragraphs (and a table's rows) is parsed in one go. python-docx's `add_paragraph`
    scans the body's children for `w:sectPr` on every insertion, and formats each element
    through lookups of its own: a report with 1,000 units' narratives (~25,000 paragraphs
    and a 17,000-row table) took 26 s of CPU that way, ~4 s like this, the same XML
    (docs/BENCHMARKS.md, 03/12/2026; tests/unit/documents compares the two). Call `flush`
    after the last block, before anything else is added to the document."""

    def __init__(self, document: Document) -> None:
        self._document = document
        self._body = document.element.body
        self._templates: dict[_Form, tuple[str, str]] = {}
        self._pending: list[str] = []

    def add(self, block: Block) -> None:
        """Append one block."""
        if isinstance(block, Table):
            self.flush()
            _add_table(self._document, block)
            return
        text, form = _paragraph_of(block)
        opening, r_pr = self._template(form)
        text = clean_text(text)
        self._pending.append(opening)
        if text:
            self._pending.append(_run_markup(r_pr, text))
        self._pending.append("</w:p>")

    def flush(self) -> None:
        """Write the paragraphs added since the last flush into the document."""
        if not self._pending:
            return
        end = self._body.find(qn("w:sectPr"))
        for element in _parsed(self._pending):
            if end is None:
                self._body.append(element)
            else:
                end.addprevious(element)
        self._pending = []

    def _template(self, form: _Form) -> tuple[str, str]:
        """The markup a paragraph of this formatting opens with, and its run's `w:rPr`."""
        if form not in self._templates:
            scratch = BlockItemContainer(OxmlElement("w:tc"), self._document)
            made = _add_paragraph(scratch, "x", form)._p
            run = made.find(qn("w:r"))
            made.remove(run)
            self._templates[form] = (_opening(made, "</w:p>"), _markup(run.rPr))
        return self._templates[form]


def write_blocks(document: Document, blocks: Sequence[Block]) -> None:
    """Append the blocks at the end of the document's body."""
    writer = BlockWriter(document)
    for block in blocks:
        writer.add(block)
    writer.flush()


_W_DECLARATION = f' xmlns:w="{nsmap["w"]}"'
# python-docx's parser (its element classes), keeping every text node as written.
_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)
_PARSER.set_element_class_lookup(element_class_lookup)


def _markup(element: Any) -> str:
    """An element's XML without the `w` namespace declaration (the document's root has it)."""
    markup: str = etree.tostring(element, encoding="unicode")
    markup = markup.replace(_W_DECLARATION, "", 1)
    if "xmlns" in markup:
        raise ValueError(f"markup with other namespaces: {markup[:200]}")
    return markup


def _opening(element: Any, closing: str) -> str:
    """An element's markup without its closing tags, for content to be added after it."""
    markup = _markup(element)
    if not markup.endswith(closing):
        raise ValueError(f"expected {closing!r} at the end of {markup[-200:]}")
    return markup[: -len(closing)]


def _parsed(markup: list[str]) -> list[Any]:
    wrapper = etree.fromstring(f"<w:body{_W_DECLARATION}>{''.join(markup)}</w:body>", _PARSER)
    return list(wrapper)


_RUN_BREAKS = re.compile("([\t\r\n])")


def _run_markup(r_pr: str, text: str) -> str:
    """A `w:r` with this `w:rPr` and `text` as python-docx's `Run.text` writes it: one `w:t`
    per stretch of text (space-preserving when it starts or ends with whitespace), a
    `w:tab` for each tab and a `w:br` for each line break."""
    parts = ["<w:r>", r_pr]
    for piece in _RUN_BREAKS.split(text):
        if not piece:
            continue
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            parts.append("<w:br/>")
        elif len(piece.strip()) < len(piece):
            parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
        else:
            parts.append(f"<w:t>{escape(piece)}</w:t>")
    parts.append("</w:r>")
    return "".join(parts)


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
    markup: list[str] = []
    for r, row in enumerate(rows):
        markup.append("<w:tr>")
        for column, (value, bold) in enumerate(row):
            cells.write(markup, column, value, bold=bold, centred=r == 0)
        markup.append("</w:tr>")
    # The rows are the table's last children, so appending is where python-docx's
    # `add_row` would put them; it would also look up `w:tblGrid` by scanning every row
    # added so far, which made a table of 10,000 units quadratic.
    table._tbl.extend(_parsed(markup))
    xml.repeat_as_header(_Row(table._tbl.find(qn("w:tr")), table))
    # The cells already have their widths (`set_column_widths` sets them on every cell).
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


class _CellFactory:
    """Table cells written as the markup of one cell formatted per column, emphasis and
    alignment (and a run's formatting once per emphasis): the same XML `_fill_table_cell`
    writes for each cell, without python-docx's lookups for every element of every cell,
    which took most of a 10,000-unit report's time (tests/unit/documents checks they are
    the same)."""

    _CLOSING = "</w:p></w:tc>"

    def __init__(self, table: DocxTable, widths: list[Length]) -> None:
        self._table = table
        self._widths = widths
        self._cells: dict[tuple[int, bool, bool], str] = {}
        self._runs: dict[bool, str] = {}

    def write(
        self, markup: list[str], column: int, value: Cell, *, bold: bool, centred: bool
    ) -> None:
        """Append a `w:tc` holding the value, formatted as `_fill_table_cell` formats it."""
        centre = centred or isinstance(value, int | float)
        key = (column, bold, centre)
        if key not in self._cells:
            tc = self._table._tbl._new_tr().add_tc()
            tc.width = self._widths[column]
            _format_table_cell(_Cell(tc, self._table), centred=centre)
            self._cells[key] = _opening(tc, self._CLOSING)
        markup.append(self._cells[key])
        text = _cell_text(value)
        if text:
            markup.append(_run_markup(self._run_properties(bold), text))
        markup.append(self._CLOSING)

    def _run_properties(self, bold: bool) -> str:
        if bold not in self._runs:
            scratch = DocxParagraph(OxmlElement("w:p"), self._table).add_run()
            xml.style_run(scratch, _TABLE_SIZE, bold=bold)
            self._runs[bold] = _markup(scratch._r.rPr)
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
