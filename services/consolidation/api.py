"""Consolidation HTTP API: completeness, summary and the consolidated documents of a period."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response

from services.consolidation import handlers
from services.consolidation.context import ContextDep
from services.consolidation.documents import report_docx, report_xlsx
from services.consolidation.domain import Completeness
from shared.auth import Permission, PrincipalDep
from shared.clock import VN_TZ

router = APIRouter()

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit_view(status: Completeness, unit_code: str | None) -> dict[str, Any]:
    """What a unit account sees: the period and its own row, nothing about other units."""
    period = status.period
    return {
        "period_id": period.period_id,
        "title": period.title,
        "due_at": period.due_at.isoformat(),
        "status": period.status,
        "units": [u.as_dict() for u in status.units if u.code == unit_code],
    }


@router.get("/v1/periods", tags=["tổng hợp"])
async def list_periods(principal: PrincipalDep, context: ContextDep) -> list[dict[str, Any]]:
    """Every known period with its completeness (a unit sees only its own row)."""
    async with context.sessions() as session:
        statuses = await handlers.list_completeness(session)
    if principal.may(Permission.READ_REPORTS):
        return [s.as_dict() for s in statuses]
    return [_unit_view(s, principal.unit_code) for s in statuses]


@router.get("/v1/periods/{period_id}/completeness", tags=["tổng hợp"])
async def read_completeness(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Who has reported: counts, rates, by unit kind, each unit's state and submission time."""
    if not principal.may(Permission.READ_REPORTS):
        principal.require_unit()
    async with context.sessions() as session:
        status = await handlers.read_completeness(session, period_id)
    if principal.may(Permission.READ_REPORTS):
        return status.as_dict()
    return _unit_view(status, principal.unit_code)


@router.get("/v1/periods/{period_id}/summary", tags=["tổng hợp"])
async def read_summary(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Figures by unit kind and overall, compiled narratives, difficulties, warnings."""
    principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        summary = await handlers.read_summary(session, period_id)
    return summary.as_dict()


@router.get("/v1/periods/{period_id}/report.docx", tags=["tổng hợp"])
async def download_docx(period_id: str, principal: PrincipalDep, context: ContextDep) -> Response:
    """The consolidated report (báo cáo tổng hợp) in the Nghị định 30/2020 layout."""
    principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        summary = await handlers.read_summary(session, period_id)
    issued_on = context.clock.now().astimezone(VN_TZ).date()
    # Building the document is CPU work; the event loop keeps serving meanwhile.
    body = await asyncio.to_thread(report_docx, summary, context.settings, issued_on)
    return _download(body, DOCX_TYPE, f"bao-cao-tong-hop-{period_id}.docx")


@router.get("/v1/periods/{period_id}/report.xlsx", tags=["tổng hợp"])
async def download_xlsx(period_id: str, principal: PrincipalDep, context: ContextDep) -> Response:
    """The period's figures per unit with totals, completeness and difficulties."""
    principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        summary = await handlers.read_summary(session, period_id)
    body = await asyncio.to_thread(report_xlsx, summary)
    return _download(body, XLSX_TYPE, f"so-lieu-tong-hop-{period_id}.xlsx")


def _download(body: bytes, media_type: str, filename: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
