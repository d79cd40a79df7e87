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
    subscription: Any,
    *,
    size: int,
    wait_seconds: float,
    running: Any = lambda: True,
    idle_seconds: float | None = None,
) -> list[Any]:
    """Up to `size` messages of a nats-py pull subscription, gathered for at most
    `wait_seconds`; fewer (or none) when the time is up. Never drops a gathered message.

    With `idle_seconds`, the first message is awaited for up to that long, and the
    gathering time starts when it has come: an idle subscription then sends one pull
    request per `idle_seconds` instead of one per `wait_seconds` (ten a second per
    subscription at 0.1 s, most of an idle consumer's CPU)."""
    messages: list[Any] = []
    if idle_seconds is not None and idle_seconds > wait_seconds:
        try:
            # One message: nats-py's fetch of more waits out its whole timeout once the
            # first has come (it returns early only with the batch complete).
            messages = await subscription.fetch(batch=1, timeout=idle_seconds)
        except TimeoutError:
            return []
        except (ConnectionClosedError, ServiceUnavailableError):
            log.debug("fetch failed while idle", exc_info=True)
            await asyncio.sleep(wait_seconds)
            return []
    deadline = monotonic() + wait_seconds
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


def install_batch_loop(
    subscriber: Any, *, size: int, wait_seconds: float, idle_seconds: float | None = None
) -> None:
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
                idle_seconds=idle_seconds,
            )
            if messages and subscriber.running:
                await subscriber.consume(messages)

    # FastStream starts `subscriber._consume_pull` as the subscriber's task.
    subscriber._consume_pull = consume_batches
