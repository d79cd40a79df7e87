"""The period's consolidated documents: the official report (.docx) and its workbook (.xlsx)."""

from __future__ import annotations

from dataclasses import dataclass

from services.consolidation.context import ConsolidationContext
from services.consolidation.documents import report_docx, report_xlsx
from services.consolidation.usecases.common import period_summary
from services.consolidation.usecases.draft import composition
from shared.auth import Permission, Principal
from shared.clock import VN_TZ

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Document:
    """A file to download."""

    content: bytes
    media_type: str
    filename: str


async def consolidated_report(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> Document:
    """The town report (báo cáo tổng hợp) in the Nghị định 30/2020 layout: the saved draft
    (the generated draft when none was saved, hand-written parts over the latest figures)
    and the appendix."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        made = await composition(context, session, period_id)
    issued_on = context.clock.now().astimezone(VN_TZ).date()
    # Building the document is CPU work, done after the reads in a thread (the event loop
    # keeps serving), one build at a time (`services/consolidation/builds.py`).
    body = await context.builds.run(
        report_docx, made.summary, made.view(), made.frame, context.settings, issued_on
    )
    return Document(body, DOCX_TYPE, f"bao-cao-tong-hop-{period_id}.docx")


async def consolidated_workbook(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> Document:
    """The period's figures per unit with totals, completeness and difficulties."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        summary = await period_summary(session, period_id)
    body = await context.builds.run(report_xlsx, summary)
    return Document(body, XLSX_TYPE, f"so-lieu-tong-hop-{period_id}.xlsx")
