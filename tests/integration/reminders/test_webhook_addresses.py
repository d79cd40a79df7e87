"""Units' webhooks that lead inside the data centre are refused, with the reason in the
delivery log; an allowed address is called, at the address that was checked (the real
registry, NATS, SMTP, and an HTTP receiver on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.clock import ManualClock
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    close_period,
    jetstream,
    registry,
    reminders,
    reminders_settings,
    set_contacts,
    smtp_server,
    vn,
    wait_for_projection,
)
from tests.support.http import eventually, serve_app

# What the test's host names resolve to: one leads inside, one to the allowed receiver.
NAMES = {"sms.honglinh.test": ["10.20.30.40"], "zalo.honglinh.test": ["127.0.0.1"]}


async def resolver(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(f"unknown test name {host}")
    return NAMES[host]


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[list[str], int]]:
    """An HTTP receiver on 127.0.0.1 recording the Host of every call."""
    hosts: list[str] = []

    async def ok(request: Request) -> Response:
        hosts.append(request.headers["host"])
        return Response(status_code=204)

    async with serve_app(Starlette(routes=[Route("/ok", ok, methods=["POST"])])) as base:
        yield hosts, httpx.URL(base).port or 80


async def test_internal_webhooks_are_refused_with_a_vietnamese_reason_in_the_log(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 5, 4, 9))  # Thursday, after the 29/04–03/05 holidays
    reviewer = mint.headers("reviewer")
    async with (
        smtp_server() as (_, smtp_port),
        receiver() as (hosts, port),
        registry(nats_server.url, await databases.url("registry")) as registry_http,
        jetstream(nats_server.url) as js,
        reminders(
            reminders_settings(
                await databases.url("reminders"),
                nats_server.url,
                smtp_port,
                webhook_allowed_networks=("127.0.0.1/32",),
            ),
            clock,
            mint,
            resolver=resolver,
        ) as service,
    ):
        hooks = {
            "18115": f"http://127.0.0.1:{port}/ok",  # allowed
            "18118": "http://10.1.2.3/hook",
            "18121": "http://169.254.169.254/latest/meta-data/",
            "18124": f"http://[::1]:{port}/ok",  # loopback, but only 127.0.0.1 is allowed
            "18127": f"http://sms.honglinh.test:{port}/ok",  # resolves inside
            "18130": f"http://zalo.honglinh.test:{port}/ok?token=bi-mat",  # resolves to allowed
        }
        contacts = {code: Contact(webhook_url=url) for code, url in hooks.items()}
        await close_period(registry_http, js, "2023-Y")
        await set_contacts(registry_http, js, contacts)
        await wait_for_projection(service, reviewer, contacts=contacts, missing=20)

        async def annual_closed() -> bool:
            response = await service.http.get("/v1/periods/2023-Y/missing", headers=reviewer)
            return bool(response.json()["status"] == "closed")

        await eventually(annual_closed)
        await service.run_once()

        # Only the allowed receiver was called: once by address, once by its name.
        assert sorted(hosts) == sorted([f"127.0.0.1:{port}", f"zalo.honglinh.test:{port}"])
        response = await service.http.get(
            "/v1/reminders", params={"period_id": PERIOD}, headers=reviewer
        )
        log: dict[str, Any] = {
            r["unit_code"]: r for r in response.json() if r["channel"] == "webhook"
        }
        assert {code: log[code]["outcome"] for code in hooks} == {
            "18115": "sent",
            "18118": "failed",
            "18121": "failed",
            "18124": "failed",
            "18127": "failed",
            "18130": "sent",
        }
        for code, words, attempts in (
            ("18118", "Địa chỉ webhook 10.1.2.3 trỏ tới mạng nội bộ", 0),
            ("18121", "Địa chỉ webhook 169.254.169.254 trỏ tới địa chỉ link-local", 0),
            ("18124", "Địa chỉ webhook ::1 trỏ tới máy cục bộ (loopback)", 0),
            # A name is resolved when sending, and refused then (no retry helps).
            ("18127", "Địa chỉ webhook sms.honglinh.test (10.20.30.40) trỏ tới mạng nội bộ", 1),
        ):
            entry = log[code]
            assert entry["reason_code"] == "webhook_address_refused", code
            assert entry["reason"].startswith(words), entry["reason"]
            assert "DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS" in entry["reason"]
            assert entry["attempts"] == attempts, code
        assert log["18130"]["recipient"] == f"http://zalo.honglinh.test:{port}/ok"  # no token
