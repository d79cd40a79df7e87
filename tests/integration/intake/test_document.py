"""The unit's own report as an official document: issued in its name, the content it sent,
its leader's signature block; opens in python-docx and prints to PDF with LibreOffice."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from shared.contracts.registry import Leader, UnitChanged, UnitState
from tests.integration.intake.conftest import department_body, ward_body
from tests.support.http import eventually
from tests.support.libreoffice import convert_to_pdf, pdf_pages
from tests.support.reports import LEADER_CONFIRMED, full_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _leader(stack, code: str, name: str, full_name: str, title: str) -> None:
    unit = UnitState(
        unit_id=f"{code}@2019-01-01",
        code=code,
        name=name,
        kind="ward",
        valid_from=date(2019, 1, 1),
        leader=Leader(full_name=full_name, title=title),
        version=2,
    )
    await stack.publish(UnitChanged.new(unit, producer="registry"))

    async def known() -> bool:
        form = await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit(code))
        return bool(form.json()["unit"]["leader"])

    await eventually(known, timeout=15)


def _texts(data: bytes) -> tuple[list[str], list[str], list[str]]:
    """(header lines, body paragraphs, closing lines) of the document."""
    document = Document(io.BytesIO(data))
    header = [p.text for cell in document.tables[0]._cells for p in cell.paragraphs if p.text]
    closing = [p.text for cell in document.tables[-1]._cells for p in cell.paragraphs if p.text]
    body = [p.text for p in document.paragraphs if p.text]
    return header, body, closing


async def _document(stack, report_id: str, headers: dict[str, str], **params: Any) -> bytes:
    answer = await stack.http.get(
        f"/v1/reports/{report_id}/document.docx", params=params, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == DOCX
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    data: bytes = answer.content
    return data


async def test_a_wards_report_is_issued_in_its_name_and_signed_by_its_chairman(stack, tmp_path):
    await _leader(stack, "18115", "UBND phường Bắc Hồng", "Nguyễn Văn Bình", "Chủ tịch")
    unit = stack.unit("18115")
    body = full_report("2023-Y", leader=LEADER_CONFIRMED)
    body["sections"]["1"]["narrative"] = "Đã ban hành 3 kế hoạch.\nTổ chức 2 hội nghị."
    created = await stack.http.post("/v1/reports", json=body, headers=unit)
    assert created.status_code == 201, created.text
    report_id = created.json()["report_id"]
    data = await _document(stack, report_id, unit)

    header, paragraphs, closing = _texts(data)
    assert header[:2] == ["ỦY BAN NHÂN DÂN", "PHƯỜNG BẮC HỒNG"]
    assert "Số:      /BC-UBND" in header
    assert "Bắc Hồng, ngày 05 tháng 6 năm 2023" in header
    assert "BÁO CÁO" in paragraphs
    assert "Kết quả thực hiện công tác dân vận chính quyền năm 2023" in paragraphs
    assert paragraphs[paragraphs.index("BÁO CÁO") + 2] == (
        "Ủy ban nhân dân phường Bắc Hồng báo cáo kết quả thực hiện công tác dân vận chính "
        "quyền năm 2023 như sau:"
    )
    assert "Đã ban hành 3 kế hoạch." in paragraphs and "Tổ chức 2 hội nghị." in paragraphs
    assert any(p.startswith("Chủ tịch Ủy ban nhân dân trực tiếp phụ trách") for p in paragraphs)
    assert any("Nguyễn Văn Bình (Chủ tịch), đúng như danh mục đơn vị." in p for p in paragraphs)
    assert f"- {body['vuong_mac'][0]}" in paragraphs
    assert paragraphs[-1].endswith("của Ủy ban nhân dân phường Bắc Hồng./.")
    # Sent to the town through Phòng Nội vụ (plan IV.4), as the decree's "Nơi nhận".
    assert closing[:3] == ["Nơi nhận:", "- UBND thị xã Hồng Lĩnh (qua Phòng Nội vụ);", "- Lưu: VT."]
    assert closing[closing.index("TM. ỦY BAN NHÂN DÂN") :] == [
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        "Nguyễn Văn Bình",
    ]
    # The figures the unit sent, in Vietnamese numbers.
    document = Document(io.BytesIO(data))
    cells = {c.text for table in document.tables[1:-1] for c in table._cells}
    assert {"Số văn bản chỉ đạo, kế hoạch về công tác dân vận đã ban hành", "3"} <= cells
    assert "Chưa báo cáo" in cells  # a figure left empty is not 0

    # Readers may print it too; another unit may not know it exists.
    assert _texts(await _document(stack, report_id, stack.mint.headers("leader"))) == _texts(data)
    other = await stack.http.get(
        f"/v1/reports/{report_id}/document.docx", headers=stack.unit("18118")
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "report_not_found"

    pdf = convert_to_pdf(data, tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    first = pdf_pages(pdf)[0]
    assert "PHƯỜNG BẮC HỒNG" in first and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first


async def test_a_departments_report_is_issued_under_the_town_any_version(stack, tmp_path: Path):
    unit = stack.unit("PTP")
    created = await stack.http.post("/v1/reports", json=department_body(), headers=unit)
    assert created.status_code == 201, created.text
    report_id = created.json()["report_id"]
    second = department_body(phuong_huong="Phương hướng của phiên bản 2.")
    amended = await stack.http.put(f"/v1/reports/{report_id}", json=second, headers=unit)
    assert amended.status_code == 200, amended.text

    header, paragraphs, closing = _texts(await _document(stack, report_id, unit))
    assert header[:2] == ["UBND THỊ XÃ HỒNG LĨNH", "PHÒNG TƯ PHÁP"]
    assert "Số:      /BC-PTP" in header and "Hồng Lĩnh, ngày 05 tháng 6 năm 2023" in header
    assert "Phương hướng của phiên bản 2." in paragraphs
    # Nobody on record: the signature block waits for a name written by hand.
    assert closing[-1] == "THỦ TRƯỞNG ĐƠN VỊ"

    _, first, _ = _texts(await _document(stack, report_id, unit, version=1))
    assert ward_body()["phuong_huong"] in first and "Phương hướng của phiên bản 2." not in first
    missing = await stack.http.get(
        f"/v1/reports/{report_id}/document.docx", params={"version": 9}, headers=unit
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "version_not_found"
    bad = await stack.http.get(
        f"/v1/reports/{report_id}/document.docx", params={"version": 0}, headers=unit
    )
    assert bad.status_code == 422
    assert convert_to_pdf(await _document(stack, report_id, unit), tmp_path).is_file()
