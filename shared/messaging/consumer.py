"""Subscriptions: idempotent handling, retries with backoff, dead letters after a bound."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.exceptions import NackMessage
from faststream.nats import NatsMessage
from pydantic import BaseModel, ValidationError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import logs
from shared.backoff import Backoff
from shared.contracts.streams import dead_letter_subject
from shared.messaging.inbox import claim_event
from shared.messaging.provision import ConsumerSpec
from shared.metrics import MessagingMetrics

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One subject, its contract and the handler applied in a transaction."""

    contract: type[BaseModel]
    handler: Handler

    @property
    def subject(self) -> str:
        """The subject named by the contract."""
        return str(getattr(self.contract, "subject"))  # noqa: B009


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often a failing event is retried, and how long to wait between tries."""

    max_deliver: int = 5
    backoff_seconds: float = 0.5
    backoff_cap_seconds: float = 60.0

    def delay(self, attempt: int) -> float:
        """The NAK delay after the given delivery attempt (1-based), the shared back-off."""
        return Backoff(self.backoff_seconds, self.backoff_cap_seconds).delay(attempt)


class EventProcessor:
    """Applies one message: parse, claim the event id, run the handler, all in one transaction."""

    def __init__(
        self,
        spec: ConsumerSpec,
        subscription: Subscription,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        policy: DeliveryPolicy,
        metrics: MessagingMetrics,
        dead_letter: Callable[[str, bytes, dict[str, str]], Awaitable[None]],
        lock: asyncio.Lock,
    ) -> None:
        self.spec = spec
        self.subscription = subscription
        self._sessions = sessions
        self._inbox = inbox
        self._policy = policy
        self._metrics = metrics
        self._dead_letter = dead_letter
        self._lock = lock

    async def __call__(self, body: Any, msg: NatsMessage) -> None:
        raw = msg.raw_message
        attempt = int(raw.metadata.num_delivered) if raw.metadata else 1
        subject = self.subscription.subject
        try:
            event = self.subscription.contract.model_validate_json(msg.body)
        except ValidationError as exc:
            await self._to_dead_letters(msg, attempt, "invalid_event", str(exc)[:1000])
            return
        event_id = str(getattr(event, "event_id", ""))
        logs.event_id.set(event_id)  # each message runs in its own task: no reset needed
        try:
            async with self._lock, self._sessions() as session, session.begin():
                if not await claim_event(session, self._inbox, self.spec.durable, event_id):
                    self._metrics.event(subject, "duplicate")
                    return
                await self.subscription.handler(session, event)
        except Exception as exc:
            if attempt >= self._policy.max_deliver:
                log.error(
                    "event %s on %s failed %d times; dead-lettering", event_id, subject, attempt
                )
                await self._to_dead_letters(msg, attempt, "handler_failed", repr(exc)[:1000])
                return
            delay = self._policy.delay(attempt)
            log.warning(
                "event %s on %s failed (attempt %d), retrying in %.1fs",
                event_id,
                subject,
                attempt,
                delay,
                exc_info=True,
            )
            self._metrics.event(subject, "retried")
            raise NackMessage(delay=delay) from exc
        self._metrics.event(subject, "processed")

    async def _to_dead_letters(
        self, msg: NatsMessage, attempt: int, reason: str, error: str
    ) -> None:
        raw = msg.raw_message
        sequence = raw.metadata.sequence.stream if raw.metadata else 0
        headers = {
            "Nats-Msg-Id": f"dlq:{self.spec.durable}:{sequence}",
            "Danvan-Original-Subject": self.subscription.subject,
            "Danvan-Original-Sequence": str(sequence),
            "Danvan-Consumer": self.spec.durable,
            "Danvan-Reason": reason,
            "Danvan-Error": error.replace("\n", " ")[:500],
            "Danvan-Deliveries": str(attempt),
        }
        try:
            await self._dead_letter(
                dead_letter_subject(self.spec.durable, self.subscription.subject),
                bytes(msg.body),
                headers,
            )
        except Exception as exc:
            # Not acknowledged: the message stays and is dead-lettered on a later delivery.
            log.warning("dead-lettering seq %s failed; will retry", sequence, exc_info=True)
            raise NackMessage(delay=self._policy.delay(attempt)) from exc
        self._metrics.event(self.subscription.subject, "dead_lettered")
        self._metrics.dead_letters.labels(self._metrics.service, self.subscription.subject).inc()
        log.error("seq %s of %s dead-lettered: %s", sequence, self.subscription.subject, reason)
