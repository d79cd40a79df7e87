"""What intake's routes and use cases need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.storage import AttachmentStore
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class IntakeContext:
    """Settings, clock, database sessions (opened only by `store.py`), metrics and the folder
    of attachment files."""

    settings: IntakeSettings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    metrics: IntakeMetrics
    files: AttachmentStore


ContextDep = Annotated[IntakeContext, Depends(context_dependency(IntakeContext))]
