"""Build an official document (.docx) in the Nghị định 30/2020/NĐ-CP layout from a spec."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time

from docx import Document as new_document
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.section import Section
from docx.shared import Cm, Length, Mm, Pt
from docx.table import _Cell

from shared.documents import _docx_xml as xml
from shared.documents._docx_parts import (
    BODY_SIZE,
    MARGINS_MM,
    PAGE_HEIGHT_MM,
    PAGE_WIDTH_MM,
    TEXT_WIDTH_MM,
    paragraph,
    rule,
    write_blocks,
)
from shared.documents._metrics import bold_text_width_pt
from shared.documents.formatting import clean_text
from shared.documents.model import DocumentSpec, Issuer, Signature
from shared.formatting import vn_date_line

_HEADER_WIDTHS = (Mm(65), Mm(100))
_CLOSING_WIDTHS = (Mm(75), Mm(90))
_ISSUER_SIZE = 13
_NATION_SIZE = 12
_MOTTO_SIZE = 13
_VV_SIZE = 12
_RECIPIENTS_TITLE_SIZE = 12
_RECIPIENTS_SIZE = 11
_SIGNATURE_BLANK_LINES = 4
_NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
_MOTTO = "Độc lập - Tự do - Hạnh phúc"
_NUMBER_BLANK = " " * 6  # left for the records office to write the number by hand
_KINH_GUI_INDENT = Cm(5.5)
_KINH_GUI_HANG = Cm(2.5)


def build_docx(spec: DocumentSpec) -> bytes:
    """Render the document spec as .docx bytes."""
    document = new_document()
    xml.set_document_defaults(document, BODY_SIZE)
    _set_properties(document, spec)
    section = document.sections[0]
    _set_page(section)
    _add_page_numbers(section)
    _add_header(document, spec)
    if not spec.is_cong_van:
        _add_title(document, spec.kind_title, spec.subject)
    if spec.recipients_to:
        _add_kinh_gui(document, spec.recipients_to)
    write_blocks(document, spec.body)
    _add_closing(document, spec.recipients, spec.archive, spec.signature)
    if spec.appendix:
        paragraph(document, size=1).paragraph_format.page_break_before = True
        write_blocks(document, spec.appendix)
        paragraph(document, size=1)  # never end the body on a table
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_properties(document: Document, spec: DocumentSpec) -> None:
    props = document.core_properties
    title = f"{spec.kind_title} {spec.subject}" if not spec.is_cong_van else spec.subject
    props.title = clean_text(title.strip())
    props.author = props.last_modified_by = clean_text(spec.issuer.name)
    props.language = "vi-VN"
    props.created = props.modified = datetime.combine(spec.issued_on, time())


def _set_page(section: Section) -> None:
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)


def _add_page_numbers(section: Section) -> None:
    # The decree numbers pages from the second one, so the first page gets its own empty header.
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    page_number = section.header.paragraphs[0]
    page_number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    xml.add_page_field(page_number, BODY_SIZE)


def _borderless_table(document: Document, widths: Sequence[Length], rows: int) -> list[_Cell]:
    table = document.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    xml.set_table_borders(table, visible=False)
    xml.set_cell_margins(table, Mm(0), Mm(0))
    xml.set_column_widths(table, widths)
    # A signature block torn across two pages is not a valid signature block.
    for row in table.rows:
        xml.keep_row_together(row)
    return [cell for row in table.rows for cell in row.cells]


def _add_header(document: Document, spec: DocumentSpec) -> None:
    issuer_cell, nation_cell, number_cell, date_cell = _borderless_table(
        document, _HEADER_WIDTHS, rows=2
    )
    _fill_issuer(issuer_cell, spec.issuer)
    nation_width = _HEADER_WIDTHS[1]
    paragraph(nation_cell, _NATION, size=_NATION_SIZE, bold=True)
    paragraph(nation_cell, _MOTTO, size=_MOTTO_SIZE, bold=True)
    # The decree wants the motto's rule exactly as long as the motto itself.
    rule(nation_cell, nation_width, bold_text_width_pt(_MOTTO, _MOTTO_SIZE))
    space = Pt(6)
    number = f"Số:{_NUMBER_BLANK}/{spec.issuer.number_suffix.strip()}"
    paragraph(number_cell, number, size=_ISSUER_SIZE, space_before=space)
    if spec.is_cong_van:
        paragraph(number_cell, f"V/v {spec.subject.strip()}", size=_VV_SIZE)
    date_line = clean_text(vn_date_line(spec.place, spec.issued_on))
    paragraph(date_cell, date_line, size=BODY_SIZE, italic=True, space_before=space)
    for cell in (issuer_cell, nation_cell, number_cell, date_cell):
        xml.drop_first_paragraph(cell)


def _fill_issuer(cell: _Cell, issuer: Issuer) -> None:
    parent = issuer.parent_authority.strip().upper()
    name = issuer.name.strip().upper()
    if parent:
        paragraph(cell, parent, size=_ISSUER_SIZE, bold=issuer.parent_authority_bold)
    paragraph(cell, name, size=_ISSUER_SIZE, bold=True)
    # A rule between a third and a half of the name line, as the decree allows.
    rule(cell, _HEADER_WIDTHS[0], 0.4 * bold_text_width_pt(name, _ISSUER_SIZE))


def _add_title(document: Document, kind_title: str, subject: str) -> None:
    paragraph(document, kind_title.strip().upper(), bold=True, space_before=Pt(18))
    paragraph(document, subject.strip(), bold=True)
    subject_width = min(bold_text_width_pt(subject, BODY_SIZE), Mm(TEXT_WIDTH_MM).pt)
    rule(document, Mm(TEXT_WIDTH_MM), 0.4 * subject_width)


def _add_kinh_gui(document: Document, recipients: Sequence[str]) -> None:
    names = [_strip_list_punctuation(r) for r in recipients]
    if len(names) == 1:
        paragraph(document, f"Kính gửi: {names[0]}.", space_before=Pt(18))
        return
    for i, name in enumerate(names):
        end = "." if i == len(names) - 1 else ";"
        line = paragraph(document, align=WD_ALIGN_PARAGRAPH.LEFT)
        fmt = line.paragraph_format
        fmt.left_indent = _KINH_GUI_INDENT
        if i == 0:
            fmt.space_before = Pt(18)
            fmt.first_line_indent = -_KINH_GUI_HANG
            fmt.tab_stops.add_tab_stop(_KINH_GUI_INDENT, WD_TAB_ALIGNMENT.LEFT)
            xml.style_run(line.add_run("Kính gửi:\t"), BODY_SIZE)
        xml.style_run(line.add_run(clean_text(f"- {name}{end}")), BODY_SIZE)


def _add_closing(
    document: Document, recipients: Sequence[str], archive: str, signature: Signature
) -> None:
    recipients_cell, signature_cell = _borderless_table(document, _CLOSING_WIDTHS, rows=1)
    left = WD_ALIGN_PARAGRAPH.LEFT
    paragraph(
        recipients_cell,
        "Nơi nhận:",
        size=_RECIPIENTS_TITLE_SIZE,
        bold=True,
        italic=True,
        align=left,
        space_before=Pt(12),
    )
    for name in recipients:
        paragraph(
            recipients_cell,
            f"- {_strip_list_punctuation(name)};",
            size=_RECIPIENTS_SIZE,
            align=left,
        )
    archive_text = f"- Lưu: {_strip_list_punctuation(archive)}."
    paragraph(recipients_cell, archive_text, size=_RECIPIENTS_SIZE, align=left)
    first = True
    for line in (*signature.authority_lines, signature.title):
        space = Pt(12) if first else None
        paragraph(signature_cell, line.strip().upper(), bold=True, space_before=space)
        first = False
    for _ in range(_SIGNATURE_BLANK_LINES):
        paragraph(signature_cell)
    paragraph(signature_cell, signature.signer_name.strip(), bold=True)
    for cell in (recipients_cell, signature_cell):
        xml.drop_first_paragraph(cell)
    # A body must not end on a table; a 1 pt paragraph satisfies Word without adding a page.
    paragraph(document, size=1)


def _strip_list_punctuation(text: str) -> str:
    """Reduce "- Sở Nội vụ;" to "Sở Nội vụ", so callers may pass either form."""
    return text.strip().removeprefix("-").strip().rstrip(";.,").strip()
