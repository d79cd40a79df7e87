"""LibreOffice, when installed, opens the .docx and prints it to PDF."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from shared.documents import DocumentSpec, Paragraph, build_docx

TIMEOUT_SECONDS = 120


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice not installed")
    return found


def _convert_to_pdf(docx_bytes: bytes, tmp_path: Path) -> Path:
    source = tmp_path / "van-ban.docx"
    source.write_bytes(docx_bytes)
    # A private profile keeps the test away from the user's LibreOffice settings and locks.
    command = [
        _soffice(),
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
        process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        # soffice forks a worker; end the whole session this test started, by its group id.
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"LibreOffice did not finish within {TIMEOUT_SECONDS} s")
    return tmp_path / "van-ban.pdf"


def test_libreoffice_converts_the_report_to_a_non_empty_pdf(
    report_spec: DocumentSpec, tmp_path: Path
) -> None:
    pdf = _convert_to_pdf(build_docx(report_spec), tmp_path)
    assert pdf.is_file()
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 1000


def test_printed_pages_are_numbered_from_page_two(
    report_spec: DocumentSpec, tmp_path: Path
) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    filler = "Nội dung báo cáo chi tiết về công tác dân vận chính quyền ở cơ sở. " * 10
    long_body = (*report_spec.body, *(Paragraph(filler) for _ in range(20)))
    pdf = _convert_to_pdf(build_docx(dataclasses.replace(report_spec, body=long_body)), tmp_path)
    pages = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    ).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    assert pages[0].lstrip().startswith("ỦY BAN NHÂN DÂN")
    for number, page in enumerate(pages[1:], start=2):
        assert page.strip().splitlines()[0].strip() == str(number)
