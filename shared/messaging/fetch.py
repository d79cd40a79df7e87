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

# Less time than this left of a batch's wait is not worth another pull request (nats-py
# gives the server the timeout less 0.1 ms as the request's expiry).
MIN_FETCH_SECONDS = 0.002


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

    The first is fetched alone (an idle subscription sends one pull request per
    `idle_seconds`, and the batch's wait starts when there is something to apply), then the
    rest until the batch is full or `wait_seconds` have passed: a backlog fills the batch
    at once, and otherwise the events arriving within the wait share one transaction.
    nats-py's `fetch(n)` returns as soon as its no-wait probe has brought something (the
    server answers a probe with what is there once one message is), not when n have come:
    one `fetch` for the rest gave batches of two at a steady trickle (one request at a time,
    docs/BENCHMARKS.md 04/12/2026), so it is called again for what is still missing, with
    the time left. Applying a
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
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    gathered = list(first)
    while len(gathered) < size and running():
        left = deadline - loop.time()
        if left < MIN_FETCH_SECONDS:
            break
        try:
            gathered += await subscription.fetch(batch=size - len(gathered), timeout=left)
        except TimeoutError:
            break
        except (ConnectionClosedError, ServiceUnavailableError):
            # What was gathered is still applied (its ack may fail: it is then redelivered
            # and found in the inbox).
            log.debug("fetch failed; %d messages gathered", len(gathered), exc_info=True)
            break
    return gathered


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
