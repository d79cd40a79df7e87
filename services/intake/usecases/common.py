"""What every intake use case shares: who may call this instance, who sees a report, and its
period."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import (
    Period,
    Report,
    check_in_scope,
    period_not_found,
    report_not_found,
)
from shared.auth import Permission, Principal
from shared.errors import DomainError, Forbidden

PRODUCER = "intake"


def admit(context: IntakeContext, principal: Principal) -> Principal:
    """The verified caller; a unit outside this instance's scope is sent elsewhere (421)."""
    settings = context.settings
    if principal.role == "unit" and principal.unit_code:
        check_in_scope(principal.unit_code, settings.unit_scope, settings.scope_hint_url)
    return principal


def submitting_unit(principal: Principal) -> str:
    """The caller's unit code, for what only a unit does (`Permission.SUBMIT`)."""
    if not principal.may(Permission.SUBMIT) or not principal.unit_code:
        raise Forbidden("Chỉ tài khoản của đơn vị mới thực hiện được thao tác này.")
    return principal.unit_code


async def visible_report(session: AsyncSession, principal: Principal, report_id: str) -> Any:
    """The report row if the caller may see it; a unit never learns of another's report."""
    return check_visible(principal, report_id, await store.find_report_row(session, report_id))


def check_visible(principal: Principal, report_id: str, row: Any) -> Any:
    """The report row (None: not found) if the caller may see it (404 otherwise)."""
    if row is None:
        raise report_not_found(report_id)
    if principal.role == "unit":
        if row.unit_code != principal.unit_code:
            raise report_not_found(report_id)
    elif not principal.may(Permission.READ_REPORTS):
        raise report_not_found(report_id)
    return row


async def period_of(session: AsyncSession, report: Report) -> Period:
    """The period a report belongs to, as projected."""
    period = await store.find_period(session, report.period_id)
    if period is None:
        raise period_not_found(report.period_id)
    return period


def listing_unit(principal: Principal, unit_code: str | None) -> str | None:
    """Units list only their own reports; readers may filter by any unit."""
    if principal.role == "unit":
        own = principal.require_unit()
        if unit_code and unit_code != own:
            raise DomainError(
                "Đơn vị chỉ xem được báo cáo của chính mình.", code="forbidden_unit", status=403
            )
        return own
    principal.require(Permission.READ_REPORTS)
    return unit_code
