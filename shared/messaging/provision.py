"""One idempotent function that creates or updates the streams and durable consumers."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from nats.js import api
from nats.js.errors import BadRequestError

from shared.contracts.streams import ALL_STREAMS, StreamSpec, stream_for_subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer of one subject for one service."""

    service: str
    subject: str
    max_deliver: int
    ack_wait_seconds: float = 30.0

    @property
    def durable(self) -> str:
        """Consumer names cannot hold dots; the version suffix stays in the name."""
        return f"{self.service}__{self.subject.replace('.', '_')}"

    @property
    def stream(self) -> StreamSpec:
        """The stream the subject lives in."""
        return stream_for_subject(self.subject)

    def config(self) -> api.ConsumerConfig:
        """The consumer's JetStream config; the server keeps a few deliveries spare so the
        handler itself always gets to dead-letter a poison message."""
        return api.ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            filter_subject=self.subject,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            max_deliver=self.max_deliver + 3,
            max_ack_pending=1000,
        )


def stream_config(spec: StreamSpec, *, replicas: int, duplicate_window: float) -> api.StreamConfig:
    """File storage, kept until deleted by limits, with a dedupe window for Nats-Msg-Id."""
    return api.StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        num_replicas=replicas,
        duplicate_window=duplicate_window,
    )


async def provision(
    js: Any,
    *,
    replicas: int = 1,
    duplicate_window: float = 86_400,
    consumers: Sequence[ConsumerSpec] = (),
    streams: Sequence[StreamSpec] = ALL_STREAMS,
    owned: Collection[StreamSpec] | None = None,
) -> None:
    """Create or update the streams, then this caller's consumers; safe to call repeatedly.

    A stream outside `owned` (None: all of them) is only created when missing: its owner
    keeps its configuration, and NATS permissions let nobody else change it."""
    for spec in streams:
        config = stream_config(spec, replicas=replicas, duplicate_window=duplicate_window)
        try:
            await js.add_stream(config)
        except BadRequestError:
            if owned is not None and spec not in owned:
                log.debug("stream %s exists with its owner's configuration", spec.name)
                continue
            # Exists with another config (e.g. an older duplicate window): bring it in line.
            await js.update_stream(config)
    for consumer in consumers:
        await js.add_consumer(consumer.stream.name, config=consumer.config())
        log.debug("consumer %s provisioned", consumer.durable)
