"""What the registry's routes and use cases need, complete when the app is built (`app.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.registry.domain import RegimeRule
from services.registry.keyring import KeyRing
from services.registry.metrics import RegistryMetrics
from services.registry.settings import RegistrySettings
from services.registry.store import RegistryStore
from shared.clock import Clock
from shared.http import context_dependency


@dataclass(frozen=True)
class RegistryContext:
    """Settings, clock, the store (the only way to the database), metrics, the signing key
    ring and the reporting regime."""

    settings: RegistrySettings
    clock: Clock
    store: RegistryStore
    metrics: RegistryMetrics
    keys: KeyRing
    regime: tuple[RegimeRule, ...]


ContextDep = Annotated[RegistryContext, Depends(context_dependency(RegistryContext))]
