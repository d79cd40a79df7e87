"""Batched consumption (a subscription with `batch`): the events of one fetch applied in one
transaction, each event id claimed in the inbox, acknowledged after the commit; a poison
event isolated and dead-lettered without losing the batch's other events; a report's
events applied in their order even when one of them fails. Against a real nats-server, on
SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nats
from nats.js.client import JetStreamContext

from shared.contracts.intake import ReportSubmitted
from shared.contracts.streams import DEAD_LETTERS
from shared.messaging.provision import provision
from tests.integration.messaging.batch_crash_worker import CRASH_EXIT_CODE
from tests.integration.messaging.harness import Harness, report_event, running, settings_for
from tests.support.http import eventually

ROOT = Path(__file__).resolve().parents[3]


async def publish(url: str, *events: ReportSubmitted, copies: int = 1) -> None:
    """Put events straight into the stream (provisioned if need be), before a consumer runs:
    its first fetch then gets them together. Each copy has its own message id, so JetStream
    keeps them all: a true redelivery of the same event."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await provision(js)
        for event in events:
            for copy in range(copies):
                await js.publish(
                    event.subject,
                    event.to_json(),
                    headers={"Nats-Msg-Id": f"{event.event_id}:{copy}"},
                )
    finally:
        await nc.close()


async def dead_letters(url: str) -> list[str]:
    """The report ids in the dead-letter stream, with their reason."""
    nc = await nats.connect(url)
    found: list[str] = []
    try:
        js = nc.jetstream()
        info = await js.stream_info(DEAD_LETTERS.name)
        if not info.state.messages:
            return []
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            message = await js.get_msg(DEAD_LETTERS.name, seq=seq)
            reason = (message.headers or {}).get("Danvan-Reason", "")
            found.append(f"{json.loads(message.data or b'{}')['payload']['report_id']}:{reason}")
    finally:
        await nc.close()
    return found


async def test_a_fetched_batch_is_applied_together_and_each_event_once(nats_server, databases):
    events = [report_event(f"b{i}") for i in range(40)]
    # Every event twice in the stream (two message ids): the second copy is a redelivery.
    await publish(nats_server.url, *events, copies=2)
    harness = Harness(settings_for(await databases.url("batch"), nats_server.url), batch=True)
    async with running(harness):

        async def all_applied() -> bool:
            return await harness.applied_count() >= 40

        await eventually(all_applied, timeout=30)
        # Both copies of every event were delivered and settled: nothing left to apply.
        await eventually(lambda: _consumer_idle(harness), timeout=30)
        assert sorted(r for r, _ in await harness.applied_rows()) == sorted(
            f"b{i}" for i in range(40)
        )
        assert sorted(harness.calls) == sorted(f"b{i}" for i in range(40))
        assert max(len(batch) for batch in harness.batches) > 1  # really batched


async def _consumer_idle(harness: Harness) -> bool:
    bus = harness.runtime.bus
    js = bus.jetstream()
    if js is None:
        return False
    spec = bus.consumers[0]
    info = await js.consumer_info(spec.stream.name, spec.durable)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


async def test_a_poison_event_is_dead_lettered_alone_and_its_batch_is_applied(
    nats_server, databases
):
    events = [report_event(f"p{i}") for i in range(10)]
    events.insert(4, report_event("poison"))
    await publish(nats_server.url, *events)
    harness = Harness(
        settings_for(await databases.url("batch-poison"), nats_server.url), batch=True
    )

    async def poison(event: ReportSubmitted) -> None:
        if event.payload.report_id == "poison":
            raise ValueError("cannot apply this one")

    harness.fail = poison
    async with running(harness):

        async def dead_lettered() -> bool:
            return await dead_letters(nats_server.url) != []

        await eventually(dead_lettered, timeout=30)
        assert await dead_letters(nats_server.url) == ["poison:handler_failed"]
        for i in range(10):
            assert await harness.applied_count(f"p{i}") == 1
        assert await harness.applied_count("poison") == 0
        # The poison was fetched and tried with others, which were then applied without it.
        assert any("poison" in batch and len(batch) > 1 for batch in harness.batches)


async def test_a_reports_events_keep_their_order_when_one_of_them_fails(nats_server, databases):
    # Version 2 of report "k" fails on its first two deliveries (max_deliver is 3): version 3,
    # fetched with it, must not be applied ahead of it; other reports are not held back.
    events = [report_event("k", 1), report_event("other", 1), report_event("k", 2)]
    events += [report_event("k", 3), report_event("other", 2)]
    await publish(nats_server.url, *events)
    harness = Harness(settings_for(await databases.url("batch-order"), nats_server.url), batch=True)
    failures = {"left": 2}

    async def flaky(event: ReportSubmitted) -> None:
        if event.payload.report_id == "k" and event.payload.version == 2 and failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the database went away")

    harness.fail = flaky
    async with running(harness):

        async def all_applied() -> bool:
            return await harness.applied_count() == 5

        await eventually(all_applied, timeout=30)
        rows = await harness.applied_rows()
        assert [v for r, v in rows if r == "k"] == [1, 2, 3]
        assert [v for r, v in rows if r == "other"] == [1, 2]
        assert await dead_letters(nats_server.url) == []


async def test_a_consumer_killed_after_committing_a_batch_applies_nothing_twice(
    nats_server, databases
):
    url = await databases.url("batch-crash")
    events = [report_event(f"c{i}") for i in range(30)]
    await publish(nats_server.url, *events)
    worker = subprocess.run(  # noqa: ASYNC221 - the worker must run to its death first
        [
            sys.executable,
            "-m",
            "tests.integration.messaging.batch_crash_worker",
            url,
            nats_server.url,
        ],
        cwd=ROOT,
        timeout=90,
        capture_output=True,
    )
    assert worker.returncode == CRASH_EXIT_CODE, worker.stderr.decode()[-2000:]
    # The worker's batch committed, none of it acknowledged: JetStream redelivers it all.
    harness = Harness(settings_for(url, nats_server.url), batch=True)
    async with running(harness):
        committed = await harness.applied_count()
        assert 1 < committed <= 30

        async def all_applied() -> bool:
            return await harness.applied_count() >= 30

        # Redelivery waits for the consumer's ack_wait (30 s) to pass.
        await eventually(all_applied, timeout=90)
        await eventually(lambda: _consumer_idle(harness), timeout=90)
        rows = await harness.applied_rows()
        assert sorted(r for r, _ in rows) == sorted(f"c{i}" for i in range(30))
        # The worker's events came back and were claimed as duplicates, not applied again.
        assert not set(harness.calls) & {r for r, _ in rows[:committed]}


async def test_a_failed_event_holds_back_its_reports_later_events_from_later_fetches(
    nats_server, databases
):
    # Version 3 of report "k" arrives in a later fetch while version 2 waits for its
    # redelivery: it is held back until version 2 has been applied.
    await publish(nats_server.url, report_event("k", 1), report_event("k", 2))
    settings = settings_for(await databases.url("batch-later"), nats_server.url)
    # A back-off long enough that the next fetch comes before version 2's redelivery.
    harness = Harness(settings.model_copy(update={"consumer_backoff_seconds": 1.0}), batch=True)
    failures = {"left": 2}

    async def flaky(event: ReportSubmitted) -> None:
        if event.payload.report_id == "k" and event.payload.version == 2 and failures["left"]:
            if failures["left"] == 2:
                await publish(nats_server.url, report_event("k", 3), report_event("other", 1))
            failures["left"] -= 1
            raise ConnectionError("the database went away")

    harness.fail = flaky
    async with running(harness):

        async def all_applied() -> bool:
            return await harness.applied_count() == 4

        await eventually(all_applied, timeout=30)
        rows = await harness.applied_rows()
        assert [v for r, v in rows if r == "k"] == [1, 2, 3]
        assert await dead_letters(nats_server.url) == []


async def test_a_bare_timeout_while_gathering_a_batch_loses_none_of_it(
    nats_server, databases, monkeypatch
):
    # nats-py's fetch also raises a bare asyncio.TimeoutError (not its own TimeoutError) when
    # the deadline passes between its no-wait probe and its waiting request. Here every
    # fetch that follows one which returned messages does so: the messages gathered before
    # it must be applied now, not after the consumer's ack_wait (30 s) redelivers them.
    fetch = JetStreamContext.PullSubscription.fetch
    returned: set[int] = set()

    async def fetch_then_bare_timeout(self: Any, *args: Any, **kwargs: Any) -> Any:
        if id(self) in returned:
            returned.discard(id(self))
            raise TimeoutError  # asyncio.TimeoutError, the bare one nats-py raises
        messages = await fetch(self, *args, **kwargs)
        if messages:
            returned.add(id(self))
        return messages

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", fetch_then_bare_timeout)
    await publish(nats_server.url, *(report_event(f"t{i}") for i in range(5)))
    harness = Harness(
        settings_for(await databases.url("batch-timeout"), nats_server.url), batch=True
    )
    async with running(harness):

        async def all_applied() -> bool:
            return await harness.applied_count() == 5

        await eventually(all_applied, timeout=10)
        assert sorted(r for r, _ in await harness.applied_rows()) == [f"t{i}" for i in range(5)]
