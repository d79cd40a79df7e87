"""The real registry for tests: served over HTTP, on SQLite or PostgreSQL, with real NATS."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.clock import Clock, SystemClock
from shared.contracts.registry import PERIOD_CHANGED_V2, UNIT_CHANGED
from tests.support.http import eventually, serve_app

PASSWORD = "mat-khau-thu"
STREAM = "DANVAN_REGISTRY"


@dataclass
class Registry:
    """A running registry with an HTTP client and a way to read what it published."""

    base: str
    http: httpx.AsyncClient
    app: Any
    nats_url: str
    clock: Clock

    async def token(self, username: str, password: str = PASSWORD) -> str:
        """Sign in and return the bearer token."""
        answer = await self.http.post(
            "/v1/auth/token", data={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def auth(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Authorization headers for an account."""
        return {"Authorization": f"Bearer {await self.token(username, password)}"}

    async def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        """Everything on the registry stream so far (optionally one subject), in order."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(STREAM)
            found = []
            for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
                message = await js.get_msg(STREAM, seq)
                if subject is None or message.subject == subject:
                    if message.data is None:  # nats-py gives None for an empty payload
                        raise ValueError(f"{STREAM} message {seq} has no payload")
                    found.append(json.loads(message.data))
            return found
        finally:
            await nc.close()

    async def published(
        self, match: Callable[[dict[str, Any]], bool], subject: str, *, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Wait until at least one event of the subject matches; returns the matching ones."""

        async def found() -> list[dict[str, Any]]:
            return [e for e in await self.events(subject) if match(e)]

        result: list[dict[str, Any]] = await eventually(found, timeout=timeout)
        return result

    async def unit_events(self, code: str) -> list[dict[str, Any]]:
        """UnitChanged events of one code published so far."""
        return [e for e in await self.events(UNIT_CHANGED) if e["payload"]["code"] == code]

    async def period_events(self, period_id: str) -> list[dict[str, Any]]:
        """PeriodChanged events of one period published so far."""
        return [
            e
            for e in await self.events(PERIOD_CHANGED_V2)
            if e["payload"]["period_id"] == period_id
        ]

    async def drained(self) -> None:
        """Wait until the outbox has published everything committed so far."""
        from sqlalchemy import func, select

        from services.registry import db

        async def empty() -> bool:
            async with self.app.state.context.store.reading() as session:
                pending: int | None = await session.scalar(
                    select(func.count())
                    .select_from(db.outbox)
                    .where(db.outbox.c.published_at.is_(None))
                )
            return pending == 0

        await eventually(empty, timeout=10)


def registry_settings(database_url: str, nats_url: str, **extra: Any) -> RegistrySettings:
    """Test settings for a registry instance."""
    return RegistrySettings(
        database_url=database_url,
        nats_url=nats_url,
        env="test",
        demo_password=PASSWORD,
        outbox_poll_seconds=0.2,
        **extra,
    )


@contextlib.asynccontextmanager
async def running_registry(
    nats_server: Any,
    databases: Any,
    *,
    clock: Clock | None = None,
    database_url: str | None = None,
    **extra: Any,
) -> AsyncIterator[Registry]:
    """Start the registry on a fresh (or the given) database and serve it over HTTP."""
    url = database_url or await databases.url("registry")
    settings = registry_settings(url, nats_server.url, **extra)
    app = create_app(settings, clock=clock)
    async with serve_app(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        yield Registry(base, http, app, nats_server.url, clock or SystemClock())


def error(answer: httpx.Response) -> dict[str, Any]:
    """The error body of a refused request."""
    body: dict[str, Any] = answer.json()["error"]
    return body
