"""What the reminders' routes need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.reminders.dispatch import Dispatcher
from services.reminders.domain import ReminderPolicy
from services.reminders.letter import LetterConfig
from services.reminders.metrics import RemindersMetrics
from services.reminders.scheduler import Scheduler
from services.reminders.settings import RemindersSettings
from services.reminders.store import RemindersStore
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class RemindersContext:
    """Settings, clock, the store, the policy, metrics, the dispatcher, the scheduler and the
    urging letter's configuration."""

    settings: RemindersSettings
    clock: Clock
    store: RemindersStore
    policy: ReminderPolicy
    metrics: RemindersMetrics
    dispatcher: Dispatcher
    scheduler: Scheduler
    letter: LetterConfig


ContextDep = Annotated[RemindersContext, Depends(context_dependency(RemindersContext))]
