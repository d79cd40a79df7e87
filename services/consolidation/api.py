"""Consolidation HTTP API: each route calls one use case and answers with its contract model."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.consolidation import views
from services.consolidation.context import ContextDep
from services.consolidation.usecases import documents, reading
from services.consolidation.usecases.documents import DOCX_TYPE, XLSX_TYPE, Document
from shared.auth import PrincipalDep
from shared.contracts.api.consolidation import (
    OwnPeriodCompleteness,
    PeriodCompleteness,
    PeriodSummary,
)

router = APIRouter(tags=["tổng hợp"])


@router.get("/v1/periods", response_model=list[PeriodCompleteness | OwnPeriodCompleteness])
async def list_periods(
    principal: PrincipalDep, context: ContextDep
) -> list[PeriodCompleteness | OwnPeriodCompleteness]:
    """Every known period with its completeness (a unit sees only its own row)."""
    return [views.period_completeness(s) for s in await reading.list_periods(context, principal)]


@router.get(
    "/v1/periods/{period_id}/completeness",
    response_model=PeriodCompleteness | OwnPeriodCompleteness,
)
async def read_completeness(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> PeriodCompleteness | OwnPeriodCompleteness:
    """Who has reported: counts, rates, by unit kind, each unit's state and submission time."""
    return views.period_completeness(await reading.read_completeness(context, principal, period_id))


@router.get("/v1/periods/{period_id}/summary", response_model=PeriodSummary)
async def read_summary(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> PeriodSummary:
    """Figures by unit kind and overall, compiled narratives, difficulties, warnings."""
    return views.summary(await reading.read_summary(context, principal, period_id))


@router.get(
    "/v1/periods/{period_id}/report.docx",
    response_class=Response,
    responses={200: {"content": {DOCX_TYPE: {}}, "description": "Báo cáo tổng hợp (.docx)"}},
)
async def download_docx(period_id: str, principal: PrincipalDep, context: ContextDep) -> Response:
    """The consolidated report (báo cáo tổng hợp) in the Nghị định 30/2020 layout."""
    return _download(await documents.consolidated_report(context, principal, period_id))


@router.get(
    "/v1/periods/{period_id}/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "Số liệu tổng hợp (.xlsx)"}},
)
async def download_xlsx(period_id: str, principal: PrincipalDep, context: ContextDep) -> Response:
    """The period's figures per unit with totals, completeness and difficulties."""
    return _download(await documents.consolidated_workbook(context, principal, period_id))


def _download(document: Document) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in document.filename)
    return Response(
        content=document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
