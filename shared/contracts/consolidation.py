"""Events consolidation publishes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.contracts.envelope import Contract, Envelope

CONSOLIDATION_UPDATED = "danvan.consolidation.period.updated.v1"


class CompletenessSnapshot(Contract):
    """A period's completeness after a change."""

    period_id: str
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    as_of: datetime
    title: str = ""
    awaiting_revision: int = 0
    accepted: int = 0
    missing_units: tuple[str, ...] = ()
    # Grows by one with every snapshot of the period, so consumers can ignore older ones.
    revision: int = 0


class ConsolidationUpdated(Envelope[CompletenessSnapshot]):
    """A period's consolidated state changed."""

    subject: ClassVar[str] = CONSOLIDATION_UPDATED
