"""Consolidation HTTP API: each route calls one use case and answers with its contract model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.consolidation import views
from services.consolidation.answers import Page
from services.consolidation.context import ContextDep
from services.consolidation.usecases import documents, draft, reading
from services.consolidation.usecases.documents import DOCX_TYPE, XLSX_TYPE, Document
from shared.auth import PrincipalDep
from shared.contracts.api import ErrorBody
from shared.contracts.api.consolidation import (
    Draft,
    DraftSave,
    HighlightRequest,
    OwnPeriodCompleteness,
    PeriodCompleteness,
    PeriodSummary,
    PickedExcerpt,
)

router = APIRouter(tags=["tổng hợp"])


@router.get("/v1/periods", response_model=list[PeriodCompleteness | OwnPeriodCompleteness])
async def list_periods(
    principal: PrincipalDep, context: ContextDep
) -> list[PeriodCompleteness | OwnPeriodCompleteness]:
    """Every known period with its completeness (a unit sees only its own row)."""
    return [views.period_completeness(s) for s in await reading.list_periods(context, principal)]


# Paging of the answers' `units` (every unit unless asked); the counts stay the period's.
Limit = Annotated[
    int | None,
    Query(ge=1, le=10_000, description="Số đơn vị tối đa trong danh sách `units`"),
]
Offset = Annotated[
    int, Query(ge=0, le=1_000_000_000, description="Bỏ qua chừng ấy đơn vị đầu danh sách")
]


@router.get(
    "/v1/periods/{period_id}/completeness",
    response_model=PeriodCompleteness | OwnPeriodCompleteness,
)
async def read_completeness(
    period_id: str,
    principal: PrincipalDep,
    context: ContextDep,
    limit: Limit = None,
    offset: Offset = 0,
) -> Response:
    """Who has reported: counts, rates, by unit kind, each unit's state and submission time
    (`limit`/`offset`: a page of `units`, in registry order)."""
    body = await reading.completeness_answer(
        context, principal, period_id, Page(offset=offset, limit=limit)
    )
    return Response(content=body, media_type="application/json")


@router.get("/v1/periods/{period_id}/summary", response_model=PeriodSummary)
async def read_summary(
    period_id: str,
    principal: PrincipalDep,
    context: ContextDep,
    limit: Limit = None,
    offset: Offset = 0,
) -> Response:
    """Figures by unit kind and overall, compiled narratives, difficulties, warnings
    (`limit`/`offset`: a page of `completeness.units`)."""
    body = await reading.summary_answer(
        context, principal, period_id, Page(offset=offset, limit=limit)
    )
    return Response(content=body, media_type="application/json")


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


@router.get("/v1/periods/{period_id}/draft", response_model=Draft)
async def read_draft(period_id: str, principal: PrincipalDep, context: ContextDep) -> Draft:
    """The town report's draft: hand-written parts as saved, the others from the latest
    reports, and what changed since the last save (leaders read it; Phòng Nội vụ edits)."""
    return views.draft(await draft.read_draft(context, principal, period_id), context.settings)


@router.put(
    "/v1/periods/{period_id}/draft",
    response_model=Draft,
    responses={409: {"model": ErrorBody, "description": "Somebody saved in between"}},
)
async def save_draft(
    period_id: str, body: DraftSave, principal: PrincipalDep, context: ContextDep
) -> Draft:
    """Save the draft over the version read; 409 (naming who saved) when it was saved since."""
    saved = await draft.save_draft(
        context, principal, period_id, version=body.version, edits=views.edits(body)
    )
    return views.draft(saved, context.settings)


@router.get("/v1/periods/{period_id}/highlights", response_model=list[PickedExcerpt])
async def list_highlights(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> list[PickedExcerpt]:
    """The excerpts of units' reports picked for the town report."""
    return [views.picked(p) for p in await draft.list_highlights(context, principal, period_id)]


@router.post("/v1/periods/{period_id}/highlights", status_code=201, response_model=PickedExcerpt)
async def mark_highlight(
    period_id: str, body: HighlightRequest, principal: PrincipalDep, context: ContextDep
) -> PickedExcerpt:
    """Pick an excerpt of a unit's current report for the town report."""
    excerpt = await draft.mark_highlight(
        context, principal, period_id, unit_code=body.unit_code, field=body.field, text=body.text
    )
    return views.picked(excerpt)


@router.delete(
    "/v1/periods/{period_id}/highlights/{highlight_id}",
    status_code=204,
    response_class=Response,
)
async def unmark_highlight(
    period_id: str, highlight_id: str, principal: PrincipalDep, context: ContextDep
) -> Response:
    """Take an excerpt out of the town report."""
    await draft.unmark_highlight(context, principal, period_id, highlight_id)
    return Response(status_code=204)


def _download(document: Document) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in document.filename)
    return Response(
        content=document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
