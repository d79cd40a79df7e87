"""LibreOffice in tests: print a .docx to PDF (tests skip where soffice is not installed; CI
installs it), and read a PDF's text back with pdftotext."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

TIMEOUT_SECONDS = 120


def soffice() -> str:
    """The LibreOffice binary, or skip the test."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice not installed")
    return found


def convert_to_pdf(docx_bytes: bytes, folder: Path, name: str = "van-ban") -> Path:
    """Print the document to PDF with a private profile; the PDF's path."""
    source = folder / f"{name}.docx"
    source.write_bytes(docx_bytes)
    # A private profile keeps the test away from the user's LibreOffice settings and locks.
    command = [
        soffice(),
        f"-env:UserInstallation={(folder / 'profile').as_uri()}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
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
    return folder / f"{name}.pdf"


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each non-empty page (pdftotext -layout), or skip the test."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    ).stdout
    return [page for page in text.split("\f") if page.strip()]
