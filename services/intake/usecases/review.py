"""Withdrawal by the unit and review by Phòng Nội vụ."""

from __future__ import annotations

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import (
    Decision,
    check_can_review,
    check_can_withdraw,
    clean_reason,
    status_after_review,
    version_changed,
)
from services.intake.usecases.common import PRODUCER, period_of, submitting_unit, visible_report
from services.intake.views import report_summary
from shared.auth import Permission, Principal
from shared.contracts.api.intake import REVIEW_REASON_MAX, ReportSummary, ReviewRequest
from shared.contracts.intake import (
    ReportReview,
    ReportReviewed,
    ReportStatus,
    ReportWithdrawal,
    ReportWithdrawn,
)


async def withdraw_report(
    context: IntakeContext, principal: Principal, report_id: str
) -> ReportSummary:
    """The unit takes its report back; it no longer counts until a new version is sent."""
    submitting_unit(principal)
    async with store.reading(context.sessions) as session:
        report = store.report_from_row(await visible_report(session, principal, report_id))
        period = await period_of(session, report)
        check_can_withdraw(report, period)
    now = context.clock.now()
    async with store.transaction(context.sessions) as session:
        if not await store.advance_report(
            session, report, {"status": "withdrawn", "withdrawn_at": now}
        ):
            raise version_changed(None)
        payload = ReportWithdrawal(
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            version=report.version,
            withdrawn_at=now,
        )
        await store.publish(
            session, ReportWithdrawn.new(payload, producer=PRODUCER, occurred_at=now)
        )
        await store.record_audit(
            session,
            at=now,
            actor=principal.username,
            role=principal.role,
            action="report_withdrawn",
            report_id=report.report_id,
            details={"version": report.version},
        )
        row = await store.find_report_row(session, report_id)
    return report_summary(row)


async def review_report(
    context: IntakeContext, principal: Principal, report_id: str, request: ReviewRequest
) -> ReportSummary:
    """Phòng Nội vụ accepts the current version, or returns it with a reason."""
    decision: Decision = request.decision
    reason = clean_reason(
        request.reason,
        label="Lý do trả lại",
        code="reason_required",
        required=decision == "returned",
        max_length=REVIEW_REASON_MAX,
    )
    principal.require(Permission.REVIEW)
    async with store.reading(context.sessions) as session:
        report = store.report_from_row(await visible_report(session, principal, report_id))
        period = await period_of(session, report)
        check_can_review(report, period, decision, request.version)
    now = context.clock.now()
    status: ReportStatus = status_after_review(decision)
    async with store.transaction(context.sessions) as session:
        changed = await store.advance_report(
            session,
            report,
            {
                "status": status,
                "review_decision": decision,
                "review_reason": reason,
                "review_version": report.version,
                "reviewed_by": principal.username,
                "reviewed_at": now,
            },
        )
        if not changed:
            raise version_changed(None)
        payload = ReportReview(
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            version=report.version,
            decision=decision,
            reason=reason,
            reviewed_by=principal.username,
            reviewed_at=now,
        )
        await store.publish(
            session, ReportReviewed.new(payload, producer=PRODUCER, occurred_at=now)
        )
        await store.record_audit(
            session,
            at=now,
            actor=principal.username,
            role=principal.role,
            action=f"report_{decision}",
            report_id=report.report_id,
            details={"version": report.version, "reason": reason},
        )
        row = await store.find_report_row(session, report_id)
    return report_summary(row)
