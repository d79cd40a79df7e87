"""Delivery channels: e-mail over SMTP and signed webhooks, each retried with backoff.

A channel raises `DeliveryError` with a stable code, a Vietnamese reason and whether trying
again may help (4xx SMTP replies, timeouts, refused connections, HTTP 5xx/408/429); permanent
refusals (5xx SMTP replies, HTTP 4xx) are not retried. `deliver_with_retries` turns the
result into an `Outcome` and never raises, so one failing recipient never stops the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal, Protocol

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from services.reminders.recipients import is_webhook_url
from services.reminders.webhook_addresses import (
    PinnedTarget,
    Resolver,
    WebhookAddressError,
    WebhookAddressPolicy,
    system_resolver,
)
from shared.backoff import Backoff

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Danvan-Signature"
TIMESTAMP_HEADER = "X-Danvan-Timestamp"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered reminder for one recipient."""

    dedupe_key: str
    period_id: str
    unit_code: str
    rule_id: str
    audience: str
    recipient: str
    subject: str
    body: str
    sent_at: datetime


class DeliveryError(Exception):
    """A delivery attempt failed: stable code, Vietnamese reason, whether a retry may help."""

    def __init__(self, code: str, reason: str, *, transient: bool) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.transient = transient


class Channel(Protocol):
    """Sends one message to one recipient, or raises DeliveryError."""

    name: str

    async def send(self, message: OutgoingMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how e-mail is submitted."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_seconds: float = 15.0


class EmailChannel:
    """Plain-text UTF-8 e-mail through the stdlib SMTP client, run in a worker thread."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: OutgoingMessage) -> None:
        """Submit the message to the SMTP server for one recipient."""
        email = build_email(message, self._config.sender)
        await asyncio.to_thread(self._submit, email, message.recipient)

    def _submit(self, email: EmailMessage, recipient: str) -> None:
        config = self._config
        try:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        except smtplib.SMTPResponseException as exc:
            raise _smtp_reply_error(exc.smtp_code, exc.smtp_error) from exc
        except OSError as exc:
            raise self._connection_error(exc) from exc
        try:
            smtp.ehlo()
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password)
            smtp.send_message(email, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _smtp_reply_error(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _smtp_reply_error(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):
                raise self._connection_error(exc) from exc
            raise DeliveryError(
                "smtp_disconnected", "Máy chủ thư ngắt kết nối giữa chừng", transient=True
            ) from exc
        except smtplib.SMTPException as exc:
            raise DeliveryError("smtp_error", f"Lỗi SMTP: {exc}", transient=True) from exc
        except OSError as exc:
            raise self._connection_error(exc) from exc
        finally:
            # Accepted is accepted: a failing QUIT must not turn a delivery into a retry.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connection_error(self, exc: OSError) -> DeliveryError:
        where = f"{self._config.host}:{self._config.port}"
        # smtplib reports a reply that timed out as a disconnection caused by the timeout.
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            return DeliveryError(
                "smtp_timeout",
                f"Máy chủ thư {where} không trả lời trong {self._config.timeout_seconds:g} giây",
                transient=True,
            )
        if isinstance(exc, ssl.SSLError):
            return DeliveryError(
                "smtp_tls", f"Lỗi STARTTLS với máy chủ thư {where}: {exc}", transient=True
            )
        return DeliveryError(
            "smtp_unreachable",
            f"Không kết nối được máy chủ thư {where} ({exc.strerror or exc})",
            transient=True,
        )


def _smtp_reply_error(code: int, text: bytes | str) -> DeliveryError:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = " ".join(message.split())
    if 400 <= code < 500:
        return DeliveryError(
            f"smtp_{code}", f"Máy chủ thư tạm thời từ chối ({code} {message})", transient=True
        )
    return DeliveryError(f"smtp_{code}", f"Máy chủ thư từ chối ({code} {message})", transient=False)


# Folding a long encoded header at 78 columns can leave the space between two words outside
# the encoded words, where readers drop it ("hạn gửitrước"); RFC 5322 allows 998.
_MAIL_POLICY = email_policy.SMTP.clone(max_line_length=998)


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The e-mail of one reminder; its Message-ID is stable, so a resent copy is recognisable."""
    email = EmailMessage(policy=_MAIL_POLICY)
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.sent_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(f"{message.dedupe_key}|{message.recipient}".encode()).hexdigest()
    email["Message-ID"] = f"<{digest[:40]}@{domain}>"
    email["X-Danvan-Reminder"] = message.dedupe_key
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body, charset="utf-8")
    return email


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, as sent in X-Danvan-Signature (sha256=...)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookChannel:
    """A signed JSON POST to the unit's webhook, or to the town's SMS/Zalo gateway for a phone."""

    name = "webhook"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        secret: str,
        gateway_url: str = "",
        timeout_seconds: float = 10.0,
        addresses: WebhookAddressPolicy | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._client = client
        self._secret = secret
        self._gateway_url = gateway_url
        self._timeout = timeout_seconds
        self._addresses = addresses or WebhookAddressPolicy()
        self._resolver = resolver

    async def send(self, message: OutgoingMessage) -> None:
        """POST the reminder; any 2xx answer is a delivery.

        A unit's own webhook is resolved and checked first (`webhook_addresses`), and the
        request goes to the checked address; the town's gateway is configuration."""
        pinned: PinnedTarget | None = None
        if is_webhook_url(message.recipient):
            url, phone = message.recipient, None
            try:
                pinned = await self._addresses.pin(url, self._resolver)
            except WebhookAddressError as exc:
                raise DeliveryError(exc.code, exc.reason, transient=exc.transient) from exc
        elif self._gateway_url:
            url, phone = self._gateway_url, message.recipient
        else:
            raise DeliveryError(
                "webhook_gateway_missing",
                "Chưa cấu hình cổng gửi tin nhắn (DANVAN_REMINDERS_WEBHOOK_GATEWAY_URL)",
                transient=False,
            )
        body = json.dumps(
            {
                "type": "danvan.reminder",
                "dedupe_key": message.dedupe_key,
                "period_id": message.period_id,
                "unit_code": message.unit_code,
                "rule_id": message.rule_id,
                "audience": message.audience,
                "phone": phone,
                "subject": message.subject,
                "text": message.body,
                "sent_at": message.sent_at.isoformat(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_webhook(self._secret, timestamp, body),
            "Idempotency-Key": hashlib.sha256(
                f"{message.dedupe_key}|{message.recipient}".encode()
            ).hexdigest(),
        }
        target = httpx.URL(url)
        extensions: dict[str, str] = {}
        if pinned is not None:
            # Connect to the address that was checked, not to whatever the name resolves to
            # by the time the connection opens; the name still goes in Host and in TLS.
            headers["Host"] = target.netloc.decode("ascii")
            headers["Connection"] = "close"  # no pooled connection is shared between hosts
            if target.scheme == "https":
                extensions["sni_hostname"] = target.raw_host.decode("ascii")
            target = target.copy_with(host=str(pinned.address))
        try:
            response = await self._client.post(
                target,
                content=body,
                headers=headers,
                timeout=self._timeout,
                extensions=extensions,
            )
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                "webhook_timeout",
                f"Webhook không trả lời trong {self._timeout:g} giây",
                transient=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(
                "webhook_unreachable", f"Không kết nối được webhook ({exc})", transient=True
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        raise DeliveryError(
            f"webhook_http_{status}",
            f"Webhook trả lời HTTP {status}",
            transient=status >= 500 or status in (408, 425, 429),
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts a delivery gets and how long to wait between them."""

    attempts: int = 4
    backoff_seconds: float = 2.0
    backoff_cap_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery after its retries."""

    outcome: Literal["sent", "failed"]
    attempts: int
    reason: str = ""
    reason_code: str = ""


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.transient


async def deliver_with_retries(
    channel: Channel, message: OutgoingMessage, policy: RetryPolicy
) -> Outcome:
    """Send with exponential backoff on transient errors; never raises."""
    attempts = 0
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=Backoff(policy.backoff_seconds, policy.backoff_cap_seconds).wait,
            retry=retry_if_exception(_is_transient),
            reraise=True,
        ):
            with attempt:
                attempts += 1
                await channel.send(message)
    except DeliveryError as exc:
        return Outcome("failed", attempts, exc.reason, exc.code)
    except Exception:
        # A bug in one channel must not stop the other deliveries; it is logged and recorded.
        log.exception("delivery of %s over %s crashed", message.dedupe_key, channel.name)
        return Outcome("failed", attempts, "Lỗi nội bộ khi gửi nhắc việc", "internal_error")
    return Outcome("sent", attempts)
