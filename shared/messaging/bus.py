"""The NATS side of a service: broker, provisioning, subscriptions, relay, reconnection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.prometheus import NatsPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from shared.backoff import Backoff
from shared.contracts.streams import DEAD_LETTERS, stream_for_subject
from shared.messaging.consumer import DeliveryPolicy, EventProcessor, Subscription
from shared.messaging.fetch import install_batch_loop
from shared.messaging.provision import ConsumerSpec, provision
from shared.messaging.relay import OutboxRelay
from shared.metrics import MessagingMetrics
from shared.natsauth import broker_options, inbox_prefix, provision_scope
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

LAG_INTERVAL_SECONDS = 15.0

# Acknowledgements the relay's publish_async waits for at once (nats-py's bound).
PUBLISH_ASYNC_MAX_PENDING = 4000

# Connecting (and provisioning) again after a failure: 0.2 s, 0.4 s, … at most 5 s.
CONNECT_RETRY = Backoff(base_seconds=0.2, cap_seconds=5.0)


def _log_not_ready(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    log.warning("NATS not ready (%s); retrying in %.1fs", error, pause)


# How long a subscription's pull request waits for a message before it is sent again.
IDLE_PULL_SECONDS = 1.0


async def _undecoded(message: Any) -> None:
    """The handler's body argument, not decoded: the processor validates each message's raw
    bytes with its contract (`model_validate_json`), so FastStream's own JSON decoding of
    every message (and of a batch's, message by message) was done for nothing."""
    del message


class EventBus:
    """Connects in the background (a service starts and serves HTTP while NATS is down),
    provisions streams and consumers, then starts subscribers and the outbox relay."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        registry: CollectorRegistry,
        metrics: MessagingMetrics,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table | None = None,
        outbox: Table | None = None,
        publishes: Sequence[type[BaseModel]] = (),
        skip_locked: bool = False,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._sessions = sessions
        self._inbox = inbox
        self.broker = NatsBroker(
            settings.nats_url.split(","),
            name=settings.service_name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=2,
            # A node that hangs (no TCP reset) is given up after three unanswered pings, and
            # the client moves to another node: 15 s instead of nats-py's default 4 minutes.
            ping_interval=5,
            max_outstanding_pings=3,
            # The service's own NATS user (nkey) and the inbox prefix its permissions allow.
            **broker_options(settings),
            middlewares=[
                NatsPrometheusMiddleware(registry=registry, app_name=settings.service_name)
            ],
            graceful_timeout=10.0,
            # FastStream logs every message; ours carry event ids at the right level instead.
            log_level=logging.DEBUG,
        )
        self.policy = DeliveryPolicy(
            max_deliver=settings.consumer_max_deliver,
            backoff_seconds=settings.consumer_backoff_seconds,
        )
        self.consumers: list[ConsumerSpec] = []
        # Handlers of one service apply one event at a time (see docs/ARCHITECTURE.md).
        self._handler_lock = asyncio.Lock()
        for contract in publishes:
            # Declared for the AsyncAPI document; the outbox relay does the publishing.
            subject = str(getattr(contract, "subject"))  # noqa: B009
            self.broker.publisher(
                subject,
                stream=JStream(stream_for_subject(subject).name, declare=False),
                schema=contract,
                title=f"{settings.service_name}:{subject}",
                description=(contract.__doc__ or "").strip() or None,
            )
        self.relay: OutboxRelay | None = None
        if outbox is not None:
            self.relay = OutboxRelay(
                sessions,
                outbox,
                self.jetstream,
                metrics,
                max_payload=self.max_payload,
                batch_size=settings.outbox_batch_size,
                poll_seconds=settings.outbox_poll_seconds,
                skip_locked=skip_locked,
            )
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()
        # One JetStream context per connection, made on first use and reused by the relay,
        # the dead-lettering and the lag checks: each context subscribes its own reply inbox
        # for publish_async, so a context per call leaked a subscription per relay pass.
        self._js: Any = None
        self._js_connection: Any = None

    def subscribe(self, subscription: Subscription) -> None:
        """Consume a subject with a durable consumer of this service (before `start`)."""
        if self._tasks:
            raise RuntimeError("subscriptions are registered before the bus starts")
        if self._inbox is None:
            raise ValueError("subscriptions need the processed-events table")
        settings = self._settings
        spec = ConsumerSpec(settings.service_name, subscription.subject, self.policy.max_deliver)
        if spec in self.consumers:
            raise ValueError(f"{subscription.subject} is already subscribed")
        self.consumers.append(spec)
        self._metrics.declare_subscription(subscription.subject)
        processor = EventProcessor(
            spec,
            subscription,
            self._sessions,
            self._inbox,
            self.policy,
            self._metrics,
            self._dead_letter,
            self._handler_lock,
        )
        common: dict[str, Any] = {
            "stream": JStream(spec.stream.name, declare=False),
            "durable": spec.durable,
            # FastStream names pull inboxes itself: keep them under the service's prefix.
            "inbox_prefix": f"{inbox_prefix(settings.service_name)}.".encode(),
            "title": f"{settings.service_name}:{subscription.subject}",
            "description": (subscription.handler.__doc__ or "").strip() or None,
        }
        if subscription.batch is not None and settings.consumer_batching:
            # One handler call per fetch (at most `consumer_batch_size` messages, gathered
            # for at most `consumer_batch_wait_seconds`); the processor acknowledges each
            # message itself after the batch's commit.
            subscriber = self.broker.subscriber(
                subscription.subject,
                pull_sub=PullSub(
                    batch_size=settings.consumer_batch_size,
                    timeout=settings.consumer_batch_wait_seconds,
                    batch=True,
                ),
                ack_policy=AckPolicy.MANUAL,
                **common,
            )
            subscriber(processor.apply_batch, decoder=_undecoded)
            # Our gathering loop: FastStream's drops a partial batch on a bare timeout.
            install_batch_loop(
                subscriber,
                size=settings.consumer_batch_size,
                wait_seconds=settings.consumer_batch_wait_seconds,
                # While nothing comes, one pull request a second, as the per-event form.
                idle_seconds=IDLE_PULL_SECONDS,
            )
            return
        self.broker.subscriber(
            subscription.subject,
            pull_sub=PullSub(batch_size=settings.consumer_batch_size, timeout=IDLE_PULL_SECONDS),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            **common,
        )(processor.__call__, decoder=_undecoded)

    @property
    def started(self) -> bool:
        """Subscribers are running."""
        return self._started.is_set()

    def is_connected(self) -> bool:
        """Whether the NATS connection is up right now."""
        try:
            connection = self.broker.connection
        except Exception:
            return False
        return bool(connection is not None and connection.is_connected)

    def jetstream(self) -> Any:
        """The bus's JetStream context (one per connection, reused), or None while
        disconnected. At most `PUBLISH_ASYNC_MAX_PENDING` acks are awaited at once."""
        if not self.is_connected():
            return None
        connection = self.broker.connection
        if self._js is None or self._js_connection is not connection:
            self._js = connection.jetstream(publish_async_max_pending=PUBLISH_ASYNC_MAX_PENDING)
            self._js_connection = connection
        return self._js

    def max_payload(self) -> int | None:
        """The largest message the connected server accepts, or None while disconnected."""
        if not self.is_connected():
            return None
        return int(self.broker.connection.max_payload)

    def wake_relay(self) -> None:
        """Publish committed outbox rows now."""
        if self.relay is not None:
            self.relay.wake()

    async def start(self) -> None:
        """Start connecting in the background and return at once."""
        self._tasks.append(asyncio.create_task(self._connect_and_start(), name="bus-connect"))
        if self.relay is not None:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.consumers:
            self._tasks.append(asyncio.create_task(self._watch_lag(), name="consumer-lag"))

    async def wait_started(self) -> None:
        """Wait until subscribers run (callers bound it with a timeout)."""
        await self._started.wait()

    async def stop(self) -> None:
        """Stop the relay and subscribers, then close the connection."""
        if self.relay is not None:
            self.relay.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.relay is not None:
            try:  # the acknowledged rows marked, the unpublished handed-over ones released
                await asyncio.wait_for(self.relay.close(), timeout=5)
            except Exception:
                log.warning("outbox relay could not mark its last rows", exc_info=True)
        try:
            await self.broker.stop()
        except Exception:
            log.debug("broker stop failed", exc_info=True)

    async def _connect_and_start(self) -> None:
        # Until it works, however long NATS stays away (cancellation ends it at shutdown).
        async for attempt in AsyncRetrying(
            wait=CONNECT_RETRY.wait,
            retry=retry_if_exception_type(Exception),
            before_sleep=_log_not_ready,
        ):
            with attempt:
                await self.broker.connect()
                js = self.jetstream()
                streams, owned = provision_scope(self._settings.service_name, self.consumers)
                await provision(
                    js,
                    replicas=self._settings.stream_replicas,
                    duplicate_window=self._settings.duplicate_window_seconds,
                    consumers=self.consumers,
                    streams=streams,
                    owned=owned,
                )
                await self.broker.start()
        self._started.set()
        self.wake_relay()
        log.info("connected to NATS, %d subscriber(s) running", len(self.consumers))

    async def _dead_letter(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        js = self.jetstream()
        if js is None:
            raise ConnectionError("not connected to NATS")
        await js.publish(subject, payload, headers=headers, stream=DEAD_LETTERS.name, timeout=5)

    async def refresh_lag(self) -> None:
        """Set each durable consumer's pending gauge; a failed read is logged and counted."""
        js = self.jetstream()
        if js is None:
            return
        service = self._metrics.service
        for spec in self.consumers:
            try:
                info = await js.consumer_info(spec.stream.name, spec.durable)
            except Exception:
                self._metrics.consumer_lag_errors.labels(service, spec.durable).inc()
                log.warning("could not read the lag of consumer %s", spec.durable, exc_info=True)
                continue
            self._metrics.consumer_pending.labels(service, spec.durable).set(
                info.num_pending + info.num_ack_pending
            )

    async def _watch_lag(self) -> None:
        await self._started.wait()
        while True:
            await self.refresh_lag()
            await asyncio.sleep(LAG_INTERVAL_SECONDS)
