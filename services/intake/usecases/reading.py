"""Reading reports, their versions and audit trail, listings, and the forms units fill."""

from __future__ import annotations

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import expected_unit, period_not_found
from services.intake.usecases.common import listing_unit, visible_report
from services.intake.views import (
    audit_view,
    leader_change_view,
    leader_info,
    report_summary,
    report_view,
    version_view,
)
from shared.auth import Permission, Principal
from shared.contracts.api.intake import (
    AuditEntry,
    FormUnit,
    LeaderChange,
    PeriodForm,
    PeriodInfo,
    ReportDetail,
    ReportSummary,
    ReportVersionView,
)
from shared.formatting import vn_date
from shared.forms import FormDefinition, form_for_unit, load_form


async def read_report(context: IntakeContext, principal: Principal, report_id: str) -> ReportDetail:
    """The report with its current content."""
    async with store.reading(context.sessions) as session:
        row = await visible_report(session, principal, report_id)
        version = await store.find_version_row(session, report_id, row.version)
    return report_view(row, version, load_form(row.form_id, row.form_version))


async def report_versions(
    context: IntakeContext, principal: Principal, report_id: str
) -> list[ReportVersionView]:
    """Every version, oldest first, each with its full content."""
    async with store.reading(context.sessions) as session:
        report = await visible_report(session, principal, report_id)
        rows = await store.version_rows(session, report_id)
    form = load_form(report.form_id, report.form_version)
    return [version_view(row, form) for row in rows]


async def report_audit(
    context: IntakeContext, principal: Principal, report_id: str
) -> list[AuditEntry]:
    """The audit trail of a report the caller may see."""
    async with store.reading(context.sessions) as session:
        await visible_report(session, principal, report_id)
        rows = await store.audit_rows(session, report_id)
    return [audit_view(row) for row in rows]


async def list_reports(
    context: IntakeContext,
    principal: Principal,
    *,
    period_id: str | None,
    unit_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[ReportSummary]:
    """Reports by period, unit and state; a unit sees only its own."""
    unit_code = listing_unit(principal, unit_code)
    async with store.reading(context.sessions) as session:
        rows = await store.list_report_rows(
            session,
            period_id=period_id,
            unit_code=unit_code,
            status=status,
            limit=limit,
            offset=offset,
        )
    return [report_summary(row) for row in rows]


async def leader_changes(
    context: IntakeContext, principal: Principal, period_id: str | None
) -> list[LeaderChange]:
    """Phòng Nội vụ's list of units whose current report reports a new leader in charge
    (plan II.5), to bring into the registry."""
    principal.require(Permission.READ_REPORTS)
    async with store.reading(context.sessions) as session:
        rows = await store.leader_change_rows(session, period_id)
    changes = (leader_change_view(row, load_form(row.form_id, row.form_version)) for row in rows)
    return [change for change in changes if change is not None]


def form_definition(form_id: str, version: str) -> FormDefinition:
    """A form definition as released (404 `form_not_found` for an unknown one)."""
    return load_form(form_id, version)


async def unit_form(
    context: IntakeContext, principal: Principal, period_id: str, unit_code: str | None
) -> PeriodForm:
    """The form a unit fills for a period, without the parts that do not apply to it."""
    if principal.role == "unit":
        unit_code = principal.require_unit()
    else:
        principal.require(Permission.READ_REPORTS)
    async with store.reading(context.sessions) as session:
        found = await store.find_period_and_row(session, period_id)
        leader = await store.unit_leader(session, unit_code) if unit_code else None
    if found is None:
        raise period_not_found(period_id)
    row, period = found
    form = load_form(period.form_id, period.form_version)
    unit_view: FormUnit | None = None
    if unit_code:
        unit = expected_unit(period, unit_code)
        form = form_for_unit(form, unit.kind, set(unit.tags))
        unit_view = FormUnit(**unit.model_dump(), leader=leader_info(leader))
    return PeriodForm(
        period=PeriodInfo(
            period_id=period.period_id,
            kind=period.kind,
            title=period.title,
            status=period.status,
            due_at=period.due_at,
            due_text=f"Trước ngày {vn_date(period.due_at)}",
            window_start=row.window_start,
            window_end=row.window_end,
            content=row.content,
        ),
        unit=unit_view,
        form=form,
    )
