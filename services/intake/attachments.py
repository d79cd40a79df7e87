"""Attachment rules without I/O: the file type comes from its bytes, never from its name."""

from __future__ import annotations

import io
import posixpath
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Final

from shared.errors import DomainError, PayloadTooLarge, Unprocessable

PDF: Final = "application/pdf"
PNG: Final = "image/png"
JPEG: Final = "image/jpeg"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

SUFFIX: Final = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", DOCX: ".docx"}
TYPE_OF_SUFFIX: Final = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".docx": DOCX}
# Clients send these when they do not know; they say nothing about the content.
VAGUE_TYPES: Final = frozenset({"", "application/octet-stream", "binary/octet-stream"})
NAME_MAX = 200


@dataclass(frozen=True)
class CheckedFile:
    """An attachment that passed the checks: its real type and a safe display name."""

    media_type: str
    suffix: str
    filename: str


def sniff(data: bytes) -> str | None:
    """The allowed type the content really is, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04") and _is_docx(data):
        return DOCX
    return None


def _is_docx(data: bytes) -> bool:
    # Only the directory is read, nothing is decompressed, so a zip bomb costs nothing.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def clean_filename(raw: str | None, suffix: str) -> str:
    """The name to show: no folders, NFC, no control characters, bounded length."""
    name = posixpath.basename((raw or "").replace("\\", "/"))
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return f"tep-dinh-kem{suffix}"
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = (stem if keep else name)[: NAME_MAX - len(keep) - 1] + (f".{keep}" if keep else "")
    return name


def check_file(
    data: bytes, *, filename: str | None, declared_type: str | None, max_bytes: int
) -> CheckedFile:
    """Accept a PDF, DOCX, JPEG or PNG within the size limit whose name and type agree."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"Tệp đính kèm vượt quá dung lượng cho phép ({max_bytes // (1024 * 1024)} MB).",
            code="attachment_too_large",
        )
    if not data:
        raise Unprocessable("Tệp đính kèm rỗng.", code="attachment_empty")
    media_type = sniff(data)
    if media_type is None:
        raise DomainError(
            "Chỉ nhận tệp PDF, DOCX, JPEG hoặc PNG; nội dung tệp không thuộc các loại này.",
            code="attachment_type_not_allowed",
            status=415,
        )
    suffix = posixpath.splitext((filename or "").lower())[1]
    named_type = TYPE_OF_SUFFIX.get(suffix) if suffix else media_type
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared == "image/jpg":
        declared = JPEG
    if named_type != media_type or (declared not in VAGUE_TYPES and declared != media_type):
        raise Unprocessable(
            f"Nội dung tệp là {SUFFIX[media_type][1:].upper()}, không khớp với tên hoặc "
            "loại tệp đã khai báo.",
            code="attachment_type_mismatch",
            details={"detected": media_type, "filename": filename, "declared": declared or None},
        )
    return CheckedFile(
        media_type=media_type,
        suffix=SUFFIX[media_type],
        filename=clean_filename(filename, SUFFIX[media_type]),
    )
