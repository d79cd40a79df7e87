"""Intake HTTP API: reports, their versions and review, difficulties, forms."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Header, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.intake import handlers
from services.intake.context import ContextDep
from services.intake.domain import (
    ANSWER_MAX,
    REVIEW_REASON_MAX,
    check_in_scope,
    clean_reason,
)
from services.intake.views import audit_view, version_view
from shared.auth import Principal, PrincipalDep
from shared.contracts.intake import ReportStatus
from shared.forms import load_form
from shared.idempotency import Answer

router = APIRouter()


async def _caller(principal: PrincipalDep, context: ContextDep) -> Principal:
    """The verified caller; a unit outside this instance's scope is sent elsewhere."""
    settings = context.settings
    if principal.role == "unit" and principal.unit_code:
        check_in_scope(principal.unit_code, settings.unit_scope, settings.scope_hint_url)
    return principal


CallerDep = Annotated[Principal, Depends(_caller)]


ReportBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            'Periodic: {period_id, sections: {"1": {narrative, indicators}}, ton_tai_han_che, '
            "phuong_huong, de_xuat_kien_nghi, vuong_mac: [...]}; ad-hoc: {period_id, noi_dung, "
            "vuong_mac}."
        )
    ),
]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


class ReviewRequest(BaseModel):
    """A reviewer's decision on the report's current version."""

    model_config = ConfigDict(extra="forbid", strict=True)

    decision: Literal["accepted", "returned"]
    reason: str = Field("", max_length=REVIEW_REASON_MAX * 2)
    version: int | None = Field(None, ge=1)


class AnswerRequest(BaseModel):
    """Phòng Nội vụ's answer to a difficulty."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answer: str = Field(max_length=ANSWER_MAX * 2)


def _answer(answer: Answer) -> JSONResponse:
    return answer.response({"Location": f"/v1/reports/{answer.body['report_id']}"})


@router.post("/v1/reports", status_code=201, tags=["báo cáo"])
async def submit_report(
    body: ReportBody, caller: CallerDep, context: ContextDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Submit the unit's report for a period (unit from the token); 201 with a receipt."""
    return _answer(await handlers.submit_report(context, caller, body, idempotency_key))


@router.get("/v1/reports", tags=["báo cáo"])
async def list_reports(
    caller: CallerDep,
    context: ContextDep,
    period_id: str | None = None,
    unit_code: str | None = None,
    status: ReportStatus | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Reports by period, unit and state; a unit sees only its own."""
    return await handlers.list_reports(
        context,
        caller,
        period_id=period_id,
        unit_code=unit_code,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get("/v1/reports/{report_id}", tags=["báo cáo"])
async def read_report(report_id: str, caller: CallerDep, context: ContextDep) -> dict[str, Any]:
    """One report with its current version's content, warnings and last review."""
    return await handlers.read_report(context, caller, report_id)


@router.put("/v1/reports/{report_id}", tags=["báo cáo"])
async def amend_report(
    report_id: str,
    body: ReportBody,
    caller: CallerDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a full new version of the unit's report (also after a return or withdrawal)."""
    return _answer(await handlers.amend_report(context, caller, report_id, body, idempotency_key))


@router.get("/v1/reports/{report_id}/versions", tags=["báo cáo"])
async def report_versions(
    report_id: str, caller: CallerDep, context: ContextDep
) -> list[dict[str, Any]]:
    """Every version of a report, oldest first, each with its full content."""
    return [version_view(r) for r in await handlers.report_versions(context, caller, report_id)]


@router.get("/v1/reports/{report_id}/audit", tags=["báo cáo"])
async def report_audit(
    report_id: str, caller: CallerDep, context: ContextDep
) -> list[dict[str, Any]]:
    """Who did what to the report, and when."""
    return [audit_view(r) for r in await handlers.report_audit(context, caller, report_id)]


@router.post("/v1/reports/{report_id}/withdraw", tags=["báo cáo"])
async def withdraw_report(report_id: str, caller: CallerDep, context: ContextDep) -> dict[str, Any]:
    """The unit withdraws its report (a new version can be sent while the period is open)."""
    return await handlers.withdraw_report(context, caller, report_id)


@router.post("/v1/reports/{report_id}/review", tags=["xét duyệt"])
async def review_report(
    report_id: str, review: ReviewRequest, caller: CallerDep, context: ContextDep
) -> dict[str, Any]:
    """Phòng Nội vụ accepts the report or returns it with a required reason."""
    reason = clean_reason(
        review.reason,
        label="Lý do trả lại",
        code="reason_required",
        required=review.decision == "returned",
        max_length=REVIEW_REASON_MAX,
    )
    return await handlers.review_report(
        context,
        caller,
        report_id,
        decision=review.decision,
        reason=reason,
        expected_version=review.version,
    )


@router.post("/v1/reports/{report_id}/attachments", status_code=201, tags=["đính kèm"])
async def add_attachment(
    report_id: str,
    file: Annotated[UploadFile, File(description="PDF, DOCX, JPEG hoặc PNG, tối đa 10 MB")],
    caller: CallerDep,
    context: ContextDep,
) -> dict[str, Any]:
    """Attach the signed scan to the report's current version (type checked from content)."""
    data = await file.read()
    return await handlers.add_attachment(
        context,
        caller,
        report_id,
        data=data,
        filename=file.filename,
        declared_type=file.content_type,
    )


@router.get("/v1/reports/{report_id}/attachments", tags=["đính kèm"])
async def list_attachments(
    report_id: str, caller: CallerDep, context: ContextDep
) -> list[dict[str, Any]]:
    """The report's attachments with size and SHA-256."""
    return await handlers.list_attachments(context, caller, report_id)


@router.get("/v1/reports/{report_id}/attachments/{attachment_id}", tags=["đính kèm"])
async def download_attachment(
    report_id: str, attachment_id: str, caller: CallerDep, context: ContextDep
) -> FileResponse:
    """Download an attachment (the unit itself and Phòng Nội vụ only)."""
    row, path = await handlers.attachment_file(context, caller, report_id, attachment_id)
    return FileResponse(
        path,
        media_type=row.media_type,
        filename=row.filename,
        headers={"X-Content-SHA256": row.sha256, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/v1/difficulties", tags=["vướng mắc"])
async def list_difficulties(
    caller: CallerDep,
    context: ContextDep,
    period_id: str | None = None,
    unit_code: str | None = None,
    report_id: str | None = None,
    answered: bool | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Difficulties (vướng mắc) with their answers; a unit sees its own."""
    return await handlers.list_difficulties(
        context,
        caller,
        period_id=period_id,
        unit_code=unit_code,
        report_id=report_id,
        answered=answered,
        limit=limit,
        offset=offset,
    )


@router.post("/v1/difficulties/{difficulty_id}/answer", tags=["vướng mắc"])
async def answer_difficulty(
    difficulty_id: str, body: AnswerRequest, caller: CallerDep, context: ContextDep
) -> dict[str, Any]:
    """Phòng Nội vụ answers a difficulty; the unit sees the answer."""
    answer = clean_reason(
        body.answer,
        label="Nội dung trả lời",
        code="answer_required",
        required=True,
        max_length=ANSWER_MAX,
    )
    return await handlers.answer_difficulty(context, caller, difficulty_id, answer)


@router.get("/v1/forms/{form_id}/{version}", tags=["biểu mẫu"])
async def read_form(form_id: str, version: str) -> dict[str, Any]:
    """A form definition: sections, indicators, labels, types, rules and applicability."""
    form: dict[str, Any] = load_form(form_id, version).model_dump(mode="json")
    return form


@router.get("/v1/periods/{period_id}/form", tags=["biểu mẫu"])
async def period_form(
    period_id: str, caller: CallerDep, context: ContextDep, unit_code: str | None = None
) -> dict[str, Any]:
    """The form the calling unit fills for the period (readers may name a unit)."""
    return await handlers.unit_form(context, caller, period_id, unit_code)
