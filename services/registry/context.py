"""What the registry's routes need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.domain import RegimeRule
from services.registry.keyring import KeyRing
from services.registry.metrics import RegistryMetrics
from services.registry.settings import RegistrySettings
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class RegistryContext:
    """Settings, clock, database sessions, metrics, the signing key ring and the regime."""

    settings: RegistrySettings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    metrics: RegistryMetrics
    keys: KeyRing
    regime: tuple[RegimeRule, ...]


ContextDep = Annotated[RegistryContext, Depends(context_dependency(RegistryContext))]
