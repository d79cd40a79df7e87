"""The events intake consumes: the registry's units and periods, kept as a local projection."""

from __future__ import annotations

from services.intake import usecases
from shared.contracts.registry import (
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    UnitChanged,
)
from shared.messaging.consumer import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(contract=UnitChanged, handler=usecases.on_unit_changed),
    # v1 (the whole set inline) is still consumed: the stream holds it from before v2.
    Subscription(contract=PeriodChanged, handler=usecases.on_period_changed),
    Subscription(contract=PeriodChangedV2, handler=usecases.on_period_changed_v2),
    Subscription(contract=PeriodExpectedUnits, handler=usecases.on_period_expected_units),
)
