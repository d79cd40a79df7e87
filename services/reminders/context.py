"""What the reminders' routes need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reminders.dispatch import Dispatcher
from services.reminders.domain import ReminderPolicy
from services.reminders.letter import LetterConfig
from services.reminders.metrics import RemindersMetrics
from services.reminders.scheduler import Scheduler
from services.reminders.settings import RemindersSettings
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class RemindersContext:
    """Settings, clock, sessions, the policy, metrics, the dispatcher, the scheduler and the
    urging letter's configuration."""

    settings: RemindersSettings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    policy: ReminderPolicy
    metrics: RemindersMetrics
    dispatcher: Dispatcher
    scheduler: Scheduler
    letter: LetterConfig


ContextDep = Annotated[RemindersContext, Depends(context_dependency(RemindersContext))]
