"""The .docx follows the Nghị định 30/2020/NĐ-CP layout, read back with python-docx."""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from docx import Document as new_document
from docx import Document as open_document
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph as DocxParagraph

from shared.documents import (
    Bullet,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    Signature,
    Table,
    _docx_parts,
    _docx_xml,
    build_docx,
)
from shared.documents.model import Block, Cell

from .samples import RECIPIENTS, SIGNER, SUBJECT

FONT = "Times New Roman"


def _open(spec: DocumentSpec) -> Document:
    return open_document(io.BytesIO(build_docx(spec)))


def _body_paragraph(doc: Document, starts_with: str) -> DocxParagraph:
    return next(p for p in doc.paragraphs if p.text.startswith(starts_with))


def _all_parts(doc: Document) -> Iterator[Any]:
    yield doc.element.body
    section = doc.sections[0]
    for header in (section.header, section.first_page_header):
        yield header._element


def _lines(cell_paragraphs: list[DocxParagraph]) -> list[str]:
    return [p.text for p in cell_paragraphs if p.text.strip()]


def test_page_is_a4_portrait_with_decree_margins(report_spec: DocumentSpec) -> None:
    section = _open(report_spec).sections[0]
    measured = {
        "width": section.page_width,
        "height": section.page_height,
        "top": section.top_margin,
        "bottom": section.bottom_margin,
        "left": section.left_margin,
        "right": section.right_margin,
    }
    expected_mm = {"width": 210, "height": 297, "top": 20, "bottom": 20, "left": 30, "right": 15}
    for name, length in measured.items():
        assert length is not None
        assert length.mm == pytest.approx(expected_mm[name], abs=0.05), name
    assert section.page_width is not None and section.page_height is not None
    assert section.page_width < section.page_height


def test_every_run_is_times_new_roman_in_every_script_slot(report_spec: DocumentSpec) -> None:
    doc = _open(report_spec)
    runs = [r for part in _all_parts(doc) for r in part.iter(qn("w:r"))]
    assert len(runs) > 30
    for run in runs:
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert fonts is not None, run.xml
        for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            assert fonts.get(qn(slot)) == FONT, (slot, run.xml)
        assert fonts.get(qn("w:asciiTheme")) is None


def test_document_defaults_carry_no_theme_font(report_spec: DocumentSpec) -> None:
    doc = _open(report_spec)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert fonts.get(qn("w:eastAsia")) == FONT
    assert fonts.get(qn("w:asciiTheme")) is None
    assert doc.styles["Normal"].font.name == FONT


def test_header_table_holds_issuer_and_national_title(report_spec: DocumentSpec) -> None:
    header = _open(report_spec).tables[0]
    issuer, nation = header.cell(0, 0), header.cell(0, 1)
    assert _lines(issuer.paragraphs) == ["ỦY BAN NHÂN DÂN", "THỊ XÃ HỒNG LĨNH"]
    assert _lines(nation.paragraphs) == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    for cell in (issuer, nation):
        for p in cell.paragraphs:
            assert all(r.bold for r in p.runs)
            assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}


def test_rules_sit_under_issuer_name_and_motto(report_spec: DocumentSpec) -> None:
    header = _open(report_spec).tables[0]
    for cell in (header.cell(0, 0), header.cell(0, 1)):
        last = cell.paragraphs[-1]
        assert last.text == ""
        assert last._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None
        # A short rule, not a line across the whole column.
        assert last.paragraph_format.left_indent > Cm(0.5)


def test_parent_authority_is_plain_when_it_is_a_separate_body(report_spec: DocumentSpec) -> None:
    issuer = Issuer("UBND thị xã Hồng Lĩnh", "Phòng Nội vụ", "BC-NV", parent_authority_bold=False)
    header = _open(dataclasses.replace(report_spec, issuer=issuer)).tables[0]
    parent, name = header.cell(0, 0).paragraphs[:2]
    assert parent.text == "UBND THỊ XÃ HỒNG LĨNH" and not parent.runs[0].bold
    assert name.text == "PHÒNG NỘI VỤ" and name.runs[0].bold


def test_number_line_leaves_the_number_blank(report_spec: DocumentSpec) -> None:
    number_cell = _open(report_spec).tables[0].cell(1, 0)
    lines = _lines(number_cell.paragraphs)
    assert len(lines) == 1
    assert re.fullmatch(r"Số:\s{3,}/BC-UBND", lines[0])
    assert not re.search(r"\d", lines[0])


def test_date_line_is_italic_with_the_decree_zero_padding(report_spec: DocumentSpec) -> None:
    date_cell = _open(report_spec).tables[0].cell(1, 1)
    (line,) = [p for p in date_cell.paragraphs if p.text]
    assert line.text == "Hồng Lĩnh, ngày 05 tháng 6 năm 2023"
    assert all(r.italic for r in line.runs)


def test_title_and_subject_are_bold_and_centred(report_spec: DocumentSpec) -> None:
    doc = _open(report_spec)
    for text in ("BÁO CÁO", SUBJECT):
        p = next(p for p in doc.paragraphs if p.text == text)
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert p.runs and all(r.bold for r in p.runs)


def test_body_paragraphs_are_justified_14pt_with_first_line_indent(
    report_spec: DocumentSpec,
) -> None:
    doc = _open(report_spec)
    for start in ("Thực hiện Kế hoạch", "- 20/20 đơn vị", "I. KẾT QUẢ", "Trên đây"):
        p = _body_paragraph(doc, start)
        fmt = p.paragraph_format
        assert p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY, start
        assert fmt.first_line_indent is not None
        assert fmt.first_line_indent.cm == pytest.approx(1.27, abs=0.01)
        assert fmt.space_before == Pt(6)
        assert all(r.font.size == Pt(14) for r in p.runs)


def test_heading_levels_and_paragraph_emphasis(report_spec: DocumentSpec) -> None:
    doc = _open(report_spec)
    level1 = _body_paragraph(doc, "I. KẾT QUẢ").runs[0]
    level3 = _body_paragraph(doc, "a) Số liệu").runs[0]
    closing = _body_paragraph(doc, "Trên đây").runs[0]
    assert level1.bold and not level1.italic
    assert level3.bold and level3.italic
    assert closing.italic and not closing.bold
    assert _body_paragraph(doc, "I. KẾT QUẢ").paragraph_format.keep_with_next


def test_body_table_prints_vietnamese_numbers_and_bold_header(report_spec: DocumentSpec) -> None:
    doc = _open(report_spec)
    table = doc.tables[1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["Đơn vị", "Số cuộc đối thoại", "Tỷ lệ giải quyết (%)", "Ghi chú"]
    assert rows[1] == ["UBND phường Bắc Hồng", "12", "95,5", ""]
    assert rows[2] == ["UBND xã Thuận Lộc", "1.234", "100", "Đúng hạn"]
    assert rows[3] == ["Tổng cộng", "1.246", "", ""]
    assert all(c.paragraphs[0].runs[0].bold for c in table.rows[0].cells)
    assert not table.rows[1].cells[0].paragraphs[0].runs[0].bold
    assert table.rows[3].cells[0].paragraphs[0].runs[0].bold
    assert table.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    assert [round(c.width.mm) for c in table.columns] == [60, 35, 35, 35]


def test_table_rejects_rows_that_do_not_match_the_columns() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        Table(columns=("A", "B"), rows=(("x",),))
    with pytest.raises(ValueError, match="widths_mm"):
        Table(columns=("A", "B"), rows=(), widths_mm=(10,))


def test_closing_lists_recipients_and_archive(report_spec: DocumentSpec) -> None:
    closing = _open(report_spec).tables[-1]
    recipients = [p for p in closing.cell(0, 0).paragraphs if p.text]
    title, *entries = recipients
    assert title.text == "Nơi nhận:"
    assert title.runs[0].bold and title.runs[0].italic and title.runs[0].font.size == Pt(12)
    assert [e.text for e in entries] == [f"- {r};" for r in RECIPIENTS] + ["- Lưu: VT, NV."]
    assert all(r.font.size == Pt(11) for e in entries for r in e.runs)


def test_signature_block_names_mode_title_and_signer(report_spec: DocumentSpec) -> None:
    closing = _open(report_spec).tables[-1]
    signature = closing.cell(0, 1).paragraphs
    assert _lines(signature) == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", SIGNER]
    name = signature[-1]
    assert name.text == SIGNER and name.runs[0].bold
    blank_lines = [p for p in signature if not p.text]
    assert len(blank_lines) >= 3


def test_pages_are_numbered_at_the_top_from_page_two(report_spec: DocumentSpec) -> None:
    section = _open(report_spec).sections[0]
    assert section.different_first_page_header_footer
    header = section.header
    assert not header.is_linked_to_previous
    instructions = [t.text for t in header._element.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ["PAGE"]
    assert header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    first = section.first_page_header
    assert not first.is_linked_to_previous
    assert not list(first._element.iter(qn("w:instrText")))


def test_cong_van_has_vv_line_kinh_gui_and_deputy_signature(
    cong_van_spec: DocumentSpec,
) -> None:
    doc = _open(cong_van_spec)
    number_cell = doc.tables[0].cell(1, 0)
    number, vv = [p for p in number_cell.paragraphs if p.text]
    assert re.fullmatch(r"Số:\s{3,}/UBND-NV", number.text)
    assert vv.text == f"V/v {cong_van_spec.subject}"
    assert vv.runs[0].font.size == Pt(12)
    assert doc.tables[0].cell(1, 1).paragraphs[0].text == "Hồng Lĩnh, ngày 03 tháng 02 năm 2024"
    texts = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO" not in texts
    assert "Kính gửi:\t- UBND phường Nam Hồng;" in texts
    assert "- Phòng Tư pháp." in texts
    signature = _lines(doc.tables[-1].cell(0, 1).paragraphs)
    assert signature == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Văn A"]
    recipients = _lines(doc.tables[-1].cell(0, 0).paragraphs)
    assert recipients[1:] == ["- Như trên;", "- Chủ tịch UBND thị xã (b/c);", "- Lưu: VT, NV."]


def test_single_kinh_gui_recipient_is_one_centred_line(cong_van_spec: DocumentSpec) -> None:
    spec = dataclasses.replace(cong_van_spec, recipients_to=("- Sở Nội vụ;",))
    p = _body_paragraph(_open(spec), "Kính gửi")
    assert p.text == "Kính gửi: Sở Nội vụ."
    assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_signature_helpers_build_the_decree_wording() -> None:
    assert Signature.thay_mat("ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "A").authority_lines == (
        "TM. ỦY BAN NHÂN DÂN",
    )
    deputy = Signature.ky_thay("CHỦ TỊCH", "PHÓ CHỦ TỊCH", "B")
    assert deputy.authority_lines == ("KT. CHỦ TỊCH",)
    assert deputy.title == "PHÓ CHỦ TỊCH"


def test_text_is_normalised_and_cleaned(report_spec: DocumentSpec) -> None:
    raw = unicodedata.normalize("NFD", "Ý kiến\x0b của nhân dân")
    spec = dataclasses.replace(report_spec, body=(Paragraph(raw), Bullet("  mục  ", "+")))
    doc = _open(spec)
    assert _body_paragraph(doc, "Ý kiến").text == "Ý kiến của nhân dân"
    assert _body_paragraph(doc, "+ ").text == "+ mục"


# Schema order of the children this builder writes; Word refuses files that break it.
_PPR_ORDER = [
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
    "suppressLineNumbers",
    "pBdr",
    "shd",
    "tabs",
    "suppressAutoHyphens",
    "kinsoku",
    "wordWrap",
    "overflowPunct",
    "topLinePunct",
    "autoSpaceDE",
    "autoSpaceDN",
    "bidi",
    "adjustRightInd",
    "snapToGrid",
    "spacing",
    "ind",
    "contextualSpacing",
    "mirrorIndents",
    "suppressOverlap",
    "jc",
    "textDirection",
    "textAlignment",
    "textboxTightWrap",
    "outlineLvl",
    "divId",
    "cnfStyle",
    "rPr",
    "sectPr",
    "pPrChange",
]
_TBLPR_ORDER = [
    "tblStyle",
    "tblpPr",
    "tblOverlap",
    "bidiVisual",
    "tblStyleRowBandSize",
    "tblStyleColBandSize",
    "tblW",
    "jc",
    "tblCellSpacing",
    "tblInd",
    "tblBorders",
    "shd",
    "tblLayout",
    "tblCellMar",
    "tblLook",
]
_TRPR_ORDER = "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader"


@pytest.mark.parametrize("fixture", ["report_spec", "cong_van_spec"])
def test_properties_are_written_in_schema_order(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    doc = _open(request.getfixturevalue(fixture))
    for tag, order in (("pPr", _PPR_ORDER), ("tblPr", _TBLPR_ORDER), ("trPr", _TRPR_ORDER.split())):
        for part in _all_parts(doc):
            for element in part.iter(qn(f"w:{tag}")):
                names = [child.tag.split("}")[1] for child in element]
                positions = [order.index(n) for n in names]
                assert positions == sorted(positions), (tag, names)


def test_a_tables_cells_are_the_xml_python_docx_writes_cell_by_cell() -> None:
    """`_add_table` copies a formatted cell instead of formatting each cell through
    python-docx; the table is the one `add_row` and `_fill_table_cell` write, cell by cell."""
    block = Table(
        columns=["Đơn vị", "Số hồ sơ", "Ghi chú"],
        rows=[
            ["Phường Bắc Hồng", 120, "có\tnhiều dòng\nthứ hai"],
            ["Phường Nam Hồng", 3.5, None],
            ["  Xã Thuận Lộc  ", None, "=1+1"],
        ],
        widths_mm=[60, 30, 70],
        totals_row=["Tổng cộng", 123.5, ""],
    )
    copied = new_document()
    _docx_parts._add_table(copied, block)
    by_cell = new_document()
    table = by_cell.add_table(rows=0, cols=3)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _docx_xml.set_table_borders(table, visible=True)
    rows: list[list[tuple[Cell, bool]]] = [[(c, True) for c in block.columns]]
    rows += [[(c, False) for c in row] for row in block.rows]
    rows.append([(c, True) for c in block.totals_row or ()])
    for r, row in enumerate(rows):
        for cell, (value, bold) in zip(table.add_row().cells, row, strict=True):
            _docx_parts._fill_table_cell(cell, value, bold=bold, centred=r == 0)
    _docx_xml.repeat_as_header(table.rows[0])
    _docx_xml.set_column_widths(table, [Mm(w) for w in block.widths_mm or ()])

    def tables(doc: Document) -> list[str]:
        return [t.xml for t in doc.element.body.iter(qn("w:tbl"))]

    assert tables(copied) == tables(by_cell)
    assert "nhiều dòng" in tables(copied)[0] and "<w:tab/>" in tables(copied)[0]


def test_written_blocks_are_the_xml_python_docx_writes_block_by_block() -> None:
    """`write_blocks` writes paragraphs as markup of one paragraph formatted per formatting,
    parsed in runs; the body is the one `add_block` writes through python-docx, block by
    block, for every kind of block and text python-docx writes specially (tabs and line
    breaks, space at either end, characters XML cannot carry, NFD, markup characters)."""
    blocks: list[Block] = [
        Heading("I. KẾT QUẢ", 1),
        Heading("1. Công tác lãnh đạo", 2),
        Heading("a) Số liệu", 3),
        Heading("Ghi chú", 4),
        Paragraph("Nội dung\tcó tab\nvà dòng thứ hai\r\nvà thứ ba"),
        Paragraph("chữ \t chữ\n dòng"),
        Paragraph("  cách ở đầu", bold=True),
        Paragraph("in nghiêng ", italic=True),
        Paragraph(unicodedata.normalize("NFD", "Tiếng Việt tổ hợp"), centred=True),
        Paragraph("đậm, giữa", bold=True, italic=True, centred=True),
        Paragraph("ký tự \x0b lạ \x01 <a> & \"b\" 'c' \u00a0"),
        Paragraph("   "),
        Paragraph(""),
        Bullet("mục một"),
        Bullet("  mục hai  ", marker="+"),
        Bullet("mục ba", marker=" "),
        Table(columns=["A", "B"], rows=[["x\ty", 1.5]], totals_row=["Tổng", 2]),
        Paragraph("sau bảng"),
        Heading("\t", 2),
    ]
    written = new_document()
    _docx_parts.write_blocks(written, blocks)
    by_block = new_document()
    for block in blocks:
        _docx_parts.add_block(by_block, block)

    def body(doc: Document) -> str:
        return str(doc.element.body.xml)

    assert body(written) == body(by_block)
    assert "<w:tab/>" in body(written) and "<w:br/>" in body(written)
    assert "&lt;a&gt; &amp;" in body(written)
    # After the blocks, python-docx goes on adding to the body as before.
    written.add_paragraph("cuối")
    by_block.add_paragraph("cuối")
    assert body(written) == body(by_block)
    assert [p.text for p in written.paragraphs] == [p.text for p in by_block.paragraphs]
