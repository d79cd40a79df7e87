"""The four APIs, running for real in a thread of their own, for a synchronous fuzzer.

Schemathesis calls the services with blocking HTTP requests, so the services cannot share
the test's event loop: they run in a background thread with their own loop, wired as the
integration tests wire them (a real nats-server with JetStream, the real registry issuing
the tokens that every other service verifies against its JWKS, real databases: SQLite, or
PostgreSQL when TEST_DATABASE_URL is set, a real SMTP server for the reminders).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.registry.tokens import issue_token
from services.reminders.app import create_app as create_reminders
from services.reminders.settings import RemindersSettings
from shared.auth import Principal
from tests.integration.reminders.support import smtp_server
from tests.support.databases import TestDatabases
from tests.support.http import eventually, serve_app
from tests.support.nats import NatsServer
from tests.support.reports import full_report

PASSWORD = "mat-khau-thu"
SERVICES = ("registry", "intake", "reminders", "consolidation")
# The unit whose clerk's token the fuzzer uses; and the privileged account.
UNIT = "18115"
ADMIN = "admin"


@dataclass
class Town:
    """Where each service listens and the tokens the fuzzer sends."""

    urls: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    openapi: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Path parameters that name things that exist, so cases reach past the 404.
    known: dict[str, str] = field(default_factory=dict)
    registry_app: Any = None

    def headers(self, who: str) -> dict[str, str]:
        """Authorization headers of `admin` or the unit's clerk."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def mint(self, principal: Principal) -> str:
        """A token the registry's current key signs, as sign-in would issue it: for roles
        that have no account to sign in with (an integration's `service`)."""
        settings = self.registry_app.state.context.settings
        return issue_token(
            principal,
            self.registry_app.state.context.keys.current(),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            now=datetime.now(UTC),
            ttl=timedelta(hours=1),
        )


async def _serve(root: Path, town: Town, ready: threading.Event, stop: asyncio.Event) -> None:
    server = NatsServer(root / "nats")
    server.start()
    databases = TestDatabases(root)
    common: dict[str, Any] = {"nats_url": server.url, "env": "test", "outbox_poll_seconds": 0.2}
    try:
        async with AsyncExitStack() as exits:
            registry = create_registry(
                RegistrySettings(
                    database_url=await databases.url("registry"),
                    demo_password=PASSWORD,
                    data_dir=root / "registry",
                    **common,
                )
            )
            town.urls["registry"] = await exits.enter_async_context(serve_app(registry))
            town.registry_app = registry
            jwks_url = f"{town.urls['registry']}/.well-known/jwks.json"
            _, smtp_port = await exits.enter_async_context(smtp_server())
            apps = {
                "intake": create_intake(
                    IntakeSettings(
                        database_url=await databases.url("intake"),
                        jwks_url=jwks_url,
                        data_dir=root / "intake",
                        **common,
                    )
                ),
                "reminders": create_reminders(
                    RemindersSettings(
                        database_url=await databases.url("reminders"),
                        jwks_url=jwks_url,
                        smtp_port=smtp_port,
                        data_dir=root / "reminders",
                        **common,
                    )
                ),
                "consolidation": create_consolidation(
                    ConsolidationSettings(
                        database_url=await databases.url("consolidation"),
                        jwks_url=jwks_url,
                        data_dir=root / "consolidation",
                        **common,
                    )
                ),
            }
            for name, app in apps.items():
                town.urls[name] = await exits.enter_async_context(serve_app(app))
            http = await exits.enter_async_context(httpx.AsyncClient(timeout=30))
            for who in (ADMIN, UNIT):
                answer = await http.post(
                    f"{town.urls['registry']}/v1/auth/token",
                    data={"username": who, "password": PASSWORD},
                )
                answer.raise_for_status()
                town.tokens[who] = answer.json()["access_token"]

            async def projected() -> bool:
                # The registry's units and periods have reached every consumer.
                form = await http.get(
                    f"{town.urls['intake']}/v1/periods/2023-H1/form", headers=town.headers(UNIT)
                )
                seen = await http.get(
                    f"{town.urls['consolidation']}/v1/periods/2023-H1/completeness",
                    headers=town.headers(ADMIN),
                )
                return form.status_code == 200 and seen.status_code == 200

            await eventually(projected, timeout=60)
            intake = town.urls["intake"]
            sent = await http.post(
                f"{intake}/v1/reports", json=full_report("2023-H1"), headers=town.headers(UNIT)
            )
            sent.raise_for_status()
            raised = await http.post(
                f"{intake}/v1/difficulties",
                json={"period_id": "2023-H1", "text": "Chưa có hướng dẫn chấm điểm."},
                headers=town.headers(UNIT),
            )
            raised.raise_for_status()
            town.known = {
                "period_id": "2023-H1",
                "report_id": sent.json()["report_id"],
                "difficulty_id": raised.json()["difficulty_id"],
                # Another unit and its account: the admin's cases may change or close them,
                # never the account whose token the fuzzer sends.
                "code": "18116",
                "username": "18116",
                "form_id": "dvcq-dinh-ky",
                "version": "2023.1",
            }
            for name in SERVICES:
                answer = await http.get(f"{town.urls[name]}/openapi.json")
                answer.raise_for_status()
                town.openapi[name] = answer.json()
            ready.set()
            await stop.wait()
    finally:
        await databases.drop_all()
        server.stop()


@contextmanager
def running_town(root: Path) -> Iterator[Town]:
    """Start the four services in a background thread; stop them on exit."""
    town = Town()
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(root, town, ready, stop))
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="fuzz-town", daemon=True)
    thread.start()
    if not ready.wait(timeout=180) or failure:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        raise RuntimeError(f"the services did not start: {failure!r}")
    try:
        yield town
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=120)
