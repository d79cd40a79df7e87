"""Registry composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.registry import api, db, handlers
from services.registry.metrics import RegistryMetrics
from services.registry.settings import RegistrySettings
from services.registry.tokens import SigningKey
from shared.auth import StaticKeySource, TokenVerifier
from shared.clock import Clock, SystemClock
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


class KeyRing:
    """The registry's active signing keys; it verifies its own tokens with them directly."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []

    def current(self) -> SigningKey:
        """The newest key, used for signing."""
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        """The public keys of every active key (old ones stay until their tokens expire)."""
        return {"keys": [k.public_jwk for k in self.keys]}


def create_app(settings: RegistrySettings | None = None, *, clock: Clock | None = None) -> Any:
    """Build the registry app; nothing connects until it starts."""
    settings = settings or RegistrySettings()
    clock = clock or SystemClock()
    runtime = ServiceRuntime(
        settings, outbox=db.outbox, inbox=None, publishes=[UnitChanged, PeriodChanged]
    )
    keys = KeyRing()

    async def startup() -> None:
        async with runtime.sessions() as session, session.begin():
            await handlers.seed(
                session,
                units=handlers.load_seed(settings.seed_file),
                years=settings.regime_years,
                demo_password=settings.demo_password if settings.seed_demo_accounts else None,
                now=clock.now(),
            )
        async with runtime.sessions() as session, session.begin():
            keys.keys = await handlers.signing_keys(
                session, settings.signing_key_passphrase, clock.now()
            )
        runtime.verifier = TokenVerifier(
            StaticKeySource(keys.jwks()),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
        )
        app.state.verifier = runtime.verifier

    app = runtime.create_app(
        title="Danh mục đơn vị và kỳ báo cáo (registry)",
        version="1.0",
        routers=[api.router],
        migrations_dir=MIGRATIONS,
        on_startup=[startup],
        state={
            "settings": settings,
            "clock": clock,
            "keys": keys,
            "metrics": RegistryMetrics(runtime.registry),
        },
    )
    return app
