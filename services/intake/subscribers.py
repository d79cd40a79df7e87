"""The events intake consumes: the registry's units and periods, kept as a local projection."""

from __future__ import annotations

from services.intake import usecases
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.messaging.consumer import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(contract=UnitChanged, handler=usecases.on_unit_changed),
    Subscription(contract=PeriodChanged, handler=usecases.on_period_changed),
)
