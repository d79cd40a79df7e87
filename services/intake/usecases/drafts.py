"""Drafts: a unit saves its report as it goes, problems and all, and may start it from its
last periodic report. A draft is not a report: it writes no event, no audit line, no vướng
mắc; only its unit reaches it; sending a version of the report removes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import (
    Period,
    check_can_amend,
    check_content,
    check_period_open,
    expected_unit,
    period_not_found,
)
from services.intake.prefill import EarlierReport, pick_source, prefilled
from services.intake.usecases.common import submitting_unit
from shared.auth import Principal
from shared.clock import VN_TZ
from shared.contracts.api.intake import ContentIssue, Draft, DraftSource
from shared.contracts.registry import ExpectedUnit, Leader
from shared.errors import Conflict, NotFound
from shared.forms import form_for_unit, load_form
from shared.forms.crosswalk import NoCrosswalk


@dataclass(frozen=True)
class _Scope:
    """What a draft is checked against: the period, the unit in it, its leader, its report."""

    period: Period
    unit: ExpectedUnit
    leader: Leader | None
    report_id: str | None


async def _scope(
    session: AsyncSession, principal: Principal, period_id: str, *, writing: bool
) -> _Scope:
    unit_code = submitting_unit(principal)
    period = await store.find_period(session, period_id)
    if period is None:
        raise period_not_found(period_id)
    unit = expected_unit(period, unit_code)
    report = await store.find_report_for(session, period_id, unit_code)
    if writing:
        check_period_open(period)
        if report is not None:
            check_can_amend(store.report_from_row(report), period)
    leader = await store.unit_leader(session, unit_code)
    return _Scope(period, unit, leader, report.report_id if report is not None else None)


def _mismatch(content: dict[str, Any], period: Period) -> list[ContentIssue]:
    sent = content.get("period_id")
    if sent is None or sent == period.period_id:
        return []
    message = f"Bản nháp này thuộc kỳ «{period.period_id}», không thể chuyển sang kỳ khác."
    return [
        ContentIssue(
            path="period_id",
            code="period_mismatch",
            field="period_id",
            label="Kỳ báo cáo",
            message=message,
            severity="error",
        )
    ]


def _view(row: Any, scope: _Scope) -> Draft:
    """The draft with the problems sending it would meet now."""
    result = check_content(scope.period, scope.unit, scope.leader, row.content)
    issues = _mismatch(row.content, scope.period) + [
        ContentIssue.model_validate(issue.model_dump()) for issue in result.errors
    ]
    return Draft(
        period_id=row.period_id,
        unit_code=row.unit_code,
        content=row.content,
        saved_at=row.saved_at,
        saved_by=row.saved_by,
        revision=row.revision,
        prefilled_from=DraftSource.model_validate(row.prefilled_from)
        if row.prefilled_from
        else None,
        issues=issues,
        warnings=[ContentIssue.model_validate(w.model_dump()) for w in result.warnings],
        ready=not issues,
        report_id=scope.report_id,
    )


async def save_draft(
    context: IntakeContext, principal: Principal, period_id: str, body: dict[str, Any]
) -> Draft:
    """Keep whatever the unit has written so far; answer the problems found in it."""
    async with store.reading(context.sessions) as session:
        scope = await _scope(session, principal, period_id, writing=True)
        earlier = await store.find_draft_row(session, period_id, scope.unit.code)
    async with store.transaction(context.sessions) as session:
        await store.save_draft(
            session,
            period_id=period_id,
            unit_code=scope.unit.code,
            content=body,
            saved_at=context.clock.now(),
            saved_by=principal.username,
            prefilled_from=earlier.prefilled_from if earlier is not None else None,
        )
        row = await store.find_draft_row(session, period_id, scope.unit.code)
    return _view(row, scope)


async def read_draft(context: IntakeContext, principal: Principal, period_id: str) -> Draft:
    """The unit's own draft for the period, with its problems as of now."""
    async with store.reading(context.sessions) as session:
        scope = await _scope(session, principal, period_id, writing=False)
        row = await store.find_draft_row(session, period_id, scope.unit.code)
    if row is None:
        raise NotFound(
            f"Đơn vị chưa lưu bản nháp báo cáo {scope.period.title}.", code="draft_not_found"
        )
    return _view(row, scope)


async def prefill_draft(context: IntakeContext, principal: Principal, period_id: str) -> Draft:
    """Fill the draft's empty narratives from the unit's most recent earlier periodic report
    (for an annual report, that year's six-month report); figures stay empty."""
    async with store.reading(context.sessions) as session:
        scope = await _scope(session, principal, period_id, writing=True)
        period = scope.period
        if not period.periodic:
            raise Conflict(
                "Chỉ báo cáo định kỳ (6 tháng, năm) mới dùng được báo cáo kỳ trước làm bản nháp.",
                code="prefill_not_periodic",
            )
        rows = await store.earlier_periodic_reports(session, scope.unit.code, period.due_at)
        year = period.year or period.due_at.astimezone(VN_TZ).year
        source = pick_source(period.kind, year, [_earlier(row) for row in rows])
        if source is None:
            raise NotFound(
                "Đơn vị chưa có báo cáo định kỳ nào của kỳ trước để dùng làm bản nháp.",
                code="no_earlier_report",
            )
        version = await store.find_version_row(session, source.report_id, source.version)
        draft = await store.find_draft_row(session, period_id, scope.unit.code)
    target = load_form(period.form_id, period.form_version)
    unit_form = form_for_unit(target, scope.unit.kind, set(scope.unit.tags))
    try:
        content, filled = prefilled(
            draft.content if draft is not None else {"period_id": period_id},
            version.content,
            load_form(source.form_id, source.form_version),
            target,
            unit_form,
        )
    except NoCrosswalk:
        raise Conflict(
            f"Chưa đọc được báo cáo {source.period_title} theo biểu mẫu của kỳ này.",
            code="prefill_unavailable",
        ) from None
    origin = DraftSource(
        report_id=source.report_id,
        period_id=source.period_id,
        period_title=source.period_title,
        version=source.version,
        form_version=source.form_version,
        filled=filled,
    )
    async with store.transaction(context.sessions) as session:
        await store.save_draft(
            session,
            period_id=period_id,
            unit_code=scope.unit.code,
            content=content,
            saved_at=context.clock.now(),
            saved_by=principal.username,
            prefilled_from=origin.model_dump(mode="json"),
        )
        row = await store.find_draft_row(session, period_id, scope.unit.code)
    return _view(row, scope)


def _earlier(row: Any) -> EarlierReport:
    return EarlierReport(
        report_id=row.report_id,
        period_id=row.period_id,
        period_title=row.period_title,
        period_kind=row.period_kind,
        period_year=row.period_year,
        due_at=row.period_due_at,
        version=row.version,
        form_id=row.form_id,
        form_version=row.form_version,
    )
