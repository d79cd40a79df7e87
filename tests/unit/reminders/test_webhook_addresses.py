"""Units' webhooks reach public addresses only, unless allowed: checked without waiting when
recorded, resolved and pinned when sent (a real HTTP server on 127.0.0.1 stands for the
internal service an attacker would aim at)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.reminders.channels import (
    OutgoingMessage,
    RetryPolicy,
    WebhookChannel,
    deliver_with_retries,
)
from services.reminders.recipients import Target, delivery_targets
from services.reminders.settings import RemindersSettings
from services.reminders.webhook_addresses import (
    ADDRESS_REFUSED,
    ALLOW_SETTING,
    DNS_FAILED,
    WebhookAddressPolicy,
    parse_networks,
)
from shared.contracts.registry import Contacts
from tests.support.http import serve_app

FAST = RetryPolicy(attempts=3, backoff_seconds=0.001, backoff_cap_seconds=0.01)
PUBLIC = "93.184.216.34"
OPEN = WebhookAddressPolicy()
LOOPBACK_ALLOWED = WebhookAddressPolicy(parse_networks(["127.0.0.1"]))


def message(recipient: str) -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key="2023-H1/18115/before_3d",
        period_id="2023-H1",
        unit_code="18115",
        rule_id="before_3d",
        audience="unit",
        recipient=recipient,
        subject="Nhắc hạn báo cáo",
        body="Kính gửi: UBND phường Bắc Hồng",
        sent_at=datetime(2023, 6, 6, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8001/v1/units", "máy cục bộ (loopback)"),
        ("http://127.8.9.10/", "máy cục bộ (loopback)"),
        ("http://10.1.2.3/hook", "mạng nội bộ"),
        ("http://192.168.1.20/hook", "mạng nội bộ"),
        ("https://172.16.5.4/hook", "mạng nội bộ"),
        ("http://169.254.169.254/latest/meta-data/", "địa chỉ link-local"),
        ("http://[::1]:4222/", "máy cục bộ (loopback)"),
        ("http://[::ffff:127.0.0.1]/", "máy cục bộ (loopback)"),
        ("http://[fe80::1]/", "địa chỉ link-local"),
        ("http://[fd12:3456::1]/", "mạng nội bộ"),
        ("http://0.0.0.0:8222/", "địa chỉ không xác định"),
        ("http://224.0.0.251/", "địa chỉ multicast"),
        ("http://100.64.0.1/", "địa chỉ không công khai"),
    ],
)
def test_an_address_written_as_a_non_public_ip_is_refused_without_any_lookup(
    url: str, kind: str
) -> None:
    refused = OPEN.literal_refusal(url)

    assert refused is not None and refused.code == ADDRESS_REFUSED and not refused.transient
    assert kind in refused.reason
    assert refused.reason.startswith("Địa chỉ webhook ") and ALLOW_SETTING in refused.reason


def test_public_addresses_names_and_allowed_networks_pass_the_check_at_once() -> None:
    assert OPEN.literal_refusal(f"https://{PUBLIC}/hook") is None
    assert OPEN.literal_refusal("https://zalo.example.vn/hook?token=x") is None  # resolved later
    assert LOOPBACK_ALLOWED.literal_refusal("http://127.0.0.1:9000/ok") is None
    assert LOOPBACK_ALLOWED.literal_refusal("http://127.0.0.2:9000/ok") is not None
    intranet = WebhookAddressPolicy(parse_networks(["10.20.0.0/16", "fd00::/8"]))
    assert intranet.literal_refusal("http://10.20.3.4/sms") is None
    assert intranet.literal_refusal("http://[fd00::5]/sms") is None
    assert intranet.literal_refusal("http://10.21.0.1/sms") is not None


def test_a_refused_webhook_is_a_target_with_its_reason_and_the_others_stay() -> None:
    contacts = Contacts(emails=("vanphong@bachong.test",), webhook_url="http://10.1.2.3/hook")

    targets = delivery_targets("unit", None, contacts, webhooks=OPEN)

    assert targets[0] == Target("email", "vanphong@bachong.test")
    [hook] = targets[1:]
    assert (hook.channel, hook.recipient, hook.problem) == (
        "webhook",
        "http://10.1.2.3/hook",
        ADDRESS_REFUSED,
    )
    assert hook.reason is not None and "10.1.2.3 trỏ tới mạng nội bộ" in hook.reason


def test_the_allowed_networks_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS", '["10.20.0.0/16", "mạng-a"]')
    with pytest.raises(ValidationError, match="mục thứ 2 \\('mạng-a'\\) không phải là địa chỉ"):
        RemindersSettings()
    monkeypatch.setenv("DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS", '["10.20.0.0/16"]')
    assert RemindersSettings().webhook_addresses().literal_refusal("http://10.20.1.1/") is None


class Receiver:
    """An HTTP server on 127.0.0.1 that records what reaches it."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.hosts.append(request.headers["host"])
            json.loads(await request.body())
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, int]]:
    server = Receiver()
    async with serve_app(server.app()) as base:
        yield server, httpx.URL(base).port or 80


def channel(
    client: httpx.AsyncClient, addresses: WebhookAddressPolicy, answers: list[list[str]]
) -> tuple[WebhookChannel, list[str]]:
    """A webhook channel whose resolver gives the scripted answers, one per lookup."""
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        answer = answers[min(len(asked), len(answers)) - 1]
        if not answer:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answer

    return WebhookChannel(client, secret="bi-mat", addresses=addresses, resolver=resolver), asked


async def test_an_internal_address_is_never_called_unless_allowed(
    receiver: tuple[Receiver, int],
) -> None:
    server, port = receiver
    async with httpx.AsyncClient() as client:
        refused, _ = channel(client, OPEN, [[PUBLIC]])
        allowed, _ = channel(client, LOOPBACK_ALLOWED, [[PUBLIC]])

        outcome = await deliver_with_retries(
            refused, message(f"http://127.0.0.1:{port}/hook"), FAST
        )
        assert (outcome.outcome, outcome.attempts, outcome.reason_code) == (
            "failed",
            1,
            ADDRESS_REFUSED,
        )
        assert "127.0.0.1 trỏ tới máy cục bộ (loopback)" in outcome.reason
        assert server.hosts == []

        sent = await deliver_with_retries(allowed, message(f"http://127.0.0.1:{port}/hook"), FAST)
        assert sent.outcome == "sent" and server.hosts == [f"127.0.0.1:{port}"]


@pytest.mark.parametrize(
    "answer", [["10.1.2.3"], ["169.254.169.254"], ["::1"], [PUBLIC, "127.0.0.1"]]
)
async def test_a_name_that_resolves_to_an_internal_address_is_refused_before_connecting(
    answer: list[str],
) -> None:
    called: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        called.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        hooks, asked = channel(client, OPEN, [answer])
        outcome = await deliver_with_retries(hooks, message("https://hook.example.vn/h"), FAST)

    assert (outcome.outcome, outcome.reason_code) == ("failed", ADDRESS_REFUSED)
    assert outcome.reason.startswith("Địa chỉ webhook hook.example.vn (")
    assert asked == ["hook.example.vn"] and called == []


async def test_the_request_goes_to_the_address_that_was_checked(
    receiver: tuple[Receiver, int],
) -> None:
    # The name resolves to an allowed address when checked, and to an internal one at any
    # later lookup (DNS rebinding): the request must go to the checked address.
    server, port = receiver
    async with httpx.AsyncClient() as client:
        hooks, asked = channel(client, LOOPBACK_ALLOWED, [["127.0.0.1"], ["10.9.9.9"]])
        outcome = await deliver_with_retries(
            hooks, message(f"http://hook.example.vn:{port}/hook?token=x"), FAST
        )

    assert outcome.outcome == "sent"
    assert asked == ["hook.example.vn"]  # one lookup, then the checked address
    assert server.hosts == [f"hook.example.vn:{port}"]  # the name still in Host


async def test_a_name_that_does_not_resolve_is_retried_then_recorded() -> None:
    async with httpx.AsyncClient() as client:
        hooks, asked = channel(client, OPEN, [[]])
        outcome = await deliver_with_retries(hooks, message("https://khong-co.example.vn/h"), FAST)

    assert (outcome.outcome, outcome.attempts, outcome.reason_code) == ("failed", 3, DNS_FAILED)
    assert outcome.reason.startswith(
        "Không phân giải được tên miền của webhook khong-co.example.vn"
    )
    assert len(asked) == 3
