"""Reading reports, their versions and audit trail, listings and the unit's form."""

from __future__ import annotations

from typing import Any

from services.intake import db
from services.intake.context import IntakeContext
from services.intake.domain import expected_unit, period_not_found
from services.intake.handlers.common import listing_unit, visible_report
from services.intake.views import report_summary, report_view
from shared.auth import Permission, Principal
from shared.formatting import vn_date
from shared.forms import form_for_unit, load_form


async def read_report(
    context: IntakeContext, principal: Principal, report_id: str
) -> dict[str, Any]:
    """The report with its current content."""
    async with context.sessions() as session:
        row = await visible_report(session, principal, report_id)
        version = await db.find_version_row(session, report_id, row.version)
    return report_view(row, version)


async def report_versions(
    context: IntakeContext, principal: Principal, report_id: str
) -> list[Any]:
    """Every version's row, oldest first."""
    async with context.sessions() as session:
        await visible_report(session, principal, report_id)
        return await db.version_rows(session, report_id)


async def report_audit(context: IntakeContext, principal: Principal, report_id: str) -> list[Any]:
    """The audit trail of a report the caller may see."""
    async with context.sessions() as session:
        await visible_report(session, principal, report_id)
        return await db.audit_rows(session, report_id)


async def list_reports(
    context: IntakeContext,
    principal: Principal,
    *,
    period_id: str | None,
    unit_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Reports by period, unit and state; a unit sees only its own."""
    unit_code = listing_unit(principal, unit_code)
    async with context.sessions() as session:
        rows = await db.list_report_rows(
            session,
            period_id=period_id,
            unit_code=unit_code,
            status=status,
            limit=limit,
            offset=offset,
        )
    return [report_summary(row) for row in rows]


async def unit_form(
    context: IntakeContext, principal: Principal, period_id: str, unit_code: str | None
) -> dict[str, Any]:
    """The form a unit fills for a period, without the parts that do not apply to it."""
    if principal.role == "unit":
        unit_code = principal.require_unit()
    else:
        principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        row = await db.find_period_row(session, period_id)
    if row is None:
        raise period_not_found(period_id)
    period = db.period_from_row(row)
    form = load_form(period.form_id, period.form_version)
    unit_view: dict[str, Any] | None = None
    if unit_code:
        unit = expected_unit(period, unit_code)
        form = form_for_unit(form, unit.kind, set(unit.tags))
        unit_view = unit.model_dump(mode="json")
    return {
        "period": {
            "period_id": period.period_id,
            "kind": period.kind,
            "title": period.title,
            "status": period.status,
            "due_at": period.due_at.isoformat(),
            "due_text": f"Trước ngày {vn_date(period.due_at)}",
            "window_start": row.window_start.isoformat() if row.window_start else None,
            "window_end": row.window_end.isoformat() if row.window_end else None,
            "content": row.content,
        },
        "unit": unit_view,
        "form": form.model_dump(mode="json"),
    }
