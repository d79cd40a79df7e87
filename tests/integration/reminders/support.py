"""The reminders service in tests: a real SMTP server, the real registry, events over NATS."""

from __future__ import annotations

import email
import threading
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from typing import Any

import httpx
import nats
from aiosmtpd.controller import Controller

from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.reminders.app import create_app
from services.reminders.settings import RemindersSettings
from shared.clock import VN_TZ, ManualClock
from shared.contracts.envelope import Envelope
from shared.contracts.intake import (
    ReportReview,
    ReportReviewed,
    ReportSubmitted,
    ReportVersion,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.contracts.registry import (
    Contacts,
    Leader,
    PeriodChanged,
    PeriodState,
    UnitChanged,
    UnitState,
)
from tests.support.http import eventually, serve_app
from tests.support.nats import free_port

PERIOD = "2023-H1"
DEMO_PASSWORD = "mat-khau-thu"
REVIEWER_EMAIL = "pnv@honglinh.test"


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local Asia/Ho_Chi_Minh instant."""
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server got it, per envelope recipient."""

    recipient: str
    key: str
    subject: str
    body: str


@dataclass
class SmtpRecorder:
    """aiosmtpd handler that records messages and can refuse chosen recipients."""

    messages: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    refuse_once: dict[str, str] = field(default_factory=dict)
    rcpt_attempts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self._lock:
            self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
            reply = self.refuse.get(address) or self.refuse_once.pop(address, None)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email_policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append(
                    Received(rcpt, str(message["X-Danvan-Reminder"]), str(message["Subject"]), text)
                )
        return "250 OK"

    def take(self) -> list[Received]:
        """The messages received since the last call."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[SmtpRecorder, int]]:
    """A real SMTP server on a free port."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def sent_pairs(messages: Iterable[Received], period: str | None = PERIOD) -> list[tuple[str, str]]:
    """(dedupe key, recipient) of the messages about one period (all when None), sorted."""
    prefix = f"{period}/" if period else ""
    return sorted((m.key, m.recipient) for m in messages if m.key.startswith(prefix))


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[Any]:
    connection = await nats.connect(url)
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


async def publish(js: Any, event: Envelope[Any]) -> None:
    """Publish an event as its producer's relay would."""
    await js.publish(event.subject, event.to_json(), headers={"Nats-Msg-Id": str(event.event_id)})


@asynccontextmanager
async def registry(nats_url: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real registry (seeds Hồng Lĩnh and 2023-H1), signed in as admin."""
    settings = RegistrySettings(
        database_url=database_url,
        nats_url=nats_url,
        env="test",
        demo_password=DEMO_PASSWORD,
        outbox_poll_seconds=0.2,
    )
    async with (
        serve_app(create_registry(settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        login = await http.post(
            "/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}
        )
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield http


@dataclass(frozen=True)
class Contact:
    """What the test sets as a unit's leader and contacts."""

    leader_email: str = ""
    emails: tuple[str, ...] = ()
    webhook_url: str = ""


async def set_contacts(registry_http: httpx.AsyncClient, js: Any, contacts: dict[str, Contact]):
    """Publish newer UnitChanged events carrying leaders and contacts, as the registry would."""
    units = (await registry_http.get("/v1/units")).json()
    for view in units:
        if view["code"] not in contacts:
            continue
        contact = contacts[view["code"]]
        unit = UnitState.model_validate(view)
        changed = unit.model_copy(
            update={
                "leader": Leader(full_name="Lãnh đạo đơn vị", email=contact.leader_email),
                "contacts": Contacts(emails=contact.emails, webhook_url=contact.webhook_url),
                "version": unit.version + 1,
            }
        )
        await publish(js, UnitChanged.new(changed, producer="registry"))


async def change_period(
    registry_http: httpx.AsyncClient, js: Any, period_id: str, **changes: Any
) -> None:
    """Publish a newer PeriodChanged with some fields changed, as the registry would."""
    view = (await registry_http.get(f"/v1/periods/{period_id}")).json()
    view["expected_units"] = view["expected_unit_details"]
    period = PeriodState.model_validate(view)
    changed = period.model_copy(update={**changes, "version": period.version + 1})
    await publish(js, PeriodChanged.new(changed, producer="registry"))


async def close_period(registry_http: httpx.AsyncClient, js: Any, period_id: str) -> None:
    """The registry closes a period."""
    await change_period(registry_http, js, period_id, status="closed")


async def move_deadline(
    registry_http: httpx.AsyncClient, js: Any, period_id: str, due_at: datetime
) -> None:
    """The registry moves a period's deadline."""
    await change_period(registry_http, js, period_id, due_at=due_at)


def submitted(unit: str, at: datetime, *, version: int = 1, report_id: str | None = None):
    """A ReportSubmitted event for 2023-H1."""
    return ReportSubmitted.new(
        ReportVersion(
            report_id=report_id or f"r-{unit}",
            period_id=PERIOD,
            unit_code=unit,
            version=version,
            status="submitted",
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            first_submitted_at=at,
            submitted_at=at,
            on_time=at < vn(2023, 6, 10),
            content={},
            content_sha256="0" * 64,
        ),
        producer="intake",
    )


def withdrawn(unit: str, at: datetime, *, version: int = 1):
    """A ReportWithdrawn event for 2023-H1."""
    return ReportWithdrawn.new(
        ReportWithdrawal(
            report_id=f"r-{unit}",
            period_id=PERIOD,
            unit_code=unit,
            version=version,
            withdrawn_at=at,
        ),
        producer="intake",
    )


def returned(unit: str, at: datetime, reason: str, *, version: int = 1):
    """A ReportReviewed event sending the report back for revision."""
    return ReportReviewed.new(
        ReportReview(
            report_id=f"r-{unit}",
            period_id=PERIOD,
            unit_code=unit,
            version=version,
            decision="returned",
            reason=reason,
            reviewed_by="pnv",
            reviewed_at=at,
        ),
        producer="intake",
    )


@dataclass
class Reminders:
    """One running reminders instance: its app (scheduler, dispatcher) and an HTTP client."""

    app: Any
    http: httpx.AsyncClient

    async def run_once(self) -> Any:
        return await self.app.state.context.scheduler.run_once()

    async def missing(self, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.http.get(f"/v1/periods/{PERIOD}/missing", headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def reminders_settings(
    database_url: str, nats_url: str, smtp_port: int, **overrides: Any
) -> RemindersSettings:
    """Settings for tests: no background loop (tests run passes), quick retries."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "env": "test",
        "outbox_poll_seconds": 0.2,
        "consumer_backoff_seconds": 0.1,
        "scheduler_enabled": False,
        "smtp_port": smtp_port,
        "smtp_timeout_seconds": 5,
        "delivery_attempts": 3,
        "retry_backoff_seconds": 0.01,
        "reviewer_emails": (REVIEWER_EMAIL,),
        "portal_url": "http://cong.honglinh.test",
        "webhook_secret": "bi-mat-webhook",
        "webhook_timeout_seconds": 2,
        "letter_signer_name": "Nguyễn Văn A",
    }
    values.update(overrides)
    return RemindersSettings(**values)


@asynccontextmanager
async def reminders(
    settings: RemindersSettings, clock: ManualClock, mint: Any, *, resolver: Any = None
) -> AsyncIterator[Reminders]:
    """A reminders instance over real HTTP, ready (NATS connected, subscribers running);
    `resolver` answers for webhook host names instead of the system's."""
    app = create_app(
        settings,
        clock=clock,
        key_source=mint.key_source(),
        **({"resolver": resolver} if resolver is not None else {}),
    )
    async with serve_app(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await eventually(ready, timeout=20)
        yield Reminders(app, http)


@asynccontextmanager
async def reminder_stack(
    nats_server: Any, databases: Any, clock: ManualClock, mint: Any
) -> AsyncIterator[tuple[SmtpRecorder, httpx.AsyncClient, Any, Reminders]]:
    """A real SMTP server, the registry, a JetStream handle and a ready reminders service."""
    async with (
        smtp_server() as (smtp, smtp_port),
        registry(nats_server.url, await databases.url("registry")) as registry_http,
        jetstream(nats_server.url) as js,
        reminders(
            reminders_settings(await databases.url("reminders"), nats_server.url, smtp_port),
            clock,
            mint,
        ) as service,
    ):
        yield smtp, registry_http, js, service


async def wait_for_projection(
    service: Reminders,
    headers: dict[str, str],
    *,
    contacts: Iterable[str] = (),
    missing: int | None = None,
) -> dict[str, Any]:
    """Wait until the period is known, the contacts arrived and `missing` units are missing."""
    wanted = set(contacts)

    async def ready() -> dict[str, Any] | None:
        response = await service.http.get(f"/v1/periods/{PERIOD}/missing", headers=headers)
        if response.status_code != 200:
            return None
        view: dict[str, Any] = response.json()
        with_contact = {u["code"] for u in view["missing"] if u["has_contact"]}
        reported_contacts = wanted - {u["code"] for u in view["missing"]}
        if not wanted <= with_contact | reported_contacts:
            return None
        if missing is not None and view["missing_count"] != missing:
            return None
        return view

    result: dict[str, Any] = await eventually(ready, timeout=20)
    return result


def new_key() -> str:
    return uuid.uuid4().hex
