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
from typing import Any

from nats.errors import ConnectionClosedError
from nats.js.errors import ServiceUnavailableError

log = logging.getLogger(__name__)


async def gather_batch(
    subscription: Any,
    *,
    size: int,
    wait_seconds: float,
    idle_seconds: float | None = None,
    running: Any = lambda: True,
) -> list[Any]:
    """Up to `size` messages of a nats-py pull subscription: the first as soon as it comes
    (awaited for up to `idle_seconds`, by default `wait_seconds`), then what else comes
    within `wait_seconds`; none if nothing comes. Never drops a gathered message.

    nats-py's `fetch(n)` returns early only with all n messages: once the first has come it
    waits out its whole timeout for the rest. So the first is fetched alone (an idle
    subscription sends one pull request per `idle_seconds`, and the batch's wait starts
    when there is something to apply), then the rest: a backlog fills the batch at once,
    and otherwise the events arriving within the wait share one transaction. Applying a
    lone event at once was tried: consolidation's CPU per amendment during `make bench`'s
    20-unit burst went from 1.66 to 2.64 ms (docs/BENCHMARKS.md, 03/12/2026), a batch's
    own cost (its transaction, snapshot and stamp) being most of an event's."""
    try:
        first: list[Any] = await subscription.fetch(
            batch=1, timeout=max(idle_seconds or 0.0, wait_seconds)
        )
    except TimeoutError:  # nats-py's own and the bare asyncio one (3.11: the builtin)
        return []
    except (ConnectionClosedError, ServiceUnavailableError):
        # Pause instead of spinning while NATS is away.
        log.debug("fetch failed", exc_info=True)
        await asyncio.sleep(wait_seconds)
        return []
    if not first or size <= 1 or not running():
        return first
    try:
        rest: list[Any] = await subscription.fetch(batch=size - 1, timeout=wait_seconds)
    except TimeoutError:
        rest = []
    except (ConnectionClosedError, ServiceUnavailableError):
        # What was gathered is still applied (its ack may fail: it is then redelivered
        # and found in the inbox).
        log.debug("fetch failed; 1 message gathered", exc_info=True)
        rest = []
    return first + rest


def install_batch_loop(
    subscriber: Any, *, size: int, wait_seconds: float, idle_seconds: float | None = None
) -> None:
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
                    idle_seconds=idle_seconds,
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
