"""The fetch loop of a batched subscription (it replaces FastStream's own).

FastStream's batch pull subscriber gathers a fetch with several nats-py `fetch` calls and
stops at a timeout only when it is nats-py's `nats.errors.TimeoutError`. nats-py also raises
a bare `asyncio.TimeoutError` (when the deadline passes between its no-wait probe and its
waiting request): that escaped FastStream's loop, the messages already gathered for the
batch were dropped unacknowledged, and JetStream redelivered them only after the
consumer's `ack_wait` (30 s). FastStream's supervisor restarted the loop and printed the
traceback once per process (its cache is class-level), so later occurrences were silent.
Here any timeout ends the gathering and the messages gathered so far are applied."""

from __future__ import annotations

import asyncio
import logging
from time import monotonic
from typing import Any

from nats.errors import ConnectionClosedError
from nats.js.errors import ServiceUnavailableError

log = logging.getLogger(__name__)


async def gather_batch(
    subscription: Any, *, size: int, wait_seconds: float, running: Any = lambda: True
) -> list[Any]:
    """Up to `size` messages of a nats-py pull subscription, gathered for at most
    `wait_seconds`; fewer (or none) when the time is up. Never drops a gathered message."""
    deadline = monotonic() + wait_seconds
    messages: list[Any] = []
    while len(messages) < size and running():
        remaining = deadline - monotonic()
        if remaining <= 0:
            break
        try:
            messages += await subscription.fetch(batch=size - len(messages), timeout=remaining)
        except TimeoutError:  # nats-py's own and the bare asyncio one (3.11: the builtin)
            break
        except (ConnectionClosedError, ServiceUnavailableError):
            # What was gathered is still applied (its acks may fail: it is then redelivered
            # and found in the inbox); pause instead of spinning while NATS is away.
            log.debug("fetch failed; %d message(s) gathered", len(messages), exc_info=True)
            if not messages:
                await asyncio.sleep(wait_seconds)
            break
    return messages


def install_batch_loop(subscriber: Any, *, size: int, wait_seconds: float) -> None:
    """Make a FastStream batch pull subscriber (before the broker starts) gather its
    fetches with `gather_batch`, then hand each batch to its handler as before."""

    async def consume_batches() -> None:
        subscription = subscriber.subscription
        assert subscription is not None, "the subscription is created before its loop"
        while subscriber.running:
            messages = await gather_batch(
                subscription,
                size=size,
                wait_seconds=wait_seconds,
                running=lambda: subscriber.running,
            )
            if messages and subscriber.running:
                await subscriber.consume(messages)

    # FastStream starts `subscriber._consume_pull` as the subscriber's task.
    subscriber._consume_pull = consume_batches
