"""The consolidated report: official .docx layout and the .xlsx figures."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Length, Mm
from openpyxl import load_workbook

from services.consolidation.documents import report_docx, report_sheets, report_xlsx
from services.consolidation.domain import Summary, summarise
from services.consolidation.domain.draft import (
    PartEdit,
    compose,
    report_frame,
    saved_after,
    section_part,
    view,
)
from services.consolidation.domain.events import InMemoryProjection
from services.consolidation.settings import ConsolidationSettings
from shared.contracts.intake import ReportSubmitted, ReportVersion
from shared.contracts.registry import PeriodChanged, PeriodState
from shared.forms import load_form
from tests.unit.consolidation.factory import (
    BEFORE_DUE,
    DUE_2023_H1,
    FORM,
    UNITS,
    difficulty,
    period_event,
    submitted,
    three_reports,
)
from tests.unit.documents.xlsx_reference import reference_xlsx, workbook_content

ISSUED = date(2023, 6, 5)


def _summary(events: list[Any], *, earlier: bool = False) -> Summary:
    p = InMemoryProjection()
    for e in events:
        p.apply(e)
    form = load_form(*FORM)
    previous = None
    if earlier:
        previous = summarise(p.periods["2022-H1"], form, p.period_reports("2022-H1"))
    return summarise(
        p.periods["2023-H1"],
        form,
        p.period_reports("2023-H1"),
        p.period_difficulties("2023-H1"),
        earlier=previous,
    )


def _settings() -> ConsolidationSettings:
    return ConsolidationSettings(env="test")


def town_report(
    summary: Summary,
    settings: ConsolidationSettings | None = None,
    edits: dict[str, PartEdit] | None = None,
    *,
    saved_over: Summary | None = None,
) -> bytes:
    """The town report of a summary; with `edits`, saved over the draft `saved_over` gave
    (default: this one), as the service renders it."""
    settings = settings or _settings()
    form = load_form(summary.period.form_id, summary.period.form_version)
    frame = report_frame(summary.period, settings.plan, settings.issuer_prose)
    generated = compose(summary, form, frame)
    saved = None
    if edits is not None:
        base = compose(saved_over or summary, form, frame)
        saved = saved_after(
            base,
            None,
            period_id=summary.period.period_id,
            version_read=0,
            edits=edits,
            by="pnv",
            by_name="",
            at=datetime(2023, 6, 5, 2, tzinfo=UTC),
        )
    draft = view(generated, saved, summary.completeness)
    return report_docx(summary, draft, frame, settings, ISSUED)


def _text(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


@pytest.fixture
def docx_bytes() -> bytes:
    events = [
        *three_reports(),
        difficulty("d1", "PNV", "Thiếu biên chế.", answer="Sẽ bổ sung trong quý III."),
    ]
    return town_report(_summary(events))


def test_report_has_the_national_header_number_blank_place_and_date(docx_bytes: bytes) -> None:
    text = _text(Document(io.BytesIO(docx_bytes)))
    for expected in (
        "ỦY BAN NHÂN DÂN",
        "THỊ XÃ HỒNG LĨNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số:      /BC-UBND",
        "Hồng Lĩnh, ngày 05 tháng 6 năm 2023",
        "BÁO CÁO",
        "Kết quả thực hiện công tác dân vận chính quyền 6 tháng đầu năm 2023",
    ):
        assert expected in text, expected


def test_report_has_every_task_area_and_part_b(docx_bytes: bytes) -> None:
    text = _text(Document(io.BytesIO(docx_bytes)))
    for section in load_form(*FORM).sections:
        assert section.title in text, section.title
    for heading in (
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ",
        "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "V. ĐỀ XUẤT, KIẾN NGHỊ",
    ):
        assert heading in text, heading
    # The units' narratives are in the appendix, by unit; the internal answer to a
    # difficulty appears nowhere (only how many were raised and answered).
    assert "Mục 1. Quán triệt, thể chế hóa chủ trương về công tác dân vận: Bắc Hồng đã ban " in text
    assert "Sẽ bổ sung trong quý III." not in text and "Trả lời" not in text
    assert "1 đơn vị nêu 1 khó khăn, vướng mắc cần hướng dẫn; tất cả đã được hướng dẫn" in text


def test_report_names_late_and_missing_units_and_shows_figures(docx_bytes: bytes) -> None:
    text = _text(Document(io.BytesIO(docx_bytes)))
    assert (
        "Đơn vị chưa gửi báo cáo (2): UBND xã Thuận Lộc, Trung tâm Văn hóa - Truyền thông." in text
    )
    assert "Đơn vị gửi báo cáo muộn (1): Phòng Nội vụ." in text
    assert "12,8" in text  # 12.5 + 0.3 million đồng, Vietnamese decimal comma
    assert "Chưa có số liệu" in text  # not reported is not 0


def test_report_closes_with_recipients_and_the_signature_block(docx_bytes: bytes) -> None:
    text = _text(Document(io.BytesIO(docx_bytes)))
    assert "Nơi nhận:" in text
    # Upward, as plan IV.4 says: Ban Thường vụ Thị ủy and UBND tỉnh first.
    recipients = _recipients(Document(io.BytesIO(docx_bytes)))
    assert recipients == [
        "Nơi nhận:",
        "- Ban Thường vụ Thị ủy (b/c);",
        "- UBND tỉnh (qua Sở Nội vụ) (b/c);",
        "- Sở Nội vụ;",
        "- Thường trực HĐND thị xã;",
        "- Chủ tịch, các PCT UBND thị xã;",
        "- Ban Dân vận Thị ủy;",
        "- Lưu: VT, NV.",
    ]
    assert "UBND các phường, xã" not in "\n".join(recipients)
    assert "TM. ỦY BAN NHÂN DÂN" in text and "CHỦ TỊCH" in text
    assert "Nguyễn Huy Hùng" in text


def test_recipients_signer_and_place_are_configuration() -> None:
    settings = ConsolidationSettings(
        env="test",
        DANVAN_DOCUMENT_PLACE="Hà Tĩnh",
        DANVAN_DOCUMENT_RECIPIENTS=("Văn phòng Tỉnh ủy",),
        DANVAN_DOCUMENT_SIGNER_AUTHORITY=("KT. Chủ tịch",),
        DANVAN_DOCUMENT_SIGNER_TITLE="Phó Chủ tịch",
        DANVAN_DOCUMENT_SIGNER_NAME="Trần Văn A",
    )
    text = _text(Document(io.BytesIO(town_report(_summary(three_reports()), settings))))
    assert "Hà Tĩnh, ngày 05 tháng 6 năm 2023" in text
    assert "- Văn phòng Tỉnh ủy;" in text and "Sở Nội vụ" not in text
    assert "KT. CHỦ TỊCH" in text and "PHÓ CHỦ TỊCH" in text and "Trần Văn A" in text


def _recipients(document: Any) -> list[str]:
    """The paragraphs of the "Nơi nhận" cell of the closing table."""
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận"))
    return [p.text for p in closing.rows[0].cells[0].paragraphs if p.text]


def _stated(length: Length | None) -> Length:
    """A page dimension the document states (python-docx gives None when it is absent)."""
    assert length is not None
    return length


def test_report_uses_times_new_roman_on_a4_with_the_decree_margins(docx_bytes: bytes) -> None:
    document = Document(io.BytesIO(docx_bytes))
    section = document.sections[0]
    width, height = _stated(section.page_width), _stated(section.page_height)
    assert abs(width - Mm(210)) < Mm(1) and abs(height - Mm(297)) < Mm(1)
    slack = Mm(0.1)  # Word stores margins in twips
    assert Mm(30) - slack <= _stated(section.left_margin) <= Mm(35) + slack
    assert Mm(15) - slack <= _stated(section.right_margin) <= Mm(20) + slack
    assert Mm(20) - slack <= _stated(section.top_margin) <= Mm(25) + slack
    fonts = {
        run.font.name or document.styles["Normal"].font.name
        for p in document.paragraphs
        for run in p.runs
    }
    assert fonts == {"Times New Roman"}


def test_report_shows_the_change_against_last_year() -> None:
    events = [
        *three_reports(),
        period_event("2022-H1"),
        submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1"),
    ]
    document = Document(io.BytesIO(town_report(_summary(events, earlier=True))))
    # The first totals table of the appendix (after the header and the signature tables).
    table = next(t for t in document.tables if t.rows[0].cells[-1].text == "Tăng (+), giảm (-)")
    assert [c.text for c in table.rows[0].cells][-2:] == ["Cùng kỳ năm trước", "Tăng (+), giảm (-)"]
    first = [c.text for c in table.rows[1].cells]
    # 3 of the 5 expected units reported it (not 3 of the 3 that sent a report).
    assert first[2:] == ["10", "3/5", "4", "+6"]


def test_workbook_is_the_one_its_cells_made_one_by_one_gave() -> None:
    """The report's workbook, written in openpyxl's write-only mode, holds what the
    ordinary mode's cell-by-cell workbook held (`tests/unit/documents/xlsx_reference.py`):
    every sheet's values, types, styles, widths, frozen header and filter."""
    events = [
        *three_reports(),
        difficulty("d1", "PNV", "Thiếu biên chế.", answer="Sẽ bổ sung trong quý III."),
        period_event("2022-H1"),
        submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1"),
    ]
    summary = _summary(events, earlier=True)
    expected = workbook_content(reference_xlsx(report_sheets(summary)))
    assert workbook_content(report_xlsx(summary)) == expected


def test_workbook_has_one_row_per_expected_unit_with_totals() -> None:
    workbook = load_workbook(io.BytesIO(report_xlsx(_summary(three_reports()))))
    assert workbook.sheetnames[:4] == [
        "Chỉ số theo đơn vị",
        "Tổng hợp chỉ tiêu",
        "Tình hình gửi báo cáo",
        "Khó khăn, vướng mắc",
    ]
    units = list(workbook["Chỉ số theo đơn vị"].iter_rows(values_only=True))
    header, rows, totals = units[0], units[1:-1], units[-1]
    assert [r[1] for r in rows] == ["18115", "18118", "18130", "PNV", "TTVHTT"]
    col = header.index("1. Số văn bản chỉ đạo, kế hoạch về công tác dân vận đã ban hành")
    assert [r[col] for r in rows] == [3, 5, None, 2, None]
    assert totals[2] == "Tổng cộng" and totals[col] == 10
    status = list(workbook["Tình hình gửi báo cáo"].iter_rows(values_only=True))
    assert len(status) == 1 + 5 + 1
    assert status[3][4] == "Chưa gửi"
    difficulties = list(workbook["Khó khăn, vướng mắc"].iter_rows(values_only=True))
    assert difficulties[1][3] == "Thiếu biên chế."


def test_libreoffice_renders_the_report_to_pdf(docx_bytes: bytes, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed")
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(docx_bytes)
    command = [
        soffice,
        f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path),
        str(source),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the session this test started, by its id
        process.communicate()
        pytest.fail("LibreOffice did not finish within 120 s")
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")


def test_an_ad_hoc_period_compiles_the_answers_of_each_unit() -> None:
    period = PeriodChanged.new(
        PeriodState(
            period_id="2023-DX1",
            kind="ad_hoc",
            year=2023,
            title="đột xuất về tiếp công dân",
            form_id="dvcq-dot-xuat",
            form_version="2023.1",
            due_at=DUE_2023_H1,
            status="open",
            expected_units=UNITS[:2],
            version=1,
        ),
        producer="test",
    )
    content = {"noi_dung": "Đã tiếp 12 lượt công dân.", "vuong_mac": []}
    answer = ReportSubmitted.new(
        ReportVersion(
            report_id="dx-18118",
            period_id="2023-DX1",
            unit_code="18118",
            version=1,
            status="submitted",
            form_id="dvcq-dot-xuat",
            form_version="2023.1",
            first_submitted_at=BEFORE_DUE,
            submitted_at=BEFORE_DUE,
            on_time=True,
            content=content,
            content_sha256="x",
        ),
        producer="test",
    )
    p = InMemoryProjection()
    for e in (period, answer):
        p.apply(e)
    summary = summarise(
        p.periods["2023-DX1"], load_form("dvcq-dot-xuat", "2023.1"), p.period_reports("2023-DX1")
    )
    assert [f.code for f in summary.text_fields] == ["noi_dung"]
    text = _text(Document(io.BytesIO(town_report(summary))))
    assert "1. UBND phường Nam Hồng\nNội dung báo cáo: Đã tiếp 12 lượt công dân." in text
    assert "Đơn vị chưa gửi báo cáo (1): Phòng Nội vụ." in text
    # The subject is the request's own, never glued to the periodic report's subject.
    assert "BÁO CÁO\nĐột xuất về tiếp công dân\n" in text
    assert "dân vận chính quyền đột xuất" not in text.lower()
    workbook = load_workbook(io.BytesIO(report_xlsx(summary)))
    assert len(list(workbook["Chỉ số theo đơn vị"].iter_rows())) == 1 + 2 + 1


def test_the_town_report_is_the_edited_draft_with_the_units_detail_in_the_appendix() -> None:
    events = [
        *three_reports(),
        difficulty("d1", "PNV", "Thiếu biên chế.", answer="Sẽ bổ sung trong quý III."),
    ]
    before = _summary(events)
    hand = "Toàn thị xã ban hành 10 văn bản chỉ đạo về công tác dân vận (đã sửa tay)."
    edits = {section_part("1"): PartEdit(text=hand)}
    # Thuận Lộc reports after the save: the edit stays, the appendix and totals take it in.
    after = _summary([*events, submitted("18130", {"van_ban_ban_hanh": 4})])
    document = Document(io.BytesIO(town_report(after, edits=edits, saved_over=before)))
    text = _text(document)
    assert hand in text
    assert "3/5 đơn vị báo cáo kết quả thực hiện nội dung này" not in text  # replaced by the edit
    assert "PHỤ LỤC" in text and "Phụ lục" in text
    assert "Trả lời:" not in text and "Sẽ bổ sung trong quý III." not in text
    recipients = "\n".join(_recipients(document))
    assert "Ban Thường vụ Thị ủy" in recipients and "UBND tỉnh" in recipients
    # The totals table: 3 + 5 + 2 + 4 documents from 4 of the 5 units.
    totals = next(
        t for t in document.tables if t.rows[0].cells[1].text == "Chỉ tiêu" and len(t.columns) == 4
    )
    row = [c.text for c in totals.rows[1].cells]
    assert row[1:] == [
        "Số văn bản chỉ đạo, kế hoạch về công tác dân vận đã ban hành",
        "14",
        "4/5",
    ]
    # One table of figures by unit: Thuận Lộc's figure is in it.
    by_unit = next(t for t in document.tables if t.rows[0].cells[1].text == "Đơn vị")
    cells = [[c.text for c in r.cells] for r in by_unit.rows]
    thuan_loc = next(n for n, r in enumerate(cells) if r[1] == "UBND xã Thuận Lộc")
    assert cells[thuan_loc][2:] == [
        "1. Số văn bản chỉ đạo, kế hoạch về công tác dân vận đã ban hành",
        "4",
    ]
    assert ["5", "Trung tâm Văn hóa - Truyền thông", "Chưa gửi báo cáo", ""] in cells
    # The generated parts follow the new report.
    assert "4/5 đơn vị đã gửi báo cáo (3 đúng hạn, 1 gửi muộn); 1 đơn vị chưa gửi: " in text
