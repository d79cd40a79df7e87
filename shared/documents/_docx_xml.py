"""WordprocessingML details python-docx has no API for (fonts, borders, fields, widths)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.document import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

FONT_NAME = "Times New Roman"
_THEME_FONT_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_BORDER_EDGES = ("top", "left", "bottom", "right", "insideH", "insideV")
# Children that must follow a given element, in schema order; Word rejects misordered XML.
_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_AFTER_PPR_RPR = ("w:sectPr", "w:pPrChange")
_AFTER_TBL_BORDERS = (
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
    "w:tblCaption",
    "w:tblDescription",
    "w:tblPrChange",
)
_AFTER_TBL_CELL_MAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
_AFTER_CANT_SPLIT = ("w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden")
_AFTER_TBL_HEADER = ("w:tblCellSpacing", "w:jc", "w:hidden")


def _child(parent: Any, tag: str, successors: Sequence[str] = ()) -> Any:
    """Return parent's first child named tag, inserting it before its successors if missing."""
    found = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        following = {qn(t) for t in successors}
        anchor = next((c for c in parent if c.tag in following), None)
        if anchor is None:
            parent.append(found)
        else:
            anchor.addprevious(found)
    return found


def apply_font(rpr: Any) -> None:
    """Point every script slot of an rPr at Times New Roman, dropping theme fonts."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    # Theme attributes win over explicit names in Word, so they must go, not just be shadowed.
    for attr in _THEME_FONT_ATTRS:
        rfonts.attrib.pop(qn(attr), None)
    # eastAsia matters too: Word picks that slot for some Vietnamese characters.
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT_NAME)


def style_run(run: Run, size_pt: float, *, bold: bool = False, italic: bool = False) -> None:
    """Give a run the document font, its size and emphasis, all as direct formatting."""
    apply_font(run._r.get_or_add_rPr())
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.italic = italic


def set_document_defaults(document: Document, size_pt: float) -> None:
    """Make Times New Roman, Vietnamese, single spacing the defaults for every style."""
    styles = document.styles.element
    defaults = _child(styles, "w:docDefaults")
    rpr = _child(_child(defaults, "w:rPrDefault"), "w:rPr")
    apply_font(rpr)
    lang = _child(rpr, "w:lang")
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")
    spacing = _child(_child(_child(defaults, "w:pPrDefault"), "w:pPr"), "w:spacing")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    for name in ("Normal", "Header", "Footer"):
        style = document.styles[name]
        apply_font(style.element.get_or_add_rPr())
        style.font.size = Pt(size_pt)  # type: ignore[union-attr]


def set_table_borders(table: Table, *, visible: bool) -> None:
    """Draw single thin borders on every edge, or declare none so no viewer adds any."""
    borders = _child(table._tbl.tblPr, "w:tblBorders", _AFTER_TBL_BORDERS)
    for old in list(borders):
        borders.remove(old)
    for edge in _BORDER_EDGES:
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single" if visible else "nil")
        if visible:
            element.set(qn("w:sz"), "4")
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
        borders.append(element)


def set_cell_margins(table: Table, left: Length, right: Length) -> None:
    """Set the table's default left and right cell padding."""
    margins = _child(table._tbl.tblPr, "w:tblCellMar", _AFTER_TBL_CELL_MAR)
    for edge, value in (("left", left), ("right", right)):
        element = _child(margins, f"w:{edge}", ("w:bottom", "w:right") if edge == "left" else ())
        element.set(qn("w:w"), str(int(value.twips)))
        element.set(qn("w:type"), "dxa")


def set_column_widths(table: Table, widths: Sequence[Length]) -> None:
    """Fix column widths in the grid and in every cell: Word reads one, LibreOffice the other."""
    table.autofit = False  # also writes <w:tblLayout w:type="fixed"/>
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def keep_row_together(row: _Row) -> None:
    """Forbid a page break inside the row."""
    tr_pr = row._tr.get_or_add_trPr()
    _child(tr_pr, "w:cantSplit", _AFTER_CANT_SPLIT).set(qn("w:val"), "true")


def repeat_as_header(row: _Row) -> None:
    """Repeat the row at the top of each page the table spans, and keep it in one piece."""
    keep_row_together(row)
    tr_pr = row._tr.get_or_add_trPr()
    _child(tr_pr, "w:tblHeader", _AFTER_TBL_HEADER).set(qn("w:val"), "true")


def add_bottom_rule(paragraph: Paragraph) -> None:
    """Draw a solid 0.75 pt line under the paragraph, across its indented width."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = _child(p_pr, "w:pBdr", _AFTER_PBDR)
    bottom = _child(borders, "w:bottom", ("w:between", "w:bar"))
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "6")
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), "000000")


def set_paragraph_mark_size(paragraph: Paragraph, size_pt: float) -> None:
    """Size the paragraph mark, which alone sets the height of an empty paragraph."""
    rpr = _child(paragraph._p.get_or_add_pPr(), "w:rPr", _AFTER_PPR_RPR)
    apply_font(rpr)
    half_points = str(round(size_pt * 2))
    for tag in ("w:sz", "w:szCs"):
        _child(rpr, tag).set(qn("w:val"), half_points)


def add_page_field(paragraph: Paragraph, size_pt: float) -> None:
    """Append a PAGE field, so the header prints the current page number."""
    parts: list[tuple[str, str]] = [
        ("w:fldChar", "begin"),
        ("w:instrText", " PAGE "),
        ("w:fldChar", "separate"),
        ("w:t", "2"),
        ("w:fldChar", "end"),
    ]
    for tag, value in parts:
        run = paragraph.add_run()
        style_run(run, size_pt)
        element = OxmlElement(tag)
        if tag == "w:fldChar":
            element.set(qn("w:fldCharType"), value)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = value
        run._r.append(element)


def drop_first_paragraph(cell: _Cell) -> None:
    """Remove the empty paragraph every new cell starts with, once others follow it."""
    paragraphs = cell.paragraphs
    if len(paragraphs) > 1 and not paragraphs[0].text:
        element = paragraphs[0]._p
        element.getparent().remove(element)
