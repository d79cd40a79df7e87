"""Registry composition root."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI

from services.registry import api, api_accounts, api_periods, api_units, db
from services.registry.context import RegistryContext
from services.registry.domain import RegimeRule
from services.registry.keyring import KeyRing
from services.registry.metrics import RegistryMetrics
from services.registry.passwords import PasswordChecker
from services.registry.settings import RegimeRuleSetting, RegistrySettings
from services.registry.store import RegistryStore
from services.registry.usecases import seeding
from shared.clock import Clock, SystemClock
from shared.contracts.registry import (
    PeriodChangedV2,
    PeriodExpectedUnits,
    TokensRevoked,
    UnitChanged,
)
from shared.db import Database
from shared.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def regime_rules(settings: RegistrySettings) -> tuple[RegimeRule, ...]:
    """The configured regime as domain rules."""
    forms = settings.periodic_form_schedule()
    return tuple(replace(_rule(r), forms=forms) for r in settings.regime)


def _rule(setting: RegimeRuleSetting) -> RegimeRule:
    def month_day(text: str) -> tuple[int, int]:
        month, day = text.split("-")
        return int(month), int(day)

    due = month_day(setting.due_before)
    start = month_day(setting.window_start)
    end = month_day(setting.window_end)
    return RegimeRule(
        suffix=setting.suffix,
        kind=setting.kind,
        title=setting.title,
        due_month=due[0],
        due_day=due[1],
        window_end_month=end[0],
        window_end_day=end[1],
        window_start_month=start[0],
        window_start_day=start[1],
        window_start_previous_year=setting.window_start_previous_year,
        form=(setting.form_id, setting.form_version) if setting.form_version else None,
    )


def create_app(settings: RegistrySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the registry app; nothing connects until it starts."""
    settings = settings or RegistrySettings()
    clock = clock or SystemClock()
    database = Database(settings.resolved_database_url)
    store = RegistryStore(database.sessions)
    # The registry verifies its own tokens straight from its key ring.
    keys = KeyRing(
        store,
        passphrase=settings.signing_key_passphrase,
        clock=clock,
        refresh_seconds=settings.key_refresh_seconds,
    )
    runtime = ServiceRuntime(
        settings,
        database,
        outbox=db.outbox,
        inbox=None,
        publishes=[UnitChanged, PeriodChangedV2, PeriodExpectedUnits, TokensRevoked],
        key_source=keys,
        # Its own revocations: written by its use cases, so it consumes none.
        revocations=db.token_revocations,
        consume_revocations=False,
        clock=clock,
    )
    assert runtime.revocation_feed is not None
    context = RegistryContext(
        settings=settings,
        clock=clock,
        store=store,
        metrics=RegistryMetrics(runtime.registry),
        keys=keys,
        regime=regime_rules(settings),
        passwords=PasswordChecker(settings.password_check_slots),
        revocations=runtime.revocation_feed.revocations,
    )

    async def startup() -> None:
        await seeding.start(context)

    return runtime.create_app(
        title="Danh mục đơn vị và kỳ báo cáo (registry)",
        version="1.0",
        routers=[api.router, api_units.router, api_periods.router, api_accounts.router],
        migrations_dir=MIGRATIONS,
        context=context,
        on_startup=[startup],
    )
