"""What consolidation's routes need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.settings import ConsolidationSettings
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class ConsolidationContext:
    """Settings, clock, database sessions and the service's metrics."""

    settings: ConsolidationSettings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    metrics: ConsolidationMetrics


ContextDep = Annotated[ConsolidationContext, Depends(context_dependency(ConsolidationContext))]
