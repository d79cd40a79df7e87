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
    """Up to `size` messages of a nats-py pull subscription: what the first fetch that
    brings any returns (nats-py's fetch takes every message already available, up to
    `size`, before it waits); none when `wait_seconds` pass without one. It does not wait
    for a batch to fill: under load a batch fills while the previous one is applied, and an
    idle system's lone event is applied at once. Never drops a gathered message."""
    deadline = monotonic() + wait_seconds
    while running():
        remaining = deadline - monotonic()
        if remaining <= 0:
            break
        try:
            messages: list[Any] = await subscription.fetch(batch=size, timeout=remaining)
        except TimeoutError:  # nats-py's own and the bare asyncio one (3.11: the builtin)
            break
        except (ConnectionClosedError, ServiceUnavailableError):
            # Pause instead of spinning while NATS is away.
            log.debug("fetch failed", exc_info=True)
            await asyncio.sleep(wait_seconds)
            break
        if messages:
            return messages
    return []


def install_batch_loop(subscriber: Any, *, size: int, wait_seconds: float) -> None:
    """Make a FastStream batch pull subscriber (before the broker starts) gather its
    fetches with `gather_batch`, then hand each batch to its handler as before.

    The next batch is fetched while the handler applies the current one (its commit's
    fsync and the acknowledgements are most of a batch's wall time), so the fetch's round
    trip is not added to every batch. Batches are still applied one after the other, in
    the order fetched: the prefetched messages wait, unacknowledged, for their turn (a
    prefetch abandoned at shutdown is redelivered after the consumer's `ack_wait`)."""

    async def consume_batches() -> None:
        subscription = subscriber.subscription
        assert subscription is not None, "the subscription is created before its loop"

        def fetch() -> asyncio.Task[list[Any]]:
            return asyncio.ensure_future(
                gather_batch(
                    subscription,
                    size=size,
                    wait_seconds=wait_seconds,
                    running=lambda: subscriber.running,
                )
            )

        pending = fetch()
        try:
            while subscriber.running:
                messages = await pending
                if not subscriber.running:
                    break
                pending = fetch()
                if messages:
                    await subscriber.consume(messages)
        finally:
            pending.cancel()
            # Retrieved, so that a prefetch failing as it is abandoned is not reported.
            pending.add_done_callback(lambda task: task.cancelled() or task.exception())

    # FastStream starts `subscriber._consume_pull` as the subscriber's task.
    subscriber._consume_pull = consume_batches
