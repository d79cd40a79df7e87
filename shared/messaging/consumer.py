"""Subscriptions: idempotent handling, retries with backoff, dead letters after a bound.

A subscription applies each event in its own transaction (`handler`), or, when it opts in
with `batch`, the events of one fetch in one transaction: the inbox claims every event id of
the group in one statement (a redelivered event is a duplicate and is not applied again),
the batch handler applies the new ones in stream order, the transaction commits, and only
then is each message acknowledged. If the group's transaction fails, it is rolled back and
its events are applied one by one, in order, each in its own transaction: a poison event is
retried and dead-lettered alone while the others are applied, and an event whose key (e.g.
its report) follows one that failed is not applied ahead of it but redelivered after it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.exceptions import NackMessage
from faststream.nats import NatsMessage
from pydantic import BaseModel, ValidationError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import logs
from shared.backoff import Backoff
from shared.contracts.streams import dead_letter_subject
from shared.messaging.inbox import claim_event, claim_events
from shared.messaging.provision import ConsumerSpec
from shared.metrics import MessagingMetrics

log = logging.getLogger(__name__)

# How long past its back-off a failed event's key holds back later events of the key (its
# redelivery may go to another replica, which this process does not see).
BLOCK_GRACE_SECONDS = 30.0
# A held-back event comes back this long after its key's failed event.
HELD_BACK_MARGIN_SECONDS = 0.2

Handler = Callable[[AsyncSession, Any], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
KeyOf = Callable[[Any], str]


@dataclass(frozen=True)
class Subscription:
    """One subject, its contract and the handler applied in a transaction.

    `batch` opts in to batched consumption: it is given the new (not yet applied) events of
    one fetch, in stream order, and applies them in the caller's transaction. `key` names
    what the order matters for (a report's id): after a failure, an event is not applied
    ahead of an earlier one with the same key; without `key`, every event of the
    subscription keeps its order. `handler` stays the per-event form (rebuild, tests)."""

    contract: type[BaseModel]
    handler: Handler
    batch: BatchHandler | None = None
    key: KeyOf | None = None

    @property
    def subject(self) -> str:
        """The subject named by the contract."""
        return str(getattr(self.contract, "subject"))  # noqa: B009


def each(handler: Handler) -> BatchHandler:
    """A batch handler that applies a per-event handler to each event of the batch, in order,
    in the batch's one transaction (events whose handlers need no set-based form)."""

    async def apply(session: AsyncSession, events: Sequence[Any]) -> None:
        for event in events:
            await handler(session, event)

    return apply


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often a failing event is retried, and how long to wait between tries."""

    max_deliver: int = 5
    backoff_seconds: float = 0.5
    backoff_cap_seconds: float = 60.0

    def delay(self, attempt: int) -> float:
        """The NAK delay after the given delivery attempt (1-based), the shared back-off."""
        return Backoff(self.backoff_seconds, self.backoff_cap_seconds).delay(attempt)


@dataclass
class _Pending:
    """One parsed message waiting for its group's commit."""

    raw: Any  # the nats-py Msg
    event: Any
    event_id: str
    attempt: int
    sequence: int
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EventProcessor:
    """Applies one message: parse, claim the event id, run the handler, all in one transaction;
    with a batch handler, the messages of one fetch in one transaction (see the module)."""

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
        # Keys whose event failed and waits for its redelivery: (its sequence, until when, on
        # the monotonic clock). Later events of such a key are held back, across fetches.
        # Their redelivery time, too: held-back events are redelivered just after it.
        self._blocked: dict[str, tuple[int, float, float]] = {}

    async def __call__(self, body: Any, msg: NatsMessage) -> None:
        raw = msg.raw_message
        attempt = int(raw.metadata.num_delivered) if raw.metadata else 1
        subject = self.subscription.subject
        try:
            event = self.subscription.contract.model_validate_json(msg.body)
        except ValidationError as exc:
            await self._to_dead_letters(raw, attempt, "invalid_event", str(exc)[:1000])
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
                await self._to_dead_letters(raw, attempt, "handler_failed", repr(exc)[:1000])
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

    async def apply_batch(self, body: Any, msg: NatsMessage) -> None:
        """A fetched batch (FastStream's batch subscriber, manual acknowledgement): parse,
        apply in one transaction (see the module), then acknowledge each message, or have
        it redelivered after its back-off."""
        del body  # the raw messages are read instead
        group: list[_Pending] = []
        raws: list[Any] = list(msg.raw_message)  # type: ignore[call-overload]
        for raw in raws:
            attempt = int(raw.metadata.num_delivered) if raw.metadata else 1
            try:
                event = self.subscription.contract.model_validate_json(raw.data)
            except ValidationError as exc:
                try:
                    await self._to_dead_letters(raw, attempt, "invalid_event", str(exc)[:1000])
                except NackMessage as nack:
                    await raw.nak(delay=nack.extra_options.get("delay"))
                else:
                    await raw.ack()
                continue
            sequence = int(raw.metadata.sequence.stream) if raw.metadata else 0
            event_id = str(getattr(event, "event_id", ""))
            group.append(_Pending(raw, event, event_id, attempt, sequence))
        if not group:
            return
        async with self._lock:
            await self._apply_group(sorted(group, key=lambda i: i.sequence))
        for item in group:
            error = item.done.exception()
            if error is None:
                await item.raw.ack()
            else:
                delay = error.extra_options.get("delay") if isinstance(error, NackMessage) else None
                await item.raw.nak(delay=delay)

    async def _apply_group(self, group: list[_Pending]) -> None:
        batch = self.subscription.batch
        assert batch is not None
        subject = self.subscription.subject
        if self._blocked and any(self._blocking(i) for i in group):
            await self._one_by_one(group)  # an earlier event of one of its keys failed
            return
        try:
            async with self._sessions() as session, session.begin():
                new = await claim_events(
                    session, self._inbox, self.spec.durable, [i.event_id for i in group]
                )
                fresh: list[_Pending] = []
                for item in group:
                    if item.event_id in new:
                        new.discard(item.event_id)  # a second copy in the group is a duplicate
                        fresh.append(item)
                if fresh:
                    await batch(session, [i.event for i in fresh])
        except Exception as exc:
            if len(group) == 1:
                await self._settle_failed(group[0], exc)
                return
            log.warning(
                "a batch of %d events on %s failed; applying them one by one",
                len(group),
                subject,
                exc_info=True,
            )
            await self._one_by_one(group)
            return
        applied = {id(i) for i in fresh}
        for item in group:
            self._metrics.event(subject, "processed" if id(item) in applied else "duplicate")
            self._unblock(item)
            item.done.set_result(None)

    async def _one_by_one(self, group: list[_Pending]) -> None:
        """After a failed group: each event alone, in order; a key that failed holds back its
        later events (redelivered after it) so that their order is kept."""
        batch = self.subscription.batch
        assert batch is not None
        subject = self.subscription.subject
        held_back: set[str] = set()
        for item in group:
            key = self._key(item.event)
            if key in held_back or self._blocking(item):
                # Held back: redelivered just after the failed event's own redelivery. It may
                # use the server's spare deliveries (max_deliver + 3) before it gives up.
                if item.attempt >= self._policy.max_deliver + 2:
                    await self._settle_dead_letter(
                        item, "blocked_by_failed_event", "an earlier event of its key failed"
                    )
                else:
                    self._metrics.event(subject, "retried")
                    item.done.set_exception(NackMessage(delay=self._held_back_delay(key)))
                continue
            try:
                async with self._sessions() as session, session.begin():
                    if not await claim_event(
                        session, self._inbox, self.spec.durable, item.event_id
                    ):
                        self._metrics.event(subject, "duplicate")
                        self._unblock(item)
                        item.done.set_result(None)
                        continue
                    await batch(session, [item.event])
            except Exception as exc:
                if not await self._settle_failed(item, exc):
                    held_back.add(key)
                continue
            self._metrics.event(subject, "processed")
            self._unblock(item)
            item.done.set_result(None)

    def _key(self, event: Any) -> str:
        key = self.subscription.key
        return "" if key is None else key(event)

    def _blocking(self, item: _Pending) -> bool:
        """Whether an earlier event of the item's key failed and is still to be redelivered."""
        key = self._key(item.event)
        entry = self._blocked.get(key)
        if entry is None:
            return False
        sequence, until, _ = entry
        if time.monotonic() > until:
            del self._blocked[key]  # redelivered elsewhere (another replica), or gone
            return False
        return item.sequence > sequence

    def _held_back_delay(self, key: str) -> float:
        """NAK delay of a held-back event: just after its key's failed event is redelivered."""
        entry = self._blocked.get(key)
        due = entry[2] - time.monotonic() if entry is not None else 0.0
        return max(due, 0.0) + HELD_BACK_MARGIN_SECONDS

    def _unblock(self, item: _Pending) -> None:
        """The item was applied or dead-lettered: its key's later events may follow."""
        key = self._key(item.event)
        entry = self._blocked.get(key)
        if entry is not None and entry[0] == item.sequence:
            del self._blocked[key]

    async def _settle_failed(self, item: _Pending, exc: Exception) -> bool:
        """A failed event alone: dead-lettered after its last attempt (True), else redelivered
        after the back-off (False)."""
        subject = self.subscription.subject
        if item.attempt >= self._policy.max_deliver:
            log.error(
                "event %s on %s failed %d times; dead-lettering",
                item.event_id,
                subject,
                item.attempt,
                exc_info=exc,
            )
            settled = await self._settle_dead_letter(item, "handler_failed", repr(exc)[:1000])
            if settled:
                self._unblock(item)
            return settled
        delay = self._policy.delay(item.attempt)
        log.warning(
            "event %s on %s failed (attempt %d), retrying in %.1fs",
            item.event_id,
            subject,
            item.attempt,
            delay,
            exc_info=exc,
        )
        self._metrics.event(subject, "retried")
        now = time.monotonic()
        self._blocked[self._key(item.event)] = (
            item.sequence,
            now + delay + BLOCK_GRACE_SECONDS,
            now + delay,
        )
        item.done.set_exception(NackMessage(delay=delay))
        return False

    async def _settle_dead_letter(self, item: _Pending, reason: str, error: str) -> bool:
        """Dead-letter the event (True), or have it redelivered if that failed (False)."""
        try:
            await self._to_dead_letters(item.raw, item.attempt, reason, error)
        except NackMessage as nack:
            item.done.set_exception(nack)
            return False
        item.done.set_result(None)
        return True

    async def _to_dead_letters(self, raw: Any, attempt: int, reason: str, error: str) -> None:
        """Publish the message (a nats-py Msg) to the dead letters; NackMessage if that failed."""
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
                bytes(raw.data),
                headers,
            )
        except Exception as exc:
            # Not acknowledged: the message stays and is dead-lettered on a later delivery.
            log.warning("dead-lettering seq %s failed; will retry", sequence, exc_info=True)
            raise NackMessage(delay=self._policy.delay(attempt)) from exc
        self._metrics.event(self.subscription.subject, "dead_lettered")
        self._metrics.dead_letters.labels(self._metrics.service, self.subscription.subject).inc()
        log.error("seq %s of %s dead-lettered: %s", sequence, self.subscription.subject, reason)
