"""The unit's own report as an official .docx, to print, sign, scan and attach."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.intake import store
from services.intake.attachments import DOCX
from services.intake.context import IntakeContext
from services.intake.document import (
    DocumentSettings,
    ReportVersionText,
    document_spec,
    file_name,
    signer_of,
)
from services.intake.domain import leader_answer, period_not_found
from services.intake.usecases.common import visible_report
from shared.auth import Principal
from shared.clock import VN_TZ
from shared.contracts.registry import ExpectedUnit, Leader
from shared.documents import build_docx
from shared.errors import NotFound
from shared.forms import form_for_unit, load_form


@dataclass(frozen=True)
class DocumentFile:
    """A generated document to send back."""

    data: bytes
    filename: str
    media_type: str = DOCX


async def report_document(
    context: IntakeContext, principal: Principal, report_id: str, version: int | None
) -> DocumentFile:
    """One version of the report (the current one unless told) in the Nghị định 30 layout,
    issued in the unit's name, with its leader's signature block."""
    async with store.reading(context.sessions) as session:
        row = await visible_report(session, principal, report_id)
        number = version or row.version
        sent = await store.find_version_row(session, report_id, number)
        if sent is None:
            raise NotFound(
                f"Báo cáo không có phiên bản {number}.",
                code="version_not_found",
                details={"current_version": row.version},
            )
        found = await store.find_period_and_row(session, row.period_id)
        if found is None:
            raise period_not_found(row.period_id)
        period_row, period = found
        unit_row = await store.latest_unit_row(session, row.unit_code)
    unit = period.expected(row.unit_code) or ExpectedUnit(
        code=row.unit_code,
        name=row.unit_name,
        kind=unit_row.kind if unit_row is not None else "department",
        tags=tuple(unit_row.tags) if unit_row is not None else (),
    )
    # The form as the unit read it: its sections, the leader check in its kind's words.
    form = form_for_unit(load_form(row.form_id, row.form_version), unit.kind, set(unit.tags))
    on_record = Leader.model_validate(sent.leader_on_record) if sent.leader_on_record else None
    current = Leader.model_validate(unit_row.leader) if unit_row and unit_row.leader else None
    answer = leader_answer(form, sent.content)
    reported = (
        Leader(full_name=answer.get("full_name") or "", title=answer.get("title") or "")
        if answer is not None and not answer.get("confirmed")
        else None
    )
    text = ReportVersionText(
        period_title=period.title,
        period_kind=period.kind,
        window_start=period_row.window_start,
        window_end=period_row.window_end,
        unit=unit,
        version=number,
        sent_on=sent.submitted_at.astimezone(VN_TZ).date(),
        content=sent.content,
        form=form,
        signer=signer_of(reported, on_record, current),
    )
    settings = DocumentSettings(
        town_short=context.settings.town_short,
        place=context.settings.document_place,
    )
    spec = document_spec(text, settings, on_record or current)
    # python-docx is CPU work: off the event loop, and no transaction is open meanwhile.
    data = await asyncio.to_thread(build_docx, spec)
    return DocumentFile(data=data, filename=file_name(row.period_id, row.unit_code, number))
