"""The outbox relay keeps no database transaction open while JetStream acknowledges: it claims
a batch and commits, publishes, then marks in a second short transaction. Checked against a
real nats-server whose acknowledgements are held back by stopping the process (SIGSTOP)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import nats
from sqlalchemy import select, text

from shared.contracts.streams import INTAKE
from shared.messaging.outbox import OUTBOX_CLAIM
from shared.messaging.relay import OutboxRelay
from tests.integration.messaging.harness import (
    Harness,
    outbox,
    report_event,
    running,
    settings_for,
)
from tests.support.http import eventually
from tests.support.nats import NatsServer


async def stream_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(INTAKE.name)).state.messages)
    finally:
        await nc.close()


@contextlib.contextmanager
def acks_held_back(server: NatsServer) -> Iterator[None]:
    """The server is frozen: publishes sit in its socket, no acknowledgement comes back."""
    assert server.process is not None
    pid = server.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class Recording:
    """The relay's JetStream context, noting when a batch has been handed to the server."""

    def __init__(self, js: Any) -> None:
        self._js = js
        self.published = asyncio.Event()

    async def publish_async(self, *args: Any, **kwargs: Any) -> Any:
        future = await self._js.publish_async(*args, **kwargs)
        self.published.set()
        return future


async def relay_handing_over(harness: Harness) -> OutboxRelay:
    """The harness's relay once it is connected and the claim pass that follows the
    connection has begun: from then on a commit hands its rows over."""
    await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
    relay = harness.runtime.bus.relay
    assert relay is not None

    async def ready() -> bool:
        return relay.claim_for_handover() is not None and not relay._claim_due

    await eventually(ready, timeout=10)
    return relay


async def test_a_slow_jetstream_ack_does_not_make_other_queries_wait(
    nats_server, databases, monkeypatch
):
    # On SQLite the service has one pooled connection: a relay that kept its transaction
    # open while waiting for the acks made every request wait behind it (issue 13).
    harness = Harness(settings_for(await databases.url("slow-ack"), nats_server.url), consume=False)
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        relay = harness.runtime.bus.relay
        assert relay is not None
        relay.stop()  # drive the pass by hand
        await harness.submit(report_event("slow-ack"))
        js = harness.runtime.bus.jetstream()
        recording = Recording(js)
        monkeypatch.setattr(relay, "_jetstream", lambda: recording)
        with acks_held_back(nats_server):
            passing = asyncio.create_task(relay.publish_pending())
            await asyncio.wait_for(recording.published.wait(), 10)
            started = time.monotonic()
            async with harness.runtime.sessions() as session:
                one = await asyncio.wait_for(session.execute(text("SELECT 1")), 2)
                assert one.scalar() == 1
            waited = time.monotonic() - started
            assert not passing.done(), "the acknowledgement was not held back"
        assert waited < 0.5, f"SELECT 1 waited {waited:.2f}s behind the relay"
        assert await asyncio.wait_for(passing, 15) == 1
        assert await harness.unpublished() == 0
        assert await stream_messages(nats_server.url) == 1


async def test_a_dead_relays_claim_expires_and_another_relay_publishes_its_rows(
    nats_server, databases, monkeypatch
):
    harness = Harness(settings_for(await databases.url("claims"), nats_server.url), consume=False)
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        bus = harness.runtime.bus
        assert bus.relay is not None
        bus.relay.stop()
        await harness.submit(*(report_event(f"c{i}") for i in range(20)))

        def relay(claim_seconds: float) -> OutboxRelay:
            return OutboxRelay(
                harness.runtime.sessions,
                outbox,
                bus.jetstream,
                harness.runtime.messaging_metrics,
                publish_timeout=0.2,
                claim_seconds=claim_seconds,
                skip_locked=harness.runtime.database.is_postgres,
            )

        dying, survivor = relay(claim_seconds=1.0), relay(claim_seconds=30.0)

        async def dies(*_args: Any) -> Any:
            raise RuntimeError("the process died after claiming, before publishing")

        monkeypatch.setattr(dying, "_publish", dies)
        with contextlib.suppress(RuntimeError):
            await dying.publish_pending()
        async with harness.runtime.sessions() as session:
            claimed = (
                await session.execute(
                    select(outbox.c.claimed_by).where(outbox.c.claimed_by.isnot(None))
                )
            ).all()
        assert len(claimed) == 20
        assert await survivor.publish_pending() == 0  # claimed by another relay: left alone

        async def taken_over() -> bool:
            return await survivor.publish_pending() > 0

        await eventually(taken_over, timeout=10)
        assert await harness.unpublished() == 0
        assert await stream_messages(nats_server.url) == 20


async def test_relays_claiming_at_once_take_disjoint_rows(nats_server, databases):
    harness = Harness(settings_for(await databases.url("disjoint"), nats_server.url), consume=False)
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        bus = harness.runtime.bus
        assert bus.relay is not None
        bus.relay.stop()
        await harness.submit(*(report_event(f"d{i}") for i in range(100)))
        relays = [
            OutboxRelay(
                harness.runtime.sessions,
                outbox,
                bus.jetstream,
                harness.runtime.messaging_metrics,
                batch_size=40,
                skip_locked=harness.runtime.database.is_postgres,
            )
            for _ in range(3)
        ]
        batches = await asyncio.gather(*(r.claim_batch() for r in relays))
        ids = [row.id for batch in batches for row in batch]
        assert len(ids) == len(set(ids)) == 100
        assert all(batch == sorted(batch, key=lambda row: row.id) for batch in batches)


async def test_rows_committed_while_the_relay_runs_are_handed_over_without_a_claim(
    nats_server, databases, monkeypatch
):
    # The hot path: the transaction writes its outbox rows claimed by the relay and hands
    # them over after the commit; the relay publishes them without its claim transaction
    # and marks them published in one transaction for what was acknowledged meanwhile.
    settings = settings_for(await databases.url("handover"), nats_server.url)
    settings = settings.model_copy(update={"outbox_poll_seconds": 3600.0})
    harness = Harness(settings, consume=False)
    async with running(harness):
        relay = await relay_handing_over(harness)

        async def marked() -> bool:
            return await harness.unpublished() == 0

        # A warm-up event published shows that the claim pass after connecting is over.
        await harness.submit(report_event("warm-up"))
        await eventually(marked, timeout=10)
        claimed: list[str] = []
        original = relay.claim_batch

        async def recorded() -> Any:
            rows = await original()
            claimed.extend(row.event_id for row in rows)
            return rows

        monkeypatch.setattr(relay, "claim_batch", recorded)
        for i in range(5):
            await harness.submit(report_event(f"h{i}"))
        await eventually(marked, timeout=10)
        assert claimed == [], "the relay claimed rows that were handed to it"
        assert await stream_messages(nats_server.url) == 6


async def test_a_relay_dead_after_a_handover_leaves_its_rows_to_the_next_relay(
    nats_server, databases
):
    # Written claimed by a relay that died before publishing them: the next relay takes them
    # once the claim has expired (a crash after publishing only adds duplicates, which
    # JetStream drops: the crash between publish and mark).
    harness = Harness(
        settings_for(await databases.url("handover-crash"), nats_server.url), consume=False
    )
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        bus = harness.runtime.bus
        assert bus.relay is not None
        dying = OutboxRelay(
            harness.runtime.sessions,
            outbox,
            bus.jetstream,
            harness.runtime.messaging_metrics,
            publish_timeout=0.2,
            claim_seconds=1.0,
        )
        running_dying = asyncio.create_task(dying.run())
        # Rows are written claimed by `dying`; they are handed to the service's own relay,
        # stopped: nothing publishes them.
        harness.runtime.database.share(OUTBOX_CLAIM, dying.claim_for_handover)
        bus.relay.stop()

        async def dying_runs() -> bool:
            return dying.claim_for_handover() is not None

        await eventually(dying_runs, timeout=10)
        await harness.submit(*(report_event(f"x{i}") for i in range(3)))
        running_dying.cancel()
        async with harness.runtime.sessions() as session:
            owners = (await session.execute(select(outbox.c.claimed_by))).scalars().all()
        assert owners == [dying._owner] * 3
        survivor = OutboxRelay(
            harness.runtime.sessions, outbox, bus.jetstream, harness.runtime.messaging_metrics
        )
        assert await survivor.publish_pending() == 0  # still claimed by the dead relay

        async def taken_over() -> bool:
            return await survivor.publish_pending() > 0

        await eventually(taken_over, timeout=10)
        assert await harness.unpublished() == 0
        assert await stream_messages(nats_server.url) == 3


async def test_rows_handed_over_close_together_are_published_in_one_pass(
    nats_server, databases, monkeypatch
):
    # One pass per commit made nats-server and the consumers do more per event; the rows of
    # the commits that follow the first within the relay's gathering wait share its pass.
    settings = settings_for(await databases.url("gathered"), nats_server.url)
    harness = Harness(settings.model_copy(update={"outbox_poll_seconds": 3600.0}), consume=False)
    async with running(harness):
        relay = await relay_handing_over(harness)
        passes: list[int] = []
        original = relay._publish

        async def recorded(js: Any, rows: Any) -> Any:
            passes.append(len(rows))
            return await original(js, rows)

        monkeypatch.setattr(relay, "_publish", recorded)
        monkeypatch.setattr(relay, "_gather_seconds", 5.0)  # wide: the test does not race it
        for i in range(3):
            await harness.submit(report_event(f"g{i}"))

        async def marked() -> bool:
            return await harness.unpublished() == 0

        await eventually(marked, timeout=20)
        assert passes == [3]
        assert await stream_messages(nats_server.url) == 3
