"""Intake HTTP API: reports, their versions and review, attachments, difficulties, forms.

Each route translates HTTP into one use case (`services.intake.usecases`) and its result into
the answer of `shared.contracts.api.intake`; permissions, rules and data access are there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Header, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from services.intake import usecases
from services.intake.attachments import DOCX, JPEG, PDF, PNG
from services.intake.context import ContextDep
from shared.auth import Principal, PrincipalDep
from shared.contracts.api.intake import (
    AnswerRequest,
    AttachmentInfo,
    AuditEntry,
    DifficultyRequest,
    DifficultyThread,
    Draft,
    LeaderChange,
    MessageRequest,
    PeriodForm,
    ReportAccepted,
    ReportDetail,
    ReportSummary,
    ReportVersionView,
    ReviewRequest,
)
from shared.contracts.intake import ReportStatus
from shared.forms import FormDefinition
from shared.idempotency import Answer

router = APIRouter()


async def _caller(principal: PrincipalDep, context: ContextDep) -> Principal:
    return usecases.admit(context, principal)


CallerDep = Annotated[Principal, Depends(_caller)]


ReportBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            'Periodic: {period_id, sections: {"1": {narrative, indicators}}, ton_tai_han_che, '
            "phuong_huong, de_xuat_kien_nghi, vuong_mac: [...]}; ad-hoc: {period_id, noi_dung, "
            "vuong_mac}. Checked against the period's form (422 validation_failed lists every "
            "problem)."
        )
    ),
]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Limit = Annotated[int, Query(ge=1, le=1000)]
# Bounded so a fuzzer's 2**63 is a 422, not a database overflow.
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


def _sent(answer: Answer) -> JSONResponse:
    return answer.response({"Location": f"/v1/reports/{answer.body['report_id']}"})


def _thread(answer: Answer) -> JSONResponse:
    return answer.response({"Location": f"/v1/difficulties/{answer.body['difficulty_id']}"})


@router.post("/v1/reports", status_code=201, response_model=ReportAccepted, tags=["báo cáo"])
async def submit_report(
    body: ReportBody, caller: CallerDep, context: ContextDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Submit the unit's report for a period (unit from the token); 201 with a receipt."""
    return _sent(await usecases.submit_report(context, caller, body, idempotency_key))


@router.get("/v1/reports", tags=["báo cáo"])
async def list_reports(
    caller: CallerDep,
    context: ContextDep,
    period_id: str | None = None,
    unit_code: str | None = None,
    status: ReportStatus | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[ReportSummary]:
    """Reports by period, unit and state; a unit sees only its own."""
    return await usecases.list_reports(
        context,
        caller,
        period_id=period_id,
        unit_code=unit_code,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get("/v1/reports/{report_id}", tags=["báo cáo"])
async def read_report(report_id: str, caller: CallerDep, context: ContextDep) -> ReportDetail:
    """One report with its current version's content, warnings and last review."""
    return await usecases.read_report(context, caller, report_id)


@router.put("/v1/reports/{report_id}", response_model=ReportAccepted, tags=["báo cáo"])
async def amend_report(
    report_id: str,
    body: ReportBody,
    caller: CallerDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a full new version of the unit's report (also after a return or withdrawal)."""
    return _sent(await usecases.amend_report(context, caller, report_id, body, idempotency_key))


@router.get("/v1/reports/{report_id}/versions", tags=["báo cáo"])
async def report_versions(
    report_id: str, caller: CallerDep, context: ContextDep
) -> list[ReportVersionView]:
    """Every version of a report, oldest first, each with its full content."""
    return await usecases.report_versions(context, caller, report_id)


@router.get("/v1/reports/{report_id}/audit", tags=["báo cáo"])
async def report_audit(report_id: str, caller: CallerDep, context: ContextDep) -> list[AuditEntry]:
    """Who did what to the report, and when."""
    return await usecases.report_audit(context, caller, report_id)


@router.post("/v1/reports/{report_id}/withdraw", tags=["báo cáo"])
async def withdraw_report(report_id: str, caller: CallerDep, context: ContextDep) -> ReportSummary:
    """The unit withdraws its report (a new version can be sent while the period is open)."""
    return await usecases.withdraw_report(context, caller, report_id)


@router.post("/v1/reports/{report_id}/review", tags=["xét duyệt"])
async def review_report(
    report_id: str, review: ReviewRequest, caller: CallerDep, context: ContextDep
) -> ReportSummary:
    """Phòng Nội vụ accepts the report or returns it with a required reason."""
    return await usecases.review_report(context, caller, report_id, review)


@router.get(
    "/v1/reports/{report_id}/document.docx",
    tags=["báo cáo"],
    response_class=Response,
    responses={
        200: {
            "description": "The unit's report, to print, sign, scan and attach.",
            "content": {DOCX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def report_document(
    report_id: str,
    caller: CallerDep,
    context: ContextDep,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    """The unit's report (current version, or `?version=N`) in the Nghị định 30 layout,
    issued in the unit's name with its leader's signature block."""
    found = await usecases.report_document(context, caller, report_id, version)
    return Response(
        found.data,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.post("/v1/reports/{report_id}/attachments", status_code=201, tags=["đính kèm"])
async def add_attachment(
    report_id: str,
    file: Annotated[UploadFile, File(description="PDF, DOCX, JPEG hoặc PNG, tối đa 10 MB")],
    caller: CallerDep,
    context: ContextDep,
) -> AttachmentInfo:
    """Attach the signed scan to the report's current version (type checked from content)."""
    return await usecases.add_attachment(
        context,
        caller,
        report_id,
        data=await file.read(),
        filename=file.filename,
        declared_type=file.content_type,
    )


@router.get("/v1/reports/{report_id}/attachments", tags=["đính kèm"])
async def list_attachments(
    report_id: str, caller: CallerDep, context: ContextDep
) -> list[AttachmentInfo]:
    """The report's attachments with size and SHA-256."""
    return await usecases.list_attachments(context, caller, report_id)


@router.get(
    "/v1/reports/{report_id}/attachments/{attachment_id}",
    tags=["đính kèm"],
    response_class=FileResponse,
    responses={
        200: {
            "description": "The file as uploaded; header X-Content-SHA256.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (PDF, DOCX, JPEG, PNG)
            },
        }
    },
)
async def download_attachment(
    report_id: str, attachment_id: str, caller: CallerDep, context: ContextDep
) -> FileResponse:
    """Download an attachment (the unit itself and Phòng Nội vụ only)."""
    found = await usecases.attachment_file(context, caller, report_id, attachment_id)
    return FileResponse(
        found.path,
        media_type=found.media_type,
        filename=found.filename,
        headers={"X-Content-SHA256": found.sha256, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/v1/difficulties", tags=["vướng mắc"])
async def list_difficulties(
    caller: CallerDep,
    context: ContextDep,
    period_id: str | None = None,
    unit_code: str | None = None,
    report_id: str | None = None,
    answered: bool | None = None,
    waiting: Annotated[
        bool | None,
        Query(alias="open", description="true: waiting for Phòng Nội vụ (the unit wrote last)"),
    ] = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[DifficultyThread]:
    """Difficulty threads with their messages, answers and age; a unit sees its own."""
    return await usecases.list_difficulties(
        context,
        caller,
        period_id=period_id,
        unit_code=unit_code,
        report_id=report_id,
        answered=answered,
        waiting=waiting,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/v1/difficulties", status_code=201, response_model=DifficultyThread, tags=["vướng mắc"]
)
async def raise_difficulty(
    body: DifficultyRequest,
    caller: CallerDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A unit raises a difficulty at any time, outside any report; Phòng Nội vụ answers."""
    answer = await usecases.raise_difficulty(context, caller, body, idempotency_key)
    return _thread(answer)


@router.get("/v1/difficulties/{difficulty_id}", tags=["vướng mắc"])
async def read_difficulty(
    difficulty_id: str, caller: CallerDep, context: ContextDep
) -> DifficultyThread:
    """One thread with every message (a unit: its own)."""
    return await usecases.read_difficulty(context, caller, difficulty_id)


@router.post(
    "/v1/difficulties/{difficulty_id}/messages",
    status_code=201,
    response_model=DifficultyThread,
    tags=["vướng mắc"],
)
async def post_message(
    difficulty_id: str,
    body: MessageRequest,
    caller: CallerDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A follow-up on a thread: the unit asks again, or Phòng Nội vụ answers (the unit is
    told by mail)."""
    answer = await usecases.post_message(context, caller, difficulty_id, body, idempotency_key)
    return _thread(answer)


@router.post("/v1/difficulties/{difficulty_id}/answer", tags=["vướng mắc"])
async def answer_difficulty(
    difficulty_id: str, body: AnswerRequest, caller: CallerDep, context: ContextDep
) -> DifficultyThread:
    """Phòng Nội vụ answers a difficulty; the unit sees the answer."""
    return await usecases.answer_difficulty(context, caller, difficulty_id, body)


DraftBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            "Whatever the unit has written so far, in the shape of a report body (period_id "
            "optional); saved as it is, problems and all."
        )
    ),
]


@router.put("/v1/periods/{period_id}/draft", tags=["bản nháp"])
async def save_draft(
    period_id: str, body: DraftBody, caller: CallerDep, context: ContextDep
) -> Draft:
    """Save the unit's draft for the period (never refused for its content); the answer lists
    the problems sending it would meet now."""
    return await usecases.save_draft(context, caller, period_id, body)


@router.get("/v1/periods/{period_id}/draft", tags=["bản nháp"])
async def read_draft(period_id: str, caller: CallerDep, context: ContextDep) -> Draft:
    """The unit's own draft for the period, with its problems."""
    return await usecases.read_draft(context, caller, period_id)


@router.post("/v1/periods/{period_id}/draft/prefill", tags=["bản nháp"])
async def prefill_draft(period_id: str, caller: CallerDep, context: ContextDep) -> Draft:
    """Fill the draft's empty narratives from the unit's most recent earlier periodic report
    (for an annual report, that year's six-month report); figures stay empty."""
    return await usecases.prefill_draft(context, caller, period_id)


@router.get("/v1/leader-changes", tags=["xét duyệt"])
async def leader_changes(
    caller: CallerDep, context: ContextDep, period_id: str | None = None
) -> list[LeaderChange]:
    """Units whose current report says their leader in charge (plan II.5) is no longer the
    one the registry holds, with both names, for Phòng Nội vụ to update the registry."""
    return await usecases.leader_changes(context, caller, period_id)


@router.get("/v1/forms/{form_id}/{version}", tags=["biểu mẫu"])
async def read_form(form_id: str, version: str) -> FormDefinition:
    """A form definition: sections, indicators, labels, types, rules and applicability."""
    return usecases.form_definition(form_id, version)


@router.get("/v1/periods/{period_id}/form", tags=["biểu mẫu"])
async def period_form(
    period_id: str, caller: CallerDep, context: ContextDep, unit_code: str | None = None
) -> PeriodForm:
    """The form the calling unit fills for the period (readers may name a unit)."""
    return await usecases.unit_form(context, caller, period_id, unit_code)
