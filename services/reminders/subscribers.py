"""Event wiring: which events the reminders service consumes and the handler of each."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import handlers
from shared.clock import Clock
from shared.contracts.intake import ReportReviewed, ReportSubmitted, ReportWithdrawn
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.messaging.consumer import Subscription


def subscriptions(clock: Clock) -> list[Subscription]:
    """Units, periods and report events, each applied to the local projection."""

    async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
        """Keep the period, its deadline and expected units, and when it opened."""
        await handlers.apply_period_changed(session, event, clock.now())

    return [
        Subscription(contract=UnitChanged, handler=handlers.on_unit_changed),
        Subscription(contract=PeriodChanged, handler=on_period_changed),
        Subscription(contract=ReportSubmitted, handler=handlers.on_report_submitted),
        Subscription(contract=ReportWithdrawn, handler=handlers.on_report_withdrawn),
        Subscription(contract=ReportReviewed, handler=handlers.on_report_reviewed),
    ]
