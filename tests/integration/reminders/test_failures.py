"""Failing channels are retried, then recorded with their reason, and never block other units."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from fastapi import FastAPI, Request, Response

from services.reminders.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_webhook
from shared.clock import ManualClock
from shared.contracts.reminders import REMINDER_FAILED, ReminderFailed
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    close_period,
    jetstream,
    registry,
    reminders,
    reminders_settings,
    sent_pairs,
    set_contacts,
    smtp_server,
    vn,
    wait_for_projection,
)
from tests.support.http import eventually, serve_app

SECRET = "bi-mat-webhook"


@dataclass
class Gateway:
    """A webhook receiver: /fail answers 500, /ok checks the signature and accepts."""

    failed_calls: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/fail")
        async def fail() -> Response:
            self.failed_calls += 1
            return Response(status_code=500)

        @app.post("/ok")
        async def ok(request: Request) -> Response:
            body = await request.body()
            signature = sign_webhook(SECRET, request.headers[TIMESTAMP_HEADER], body)
            if request.headers[SIGNATURE_HEADER] != signature:
                return Response(status_code=401)
            self.accepted.append(json.loads(body))
            return Response(status_code=204)

        return app


@asynccontextmanager
async def gateway() -> AsyncIterator[tuple[Gateway, str]]:
    receiver = Gateway()
    async with serve_app(receiver.app()) as base:
        yield receiver, base


async def test_smtp_and_webhook_failures_are_retried_recorded_and_do_not_block_others(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 5, 4, 9))  # Thursday, after the 29/04–03/05 holidays
    reviewer = mint.headers("reviewer")
    async with (
        smtp_server() as (smtp, smtp_port),
        gateway() as (hooks, hooks_base),
        registry(nats_server.url, await databases.url("registry")) as registry_http,
        jetstream(nats_server.url) as js,
        reminders(
            reminders_settings(
                await databases.url("reminders"),
                nats_server.url,
                smtp_port,
                # The test's webhook receiver listens on 127.0.0.1: allowed for this test.
                webhook_allowed_networks=("127.0.0.1/32",),
            ),
            clock,
            mint,
        ) as service,
    ):
        contacts = {
            "18115": Contact(
                leader_email="lanhdao@bachong.test", emails=("vanphong@bachong.test",)
            ),
            "18118": Contact(emails=("vanphong@namhong.test",)),
            "18121": Contact(webhook_url=f"{hooks_base}/fail"),
            "18124": Contact(webhook_url=f"{hooks_base}/ok?token=bi-mat", emails=("khong-hop-le",)),
        }
        smtp.refuse["lanhdao@bachong.test"] = "451 4.3.0 Mailbox busy, try later"
        smtp.refuse_once["vanphong@namhong.test"] = "421 4.4.2 Timeout, try again"
        await close_period(registry_http, js, "2023-Y")  # one period keeps the counts simple
        await set_contacts(registry_http, js, contacts)
        await wait_for_projection(service, reviewer, contacts=contacts, missing=20)

        async def annual_closed() -> bool:
            response = await service.http.get("/v1/periods/2023-Y/missing", headers=reviewer)
            return bool(response.json()["status"] == "closed")

        await eventually(annual_closed)

        await service.run_once()

        assert sent_pairs(smtp.take()) == [
            (f"{PERIOD}/18115/opened", "vanphong@bachong.test"),
            (f"{PERIOD}/18118/opened", "vanphong@namhong.test"),
        ]
        assert smtp.rcpt_attempts["lanhdao@bachong.test"] == 3
        assert smtp.rcpt_attempts["vanphong@namhong.test"] == 2
        assert hooks.failed_calls == 3
        assert [a["unit_code"] for a in hooks.accepted] == ["18124"]
        assert hooks.accepted[0]["dedupe_key"] == f"{PERIOD}/18124/opened"

        log = (
            await service.http.get("/v1/reminders", params={"period_id": PERIOD}, headers=reviewer)
        ).json()
        outcomes = {
            (r["unit_code"], r["channel"], r["recipient"]): (
                r["outcome"],
                r["attempts"],
                r["reason_code"],
            )
            for r in log
        }
        assert outcomes[("18115", "email", "lanhdao@bachong.test")] == ("failed", 3, "smtp_451")
        assert outcomes[("18115", "email", "vanphong@bachong.test")] == ("sent", 1, "")
        assert outcomes[("18118", "email", "vanphong@namhong.test")] == ("sent", 2, "")
        assert outcomes[("18121", "webhook", f"{hooks_base}/fail")] == (
            "failed",
            3,
            "webhook_http_500",
        )
        # The webhook's token is not shown in the log.
        assert outcomes[("18124", "webhook", f"{hooks_base}/ok")] == ("sent", 1, "")
        assert outcomes[("18124", "email", "khong-hop-le")] == ("failed", 0, "invalid_address")
        assert outcomes[("18130", "none", "")] == ("undeliverable", 0, "no_contact")
        failed = next(r for r in log if r["recipient"] == "lanhdao@bachong.test")
        assert "451" in failed["reason"] and "Máy chủ thư" in failed["reason"]

        metrics = (await service.http.get("/metrics")).text
        assert 'danvan_reminders_total{channel="email",outcome="failed"} 2.0' in metrics
        assert 'danvan_reminders_total{channel="webhook",outcome="failed"} 1.0' in metrics
        assert 'danvan_reminders_total{channel="webhook",outcome="sent"} 1.0' in metrics

        # Each outcome is an event; the failures carry their reason.
        subscription = await js.pull_subscribe(REMINDER_FAILED, durable="test-failed")

        async def failure_events() -> list[ReminderFailed]:
            try:
                messages = await subscription.fetch(100, timeout=1)
            except nats.errors.TimeoutError:
                messages = []
            for message in messages:
                await message.ack()
            events.extend(ReminderFailed.model_validate_json(m.data) for m in messages)
            return [e for e in events if e.payload.reason_code == "smtp_451"]

        events: list[ReminderFailed] = []
        smtp_failures = await eventually(failure_events, timeout=20)
        assert smtp_failures[0].payload.recipient == "lanhdao@bachong.test"
        assert smtp_failures[0].payload.attempts == 3
