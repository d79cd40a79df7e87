"""Channels against a real SMTP server and a scripted HTTP transport."""

from __future__ import annotations

import asyncio
import email
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy as email_policy
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from services.reminders.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EmailChannel,
    OutgoingMessage,
    RetryPolicy,
    SmtpConfig,
    WebhookChannel,
    build_email,
    deliver_with_retries,
    sign_webhook,
)
from tests.support.nats import free_port

FAST = RetryPolicy(attempts=3, backoff_seconds=0.001, backoff_cap_seconds=0.01)
SENDER = "Phòng Nội vụ thị xã Hồng Lĩnh <don-doc@honglinh.test>"


def message(recipient: str = "vanphong@bachong.test") -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key="2023-H1/18115/before_3d",
        period_id="2023-H1",
        unit_code="18115",
        rule_id="before_3d",
        audience="unit",
        recipient=recipient,
        subject="Nhắc hạn báo cáo: 6 tháng đầu năm 2023 (còn 3 ngày)",
        body="Kính gửi: UBND phường Bắc Hồng\n",
        sent_at=datetime(2023, 6, 6, 1, 0, tzinfo=UTC),
    )


class Scripted:
    """SMTP handler answering RCPT with scripted replies, then accepting."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.rcpt_calls = 0
        self.received: list[email.message.EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ):
        self.rcpt_calls += 1
        if self.replies:
            return self.replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email_policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Scripted, int]]:
    handler = Scripted([])
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def email_channel(port: int) -> EmailChannel:
    return EmailChannel(SmtpConfig("127.0.0.1", port, SENDER, timeout_seconds=5))


async def test_email_is_delivered_utf8_with_a_stable_message_id(smtp) -> None:
    handler, port = smtp

    outcome = await deliver_with_retries(email_channel(port), message(), FAST)

    assert (outcome.outcome, outcome.attempts) == ("sent", 1)
    received = handler.received[0]
    assert received["Subject"] == message().subject
    assert received["X-Danvan-Reminder"] == "2023-H1/18115/before_3d"
    assert received.get_content().rstrip() == "Kính gửi: UBND phường Bắc Hồng"
    assert "Hồng Lĩnh" in str(received["From"])
    assert received["Message-ID"] == build_email(message(), SENDER)["Message-ID"]


async def test_temporary_smtp_refusal_is_retried_until_it_succeeds(smtp) -> None:
    handler, port = smtp
    handler.replies = ["451 4.3.0 Try again later"]

    outcome = await deliver_with_retries(email_channel(port), message(), FAST)

    assert (outcome.outcome, outcome.attempts) == ("sent", 2)
    assert len(handler.received) == 1


async def test_persistent_temporary_refusal_fails_after_every_attempt_with_its_reason(smtp) -> None:
    handler, port = smtp
    handler.replies = ["451 4.3.0 Try again later"] * 5

    outcome = await deliver_with_retries(email_channel(port), message(), FAST)

    assert (outcome.outcome, outcome.attempts, outcome.reason_code) == ("failed", 3, "smtp_451")
    assert "451" in outcome.reason and "Try again later" in outcome.reason
    assert handler.rcpt_calls == 3


async def test_permanent_refusal_is_not_retried(smtp) -> None:
    handler, port = smtp
    handler.replies = ["550 5.1.1 No such user"]

    outcome = await deliver_with_retries(email_channel(port), message(), FAST)

    assert (outcome.outcome, outcome.attempts, outcome.reason_code) == ("failed", 1, "smtp_550")


async def test_closed_port_is_retried_and_recorded_as_unreachable() -> None:
    outcome = await deliver_with_retries(email_channel(free_port()), message(), FAST)

    assert (outcome.outcome, outcome.attempts, outcome.reason_code) == (
        "failed",
        3,
        "smtp_unreachable",
    )
    assert "Không kết nối được máy chủ thư" in outcome.reason


async def test_smtp_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never sends the greeting

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = EmailChannel(SmtpConfig("127.0.0.1", port, SENDER, timeout_seconds=0.3))
    try:
        outcome = await deliver_with_retries(channel, message(), RetryPolicy(attempts=1))
    finally:
        server.close()

    assert (outcome.outcome, outcome.reason_code) == ("failed", "smtp_timeout")


# What the test's names resolve to: a public address (no connection is made, the transport
# is a mock), so the address check lets them through.
PUBLIC = "93.184.216.34"


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC]


def webhook(handler: Any, secret: str = "bi-mat") -> WebhookChannel:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WebhookChannel(
        client, secret=secret, gateway_url="https://sms.test/send", resolver=public_resolver
    )


async def test_webhook_body_is_signed_with_hmac_sha256_over_timestamp_and_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    outcome = await deliver_with_retries(
        webhook(handler), message("https://zalo.test/hook?token=x"), FAST
    )

    assert outcome.outcome == "sent"
    request = seen[0]
    timestamp = request.headers[TIMESTAMP_HEADER]
    expected = hmac.new(b"bi-mat", timestamp.encode() + b"." + request.content, hashlib.sha256)
    assert request.headers[SIGNATURE_HEADER] == f"sha256={expected.hexdigest()}"
    assert request.headers[SIGNATURE_HEADER] == sign_webhook("bi-mat", timestamp, request.content)
    payload = json.loads(request.content)
    assert payload["dedupe_key"] == "2023-H1/18115/before_3d" and payload["phone"] is None
    # Sent to the address that was checked, with the webhook's own name for Host and TLS.
    assert str(request.url) == f"https://{PUBLIC}/hook?token=x"
    assert request.headers["Host"] == "zalo.test"
    assert request.extensions["sni_hostname"] == "zalo.test"


async def test_phone_recipient_goes_to_the_gateway() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    await deliver_with_retries(webhook(handler), message("0912345678"), FAST)

    assert str(seen[0].url) == "https://sms.test/send"
    assert json.loads(seen[0].content)["phone"] == "0912345678"


@pytest.mark.parametrize(("status", "attempts"), [(500, 3), (503, 3), (429, 3), (400, 1), (404, 1)])
async def test_webhook_errors_retry_only_when_a_retry_may_help(status: int, attempts: int) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status)

    outcome = await deliver_with_retries(webhook(handler), message("https://x.test/h"), FAST)

    assert (outcome.outcome, outcome.attempts, calls) == ("failed", attempts, attempts)
    assert outcome.reason_code == f"webhook_http_{status}"


async def test_webhook_timeout_is_recorded_as_such() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    outcome = await deliver_with_retries(webhook(handler), message("https://x.test/h"), FAST)

    assert (outcome.outcome, outcome.attempts, outcome.reason_code) == (
        "failed",
        3,
        "webhook_timeout",
    )


async def test_a_crashing_channel_is_recorded_not_raised() -> None:
    class Broken:
        name = "email"

        async def send(self, message: OutgoingMessage) -> None:
            raise RuntimeError("bug")

    outcome = await deliver_with_retries(Broken(), message(), FAST)

    assert (outcome.outcome, outcome.reason_code) == ("failed", "internal_error")


def test_a_long_vietnamese_subject_keeps_every_space_when_read_back():
    subject = (
        "Mở kỳ báo cáo: Báo cáo công tác Dân vận chính quyền năm 2027 "
        "(hạn gửi trước ngày 25/11/2027)"
    )
    message = OutgoingMessage(
        dedupe_key="2027-Y/18115/opened",
        period_id="2027-Y",
        unit_code="18115",
        rule_id="opened",
        audience="unit",
        recipient="vanthu.18115@honglinh.invalid",
        subject=subject,
        body="Kính gửi: UBND phường Bắc Hồng",
        sent_at=datetime(2026, 11, 27, 8, tzinfo=UTC),
    )
    raw = build_email(message, "Phòng Nội vụ <pnv@honglinh.invalid>").as_bytes()
    read_back = email.message_from_bytes(raw, policy=email_policy.default)
    assert read_back["Subject"] == subject
