"""LibreOffice, when installed, opens the .docx and prints it to PDF."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shared.documents import DocumentSpec, Paragraph, build_docx
from tests.support.libreoffice import convert_to_pdf, pdf_pages


def test_libreoffice_converts_the_report_to_a_non_empty_pdf(
    report_spec: DocumentSpec, tmp_path: Path
) -> None:
    pdf = convert_to_pdf(build_docx(report_spec), tmp_path)
    assert pdf.is_file()
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 1000


def test_printed_pages_are_numbered_from_page_two(
    report_spec: DocumentSpec, tmp_path: Path
) -> None:
    filler = "Nội dung báo cáo chi tiết về công tác dân vận chính quyền ở cơ sở. " * 10
    long_body = (*report_spec.body, *(Paragraph(filler) for _ in range(20)))
    pdf = convert_to_pdf(build_docx(dataclasses.replace(report_spec, body=long_body)), tmp_path)
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    assert pages[0].lstrip().startswith("ỦY BAN NHÂN DÂN")
    for number, page in enumerate(pages[1:], start=2):
        assert page.strip().splitlines()[0].strip() == str(number)
