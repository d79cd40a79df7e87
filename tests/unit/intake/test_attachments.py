"""Attachment checks: the type comes from the bytes, and name and declared type must agree."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.intake.attachments import DOCX, JPEG, PDF, PNG, check_file, clean_filename, sniff
from shared.errors import DomainError

PDF_BYTES = b"%PDF-1.4\n..."
PNG_BYTES = b"\x89PNG\r\n\x1a\n...."
JPEG_BYTES = b"\xff\xd8\xff\xe0...."


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


def test_types_are_sniffed_from_the_content():
    assert sniff(PDF_BYTES) == PDF
    assert sniff(PNG_BYTES) == PNG
    assert sniff(JPEG_BYTES) == JPEG
    assert sniff(_zip("[Content_Types].xml", "word/document.xml")) == DOCX
    assert sniff(_zip("[Content_Types].xml", "xl/workbook.xml")) is None  # an .xlsx
    assert sniff(b"PK\x03\x04 broken zip") is None
    assert sniff(b"GIF89a") is None


def _code(data: bytes, name: str | None, declared: str | None, limit: int = 1000) -> str:
    with pytest.raises(DomainError) as caught:
        check_file(data, filename=name, declared_type=declared, max_bytes=limit)
    return caught.value.code


def test_name_and_declared_type_must_agree_with_the_content():
    ok = check_file(PDF_BYTES, filename="a.PDF", declared_type="application/pdf", max_bytes=100)
    assert (ok.media_type, ok.suffix, ok.filename) == (PDF, ".pdf", "a.PDF")
    jpeg = check_file(JPEG_BYTES, filename="anh.jpeg", declared_type="image/jpg", max_bytes=100)
    assert jpeg.media_type == JPEG
    vague = check_file(
        PNG_BYTES, filename=None, declared_type="application/octet-stream", max_bytes=100
    )
    assert vague.filename == "tep-dinh-kem.png"
    assert _code(PNG_BYTES, "scan.pdf", None) == "attachment_type_mismatch"
    assert _code(PDF_BYTES, "scan.pdf", "image/png") == "attachment_type_mismatch"
    assert _code(PDF_BYTES, "scan.exe", None) == "attachment_type_mismatch"
    assert _code(b"MZ....", "scan.pdf", None) == "attachment_type_not_allowed"
    assert _code(b"", "scan.pdf", None) == "attachment_empty"
    assert _code(PDF_BYTES + b"x" * 100, "scan.pdf", None, limit=50) == "attachment_too_large"


def test_display_names_lose_folders_and_control_characters():
    assert clean_filename("../../etc/passwd", ".pdf") == "passwd"
    assert clean_filename("C:\\Users\\a\\Ba\u0301o ca\u0301o.pdf", ".pdf") == "Báo cáo.pdf"
    assert clean_filename("a\x00b.pdf", ".pdf") == "ab.pdf"
    assert clean_filename("..", ".png") == "tep-dinh-kem.png"
    long = clean_filename("x" * 500 + ".docx", ".docx")
    assert len(long) <= 200 and long.endswith(".docx")
