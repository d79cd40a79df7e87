"""The town for the revocation tests: the real registry, two intake replicas on one database,
reminders and consolidation, over one real nats-server; each verifies with the registry's
JWKS and keeps its own token revocations."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
from fastapi import FastAPI
from nats.js.errors import NotFoundError

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.portal.app import create_app as create_portal
from services.portal.session import COOKIE_NAME, decode_session
from services.portal.settings import PortalSettings
from services.registry import db as registry_db
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.reminders.app import create_app as create_reminders
from shared.contracts.registry import RevocationReason, TokenRevocation, TokensRevoked
from shared.contracts.streams import ALL_STREAMS
from shared.messaging.outbox import add_event
from tests.integration.reminders.support import reminders_settings
from tests.support.http import eventually, serve_app
from tests.support.nats import free_port

PASSWORD = "mat-khau-thu"
REVOKED_WITHIN = 5.0  # seconds, issue 9.4

# What each service is asked with the token: a route any signed-in account reaches past the
# token check (the answer may still be 403 for a role; only 401 means the token was refused).
PROBES: dict[str, str] = {
    "registry": "/v1/me",
    "intake": "/v1/reports",
    "intake-2": "/v1/reports",
    "reminders": "/v1/reminders",
    "consolidation": "/v1/periods",
}
PORTAL_SECRET = "phien-dang-nhap-" * 3


@dataclass
class Town:
    urls: dict[str, str]
    registry_app: FastAPI
    http: httpx.AsyncClient
    stack: contextlib.AsyncExitStack
    intake_settings: IntakeSettings
    apps: dict[str, FastAPI] = field(default_factory=dict)
    probes: dict[str, str] = field(default_factory=lambda: dict(PROBES))

    @property
    def registry(self) -> str:
        return self.urls["registry"]

    async def token(self, username: str, password: str = PASSWORD) -> str:
        answer = await self.http.post(
            f"{self.registry}/v1/auth/token", data={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token('admin')}"}

    async def answers(self, token: str, services: Any = None) -> dict[str, tuple[int, str]]:
        """Each service's (status, error code) for a request with the token."""
        found: dict[str, tuple[int, str]] = {}
        for name in services or self.probes:
            answer = await self.http.get(
                f"{self.urls[name]}{self.probes[name]}",
                headers={"Authorization": f"Bearer {token}"},
            )
            code = ""
            if answer.status_code >= 400:
                code = str(answer.json().get("error", {}).get("code", ""))
            found[name] = (answer.status_code, code)
        return found

    async def revoke_through_outbox(
        self,
        subject: str,
        reason: RevocationReason,
        *,
        valid_after: datetime | None = None,
        token_id: str | None = None,
    ) -> None:
        """A TokensRevoked written to the registry's outbox, published by its real relay."""
        now = datetime.now(UTC)
        entry = TokenRevocation(
            subject=subject,
            valid_after=valid_after or (now if token_id is None else None),
            token_id=token_id,
            forget_after=now + timedelta(hours=1),
            reason=reason,
        )
        context = self.registry_app.state.context
        async with context.store.transaction() as session:
            await add_event(
                session, registry_db.outbox, TokensRevoked.new(entry, producer="registry")
            )

    @contextlib.asynccontextmanager
    async def portal_user(self, username: str) -> AsyncIterator[PortalUser]:
        """A browser signed in at the portal."""
        async with httpx.AsyncClient(base_url=self.urls["portal"], timeout=30) as browser:
            page = await browser.get("/dang-nhap")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            signed_in = await browser.post(
                "/dang-nhap",
                data={"csrf_token": csrf.group(1), "username": username, "password": PASSWORD},
            )
            assert signed_in.status_code == 303, signed_in.text
            yield PortalUser(browser)

    async def start_intake(self, name: str) -> None:
        app = create_intake(self.intake_settings)
        self.apps[name] = app
        self.urls[name] = await self.stack.enter_async_context(serve_app(app))
        self.probes[name] = "/v1/reports"


@dataclass
class PortalUser:
    browser: httpx.AsyncClient

    @property
    def token(self) -> str:
        """The registry token the portal keeps in this browser's session cookie."""
        session = decode_session(
            self.browser.cookies.get(COOKIE_NAME),
            PORTAL_SECRET,
            now=int(time.time()),
            max_age=3600,
        )
        assert session is not None and session.token is not None
        return session.token

    async def signed_in(self) -> bool:
        """The home page shows (a refused token sends the browser to the sign-in page)."""
        home = await self.browser.get("/")
        if home.status_code == 303 and home.headers["location"].startswith("/dang-nhap"):
            return False
        assert home.status_code in (200, 303), home.text  # 303: a reviewer's start page
        return True

    async def sign_out(self) -> None:
        home = await self.browser.get("/", follow_redirects=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert csrf
        answer = await self.browser.post("/dang-xuat", data={"csrf_token": csrf.group(1)})
        assert answer.status_code == 303


async def caught_up(nats_url: str, timeout: float = 60.0) -> None:
    """Wait until every durable consumer has applied what was published so far (the seed's
    units and periods): the tests measure revocation in steady state. A revocation waits
    behind a service's backlog, since a service applies one event at a time."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()

        async def idle() -> bool:
            for stream in ALL_STREAMS:
                try:
                    consumers = await js.consumers_info(stream.name)
                except NotFoundError:
                    continue
                if any(c.num_pending or c.num_ack_pending for c in consumers):
                    return False
            return True

        await eventually(idle, timeout=timeout, interval=0.1)
    finally:
        await connection.close()


def accepted(answers: dict[str, tuple[int, str]]) -> bool:
    """Every service let the token through its check."""
    return all(status != 401 for status, _ in answers.values())


def refused(answers: dict[str, tuple[int, str]]) -> bool:
    """Every service refused the token as revoked."""
    return all(answer == (401, "token_revoked") for answer in answers.values())


@contextlib.asynccontextmanager
async def town(
    nats_server: Any,
    databases: Any,
    tmp_path: Any,
    *,
    registry_overrides: dict[str, Any] | None = None,
    portal_overrides: dict[str, Any] | None = None,
) -> AsyncIterator[Town]:
    """The town; the overrides are settings of the registry and of the portal."""
    common: dict[str, Any] = {"nats_url": nats_server.url, "env": "test"}
    registry_app = create_registry(
        RegistrySettings(
            database_url=await databases.url("registry"),
            demo_password=PASSWORD,
            outbox_poll_seconds=0.2,
            **common,
            **(registry_overrides or {}),
        )
    )
    async with contextlib.AsyncExitStack() as stack, httpx.AsyncClient(timeout=30) as http:
        registry = await stack.enter_async_context(serve_app(registry_app))
        jwks_url = f"{registry}/.well-known/jwks.json"
        intake_settings = IntakeSettings(
            database_url=await databases.url("intake"),
            jwks_url=jwks_url,
            data_dir=tmp_path / "intake",
            outbox_poll_seconds=0.2,
            **common,
        )
        result = Town({"registry": registry}, registry_app, http, stack, intake_settings)
        await result.start_intake("intake")
        await result.start_intake("intake-2")  # a second replica on the same database
        result.urls["reminders"] = await stack.enter_async_context(
            serve_app(
                create_reminders(
                    reminders_settings(
                        await databases.url("reminders"),
                        nats_server.url,
                        free_port(),
                        jwks_url=jwks_url,
                    )
                )
            )
        )
        result.urls["consolidation"] = await stack.enter_async_context(
            serve_app(
                create_consolidation(
                    ConsolidationSettings(
                        database_url=await databases.url("consolidation"),
                        jwks_url=jwks_url,
                        **common,
                    )
                )
            )
        )
        result.urls["portal"] = await stack.enter_async_context(
            serve_app(
                create_portal(
                    PortalSettings(
                        env="test",
                        registry_url=registry,
                        intake_url=result.urls["intake"],
                        reminders_url=result.urls["reminders"],
                        consolidation_url=result.urls["consolidation"],
                        session_secret=PORTAL_SECRET,
                        **(portal_overrides or {}),
                    )
                )
            )
        )
        await caught_up(nats_server.url)
        yield result
