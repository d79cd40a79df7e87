"""Attachments: the unit's signed scan of a report version, kept outside the database."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.intake import store
from services.intake.attachments import check_file
from services.intake.context import IntakeContext
from services.intake.domain import check_can_attach
from services.intake.usecases.common import period_of, submitting_unit, visible_report
from services.intake.views import attachment_view
from shared.auth import Permission, Principal
from shared.contracts.api.intake import AttachmentInfo
from shared.errors import DomainError, Forbidden, NotFound

MAX_PER_REPORT = 20


@dataclass(frozen=True)
class StoredFile:
    """A file to send back: where its bytes are and what to call it."""

    path: Path
    media_type: str
    filename: str
    sha256: str


async def add_attachment(
    context: IntakeContext,
    principal: Principal,
    report_id: str,
    *,
    data: bytes,
    filename: str | None,
    declared_type: str | None,
) -> AttachmentInfo:
    """Store a PDF, DOCX, JPEG or PNG with its checksum against the report's current version."""
    submitting_unit(principal)
    checked = check_file(
        data,
        filename=filename,
        declared_type=declared_type,
        max_bytes=context.settings.max_attachment_bytes,
    )
    async with store.reading(context.sessions) as session:
        report = store.report_from_row(await visible_report(session, principal, report_id))
        check_can_attach(report, await period_of(session, report))
        if len(await store.attachment_rows(session, report_id)) >= MAX_PER_REPORT:
            raise Forbidden(
                f"Mỗi báo cáo có tối đa {MAX_PER_REPORT} tệp đính kèm.", code="too_many_attachments"
            )
    attachment_id = str(uuid.uuid4())
    key = context.files.key(report_id, attachment_id, checked.suffix)
    digest = hashlib.sha256(data).hexdigest()
    now = context.clock.now()
    # The bytes are written (and synced) before the transaction opens, so no disk wait holds it.
    await context.files.save(key, data)
    try:
        async with store.transaction(context.sessions) as session:
            await store.insert_attachment(
                session,
                attachment_id=attachment_id,
                report_id=report_id,
                version=report.version,
                filename=checked.filename,
                media_type=checked.media_type,
                size=len(data),
                sha256=digest,
                storage_key=key,
                uploaded_by=principal.username,
                uploaded_at=now,
            )
            await store.record_audit(
                session,
                at=now,
                actor=principal.username,
                role=principal.role,
                action="attachment_added",
                report_id=report_id,
                details={"attachment_id": attachment_id, "sha256": digest, "size": len(data)},
            )
            row = await store.find_attachment_row(session, attachment_id)
    except BaseException:
        await context.files.delete(key)
        raise
    return attachment_view(row)


async def list_attachments(
    context: IntakeContext, principal: Principal, report_id: str
) -> list[AttachmentInfo]:
    """Metadata of a report's attachments."""
    async with store.reading(context.sessions) as session:
        await visible_report(session, principal, report_id)
        rows = await store.attachment_rows(session, report_id)
    return [attachment_view(row) for row in rows]


async def attachment_file(
    context: IntakeContext, principal: Principal, report_id: str, attachment_id: str
) -> StoredFile:
    """The attachment's file; only its unit and reviewers may download it."""
    if not principal.may(Permission.READ_ATTACHMENTS):
        raise Forbidden("Chỉ đơn vị gửi báo cáo và Phòng Nội vụ được tải tệp đính kèm.")
    async with store.reading(context.sessions) as session:
        await visible_report(session, principal, report_id)
        row = await store.find_attachment_row(session, attachment_id)
    if row is None or row.report_id != report_id:
        raise NotFound("Không tìm thấy tệp đính kèm.", code="attachment_not_found")
    path = context.files.path(row.storage_key)
    if not path.is_file():
        # The row exists but the shared folder lost the file: an operator must look.
        raise DomainError(
            "Tệp đính kèm không còn trên máy chủ; vui lòng báo quản trị hệ thống.",
            code="attachment_missing",
            status=500,
        )
    return StoredFile(
        path=path, media_type=row.media_type, filename=row.filename, sha256=row.sha256
    )
