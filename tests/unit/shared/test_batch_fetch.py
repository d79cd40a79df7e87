"""The batched subscription's fetch loop (`shared/messaging/fetch.py`) with a scripted pull
subscription: the first message is fetched alone, then what comes within the batch wait;
the next batch is fetched while the
current one is applied, batches are applied in the order fetched, and a timeout or a closed
connection loses nothing gathered. The real nats-server behaviour is tested in
tests/integration/messaging/test_batch_consumer.py."""

from __future__ import annotations

import asyncio
from typing import Any

from nats.errors import ConnectionClosedError

from shared.messaging.fetch import gather_batch, install_batch_loop


class Msg(str):
    """A message of the script (its text)."""


class ScriptedSubscription:
    """`fetch` answers from a script: a list of messages, or an exception to raise; when
    the script is used up it waits like an idle server until its timeout."""

    def __init__(self, *answers: list[Msg] | BaseException) -> None:
        self.answers = list(answers)
        self.calls: list[int] = []
        self.timeouts: list[float] = []

    async def fetch(self, *, batch: int, timeout: float) -> list[Msg]:
        self.calls.append(batch)
        self.timeouts.append(timeout)
        if not self.answers:
            await asyncio.sleep(timeout)
            raise TimeoutError
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


async def test_the_first_message_is_fetched_alone_then_the_rest_within_the_wait() -> None:
    # The first is fetched alone (it returns as soon as one comes), then the rest is
    # fetched again and again, for what is still missing, until the batch wait ends:
    # nats-py's fetch(n) returns with what its probe brought, often a single message.
    subscription = ScriptedSubscription([Msg("a")], [Msg("b"), Msg("c")], [Msg("d")])
    batch = await gather_batch(subscription, size=100, wait_seconds=0.05, idle_seconds=30)
    assert batch == ["a", "b", "c", "d"]
    assert subscription.calls == [1, 99, 97, 96]
    first, *rest = subscription.timeouts
    assert first == 30
    assert all(0 < t <= 0.05 for t in rest) and rest == sorted(rest, reverse=True)


async def test_a_full_batch_is_returned_without_waiting_out_the_wait() -> None:
    subscription = ScriptedSubscription([Msg("a")], [Msg("b")], [Msg("c")], [Msg("d")])
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await gather_batch(subscription, size=3, wait_seconds=30) == ["a", "b", "c"]
    assert subscription.calls == [1, 2, 1]
    assert loop.time() - began < 10


async def test_a_lone_message_is_returned_when_the_wait_ends() -> None:
    subscription = ScriptedSubscription([Msg("a")])
    assert await gather_batch(subscription, size=10, wait_seconds=0.01, idle_seconds=30) == ["a"]
    assert subscription.calls == [1, 9]


async def test_nothing_within_the_idle_wait_gives_an_empty_batch() -> None:
    subscription = ScriptedSubscription()
    assert await gather_batch(subscription, size=10, wait_seconds=0.01) == []
    assert subscription.calls == [1]
    assert await gather_batch(ScriptedSubscription(TimeoutError()), size=10, wait_seconds=5) == []


async def test_a_timeout_or_closed_connection_after_the_first_loses_nothing() -> None:
    for failure in (TimeoutError(), ConnectionClosedError()):
        subscription = ScriptedSubscription([Msg("a")], failure)
        assert await gather_batch(subscription, size=10, wait_seconds=1) == ["a"]
        assert subscription.calls == [1, 9]


async def test_a_closed_connection_pauses_instead_of_spinning() -> None:
    subscription = ScriptedSubscription(ConnectionClosedError(), [Msg("a")])
    assert await gather_batch(subscription, size=10, wait_seconds=0.01) == []
    assert subscription.calls == [1]


class FakeSubscriber:
    """FastStream's batch subscriber as `install_batch_loop` uses it; `consume` records each
    batch and what had been fetched by the time it was handed the batch, and holds the
    first batch until released."""

    def __init__(self, subscription: ScriptedSubscription) -> None:
        self.subscription = subscription
        self.running = True
        self.applied: list[list[str]] = []
        self.fetches_while_applying: list[int] = []
        self.release = asyncio.Event()
        self._consume_pull: Any = None

    async def consume(self, messages: list[str]) -> None:
        if not self.applied:
            await self.release.wait()
        # Fetches made so far, the one that brought this batch included.
        self.fetches_while_applying.append(len(self.subscription.calls))
        self.applied.append(messages)
        if sum(len(batch) for batch in self.applied) == 4:
            self.running = False


async def test_the_next_batch_is_fetched_while_the_current_one_is_applied() -> None:
    subscription = ScriptedSubscription(
        [Msg("a")], [Msg("b")], TimeoutError(), [Msg("c")], TimeoutError(), [Msg("d")], []
    )
    subscriber = FakeSubscriber(subscription)
    install_batch_loop(subscriber, size=100, wait_seconds=1)
    loop = asyncio.ensure_future(subscriber._consume_pull())

    async def prefetched() -> None:
        while len(subscription.calls) < 5:
            await asyncio.sleep(0.001)

    # The first batch is held in `consume`: the second batch is fetched meanwhile.
    await asyncio.wait_for(prefetched(), timeout=5)
    assert subscriber.applied == []
    subscriber.release.set()
    await asyncio.wait_for(loop, timeout=5)
    assert subscriber.applied == [["a", "b"], ["c"], ["d"]]  # in the order fetched
    assert subscriber.fetches_while_applying[0] == 5


class QueuedSubscription:
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
    subscription = QueuedSubscription()
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began < 0.3:
        assert await gather_batch(subscription, size=100, wait_seconds=0.01, idle_seconds=0.1) == []
    # One pull request per 0.1 s of idleness, not one per 0.01 s.
    assert 2 <= len(subscription.calls) <= 4
    assert all(call == (1, 0.1) for call in subscription.calls)


async def test_the_batch_is_gathered_after_the_first_message_has_come() -> None:
    subscription = QueuedSubscription()

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


async def test_messages_trickling_in_one_by_one_within_the_wait_share_a_batch() -> None:
    # nats-py's fetch returns with the first message its request brings: one fetch after
    # the first message made batches of two at a steady trickle.
    subscription = QueuedSubscription()
    names = [f"m{i}" for i in range(6)]

    async def trickle() -> None:
        for name in names:
            subscription.queue.put_nowait(name)
            await asyncio.sleep(0.01)

    arriving = asyncio.create_task(trickle())
    batch = await gather_batch(subscription, size=100, wait_seconds=1.0, idle_seconds=1.0)
    await arriving
    assert batch == names
    assert len(subscription.calls) > 2  # fetched again for what was still missing


async def test_without_an_idle_wait_every_fetch_is_bounded_by_the_gathering_time() -> None:
    subscription = QueuedSubscription()
    assert await gather_batch(subscription, size=100, wait_seconds=0.02) == []
    assert len(subscription.calls) == 1 and subscription.calls[0][1] <= 0.02
