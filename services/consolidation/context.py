"""What consolidation's routes and use cases need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from services.consolidation.answer_process import AnswerProcess
from services.consolidation.answers import AnswerCache
from services.consolidation.builds import OneBuildAtATime
from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.store import ConsolidationStore
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class ConsolidationContext:
    """Settings, clock, the store (the only way to the database), the service's metrics,
    the process's cached answers, where they are built and the one document build at a
    time."""

    settings: ConsolidationSettings
    clock: Clock
    store: ConsolidationStore
    metrics: ConsolidationMetrics
    answers: AnswerCache = field(default_factory=AnswerCache)
    builds: OneBuildAtATime = field(default_factory=OneBuildAtATime)
    # Where answers are built (the service's worker process; without one, on the caller's
    # loop).
    answer_process: AnswerProcess | None = None


ContextDep = Annotated[ConsolidationContext, Depends(context_dependency(ConsolidationContext))]
