"""The gathering of a batched subscription's fetch (`shared.messaging.fetch.gather_batch`)
against a stand-in for nats-py's pull subscription."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.messaging.fetch import gather_batch


class Subscription:
    """nats-py's `fetch`: what is queued (up to `batch`), else a TimeoutError after
    `timeout`; every call is recorded."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.calls: list[tuple[int, float]] = []

    async def fetch(self, batch: int, timeout: float) -> list[Any]:
        self.calls.append((batch, timeout))
        try:
            first = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            raise TimeoutError from None
        found = [first]
        while len(found) < batch and not self.queue.empty():
            found.append(self.queue.get_nowait())
        return found


async def test_an_idle_subscription_sends_one_pull_request_per_idle_wait() -> None:
    subscription = Subscription()
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began < 0.3:
        assert await gather_batch(subscription, size=100, wait_seconds=0.01, idle_seconds=0.1) == []
    # One pull request per 0.1 s of idleness, not one per 0.01 s.
    assert 2 <= len(subscription.calls) <= 4
    assert all(call == (1, 0.1) for call in subscription.calls)


async def test_the_batch_is_gathered_after_the_first_message_has_come() -> None:
    subscription = Subscription()

    async def arrive() -> None:
        await asyncio.sleep(0.05)
        subscription.queue.put_nowait("m1")
        await asyncio.sleep(0.01)
        for name in ("m2", "m3"):
            subscription.queue.put_nowait(name)

    arriving = asyncio.create_task(arrive())
    loop = asyncio.get_running_loop()
    began = loop.time()
    batch = await gather_batch(subscription, size=3, wait_seconds=0.1, idle_seconds=1.0)
    await arriving
    assert batch == ["m1", "m2", "m3"]
    assert loop.time() - began < 0.5  # not the idle wait: the batch came complete


async def test_without_an_idle_wait_every_fetch_is_bounded_by_the_gathering_time() -> None:
    subscription = Subscription()
    assert await gather_batch(subscription, size=100, wait_seconds=0.02) == []
    assert len(subscription.calls) == 1 and subscription.calls[0][1] <= 0.02
