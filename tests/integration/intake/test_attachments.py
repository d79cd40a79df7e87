"""Signed scans: type from the content, size bounded, stored with a checksum, private."""

from __future__ import annotations

import hashlib
import io
import zipfile

import docx
import pytest

from services.intake import db
from tests.integration.intake.conftest import ward_body

pytestmark = pytest.mark.asyncio(loop_scope="module")

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Báo cáo đã ký")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip_named_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "không phải docx")
    return buffer.getvalue()


async def _report(stack, unit: str) -> str:
    answer = await stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit(unit))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["report_id"])


async def _upload(stack, report_id: str, name: str, data: bytes, kind: str, unit: str):
    return await stack.http.post(
        f"/v1/reports/{report_id}/attachments",
        files={"file": (name, data, kind)},
        headers=stack.unit(unit),
    )


async def test_a_signed_scan_is_stored_with_its_checksum_and_downloaded_by_unit_and_reviewer(
    stack,
):
    report_id = await _report(stack, "18115")
    scan = await _upload(stack, report_id, "Báo cáo đã ký.pdf", PDF, "application/pdf", "18115")
    assert scan.status_code == 201, scan.text
    meta = scan.json()
    assert meta["media_type"] == "application/pdf" and meta["version"] == 1
    assert meta["sha256"] == hashlib.sha256(PDF).hexdigest() and meta["size"] == len(PDF)
    assert meta["filename"] == "Báo cáo đã ký.pdf"
    word = await _upload(
        stack, report_id, "bao-cao.docx", _docx(), "application/octet-stream", "18115"
    )
    assert word.status_code == 201, word.text
    assert word.json()["media_type"].endswith("wordprocessingml.document")

    for headers in (stack.unit("18115"), stack.reviewer()):
        download = await stack.http.get(meta["download"], headers=headers)
        assert download.status_code == 200
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-sha256"] == meta["sha256"]
    assert (await stack.http.get(meta["download"], headers=stack.unit("18118"))).status_code == 404
    leader = stack.mint.headers("leader", username="lanhdao")
    assert (await stack.http.get(meta["download"], headers=leader)).status_code == 403
    listed = await stack.http.get(f"/v1/reports/{report_id}/attachments", headers=stack.reviewer())
    assert [a["attachment_id"] for a in listed.json()] == [
        meta["attachment_id"],
        word.json()["attachment_id"],
    ]


async def test_content_that_is_not_what_it_claims_is_refused_and_nothing_is_kept(stack):
    report_id = await _report(stack, "18118")
    folder = stack.attachments_dir / report_id
    cases = [
        ("scan.pdf", PNG, "application/pdf", 422, "attachment_type_mismatch"),
        ("scan.png", PNG, "application/pdf", 422, "attachment_type_mismatch"),
        ("bao-cao.docx", _zip_named_docx(), "application/octet-stream", 415, None),
        ("virus.exe", b"MZ\x90\x00" * 10, "application/octet-stream", 415, None),
        ("rong.pdf", b"", "application/pdf", 422, "attachment_empty"),
        ("to.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf", 413, None),
    ]
    for name, data, kind, status, code in cases:
        answer = await _upload(stack, report_id, name, data, kind, "18118")
        assert answer.status_code == status, (name, answer.text)
        expected = code or {415: "attachment_type_not_allowed", 413: "attachment_too_large"}[status]
        assert answer.json()["error"]["code"] == expected, name
    other = await _upload(stack, report_id, "scan.pdf", PDF, "application/pdf", "18121")
    assert other.status_code == 404
    assert await stack.count(db.attachments, report_id=report_id) == 0
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))
