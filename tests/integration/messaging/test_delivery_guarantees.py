"""The outbox, inbox, retry and dead-letter guarantees, against a real nats-server."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest

from shared.contracts.streams import DEAD_LETTERS, INTAKE
from shared.dlq import list_dead_letters, replay
from tests.integration.messaging.harness import Harness, report_event, running, settings_for
from tests.support.http import eventually


async def stream_messages(url: str, stream: str) -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def test_relay_crash_between_publish_and_mark_leaves_exactly_one_message(
    nats_server, databases, monkeypatch
):
    harness = Harness(settings_for(await databases.url("relay"), nats_server.url), consume=False)
    async with running(harness):
        await harness.runtime.bus.wait_started()
        relay = harness.runtime.bus.relay
        assert relay is not None
        relay.stop()  # drive passes by hand
        events = [report_event(f"r{i}") for i in range(50)]
        await harness.submit(*events)

        original = relay._mark_sent

        async def crash(*_args, **_kwargs):
            raise RuntimeError("relay died after publishing, before marking")

        monkeypatch.setattr(relay, "_mark_sent", crash)
        with pytest.raises(RuntimeError):
            await relay.publish_pending()
        assert await harness.unpublished() == 50  # nothing marked: it died before the second step
        assert await stream_messages(nats_server.url, INTAKE.name) == 50

        monkeypatch.setattr(relay, "_mark_sent", original)
        assert await relay.publish_pending() == 50  # republished, JetStream drops duplicates
        assert await harness.unpublished() == 0
        assert await stream_messages(nats_server.url, INTAKE.name) == 50


async def test_same_event_delivered_twice_is_applied_once(nats_server, databases):
    harness = Harness(settings_for(await databases.url("inbox"), nats_server.url))
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        event = report_event("dup")
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            # Two different message ids get past JetStream's dedupe: a true redelivery.
            for msg_id in ("a", "b"):
                await js.publish(event.subject, event.to_json(), headers={"Nats-Msg-Id": msg_id})
            later = report_event("later")
            await js.publish(later.subject, later.to_json())
        finally:
            await nc.close()

        async def later_applied() -> bool:
            return await harness.applied_count("later") == 1

        await eventually(later_applied)
        assert await harness.applied_count("dup") == 1
        assert harness.calls.count("dup") == 1


async def test_failing_handler_is_retried_then_dead_lettered_while_later_events_flow(
    nats_server, databases
):
    harness = Harness(settings_for(await databases.url("dlq"), nats_server.url))

    async def poison(event):
        if event.payload.report_id == "poison":
            raise ValueError("cannot apply this one")

    harness.fail = poison
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        nc = await nats.connect(nats_server.url)
        try:  # a stream that never held a message reports first_seq 0: still an empty list
            assert await list_dead_letters(nc.jetstream()) == []
        finally:
            await nc.close()
        await harness.submit(report_event("before"), report_event("poison"))
        await harness.submit(report_event("after"))

        async def dead_lettered() -> bool:
            return await stream_messages(nats_server.url, DEAD_LETTERS.name) == 1

        await eventually(dead_lettered, timeout=20)
        assert await harness.applied_count("before") == 1
        assert await harness.applied_count("after") == 1
        assert await harness.applied_count("poison") == 0
        assert harness.calls.count("poison") == 3  # max_deliver

        nc = await nats.connect(nats_server.url)
        try:
            message = await nc.jetstream().get_msg(DEAD_LETTERS.name, seq=1)
        finally:
            await nc.close()
        assert message.headers is not None and message.data is not None
        assert message.headers["Danvan-Reason"] == "handler_failed"
        assert message.headers["Danvan-Original-Subject"] == "danvan.intake.report.submitted.v1"
        assert json.loads(message.data)["payload"]["report_id"] == "poison"

        # The operator fixes the cause and replays it: applied once, the DLQ is empty.
        harness.fail = None
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            [row] = await list_dead_letters(js)
            assert row["reason"] == "handler_failed" and row["seq"] == 1
            await replay(js, 1)
            assert await list_dead_letters(js) == []
        finally:
            await nc.close()

        async def replayed() -> bool:
            return await harness.applied_count("poison") == 1

        await eventually(replayed)


async def test_malformed_event_goes_straight_to_dead_letters(nats_server, databases):
    harness = Harness(settings_for(await databases.url("bad"), nats_server.url))
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            await js.publish("danvan.intake.report.submitted.v1", b"{not json")
            good = report_event("good")
            await js.publish(good.subject, good.to_json())
        finally:
            await nc.close()

        async def good_applied() -> bool:
            return await harness.applied_count("good") == 1

        await eventually(good_applied)

        async def dead_lettered() -> bool:
            return await stream_messages(nats_server.url, DEAD_LETTERS.name) == 1

        await eventually(dead_lettered)


async def test_event_written_while_nats_is_down_arrives_once_nats_is_back(nats_server, databases):
    harness = Harness(settings_for(await databases.url("down"), nats_server.url))
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        nats_server.kill()
        await harness.submit(report_event("while-down"))
        assert await harness.unpublished() == 1
        nats_server.start()  # same port, same store

        async def applied() -> bool:
            return await harness.applied_count("while-down") == 1

        await eventually(applied, timeout=30)

        # A publish buffered during the reconnect may reach the stream before its ack times
        # out; the relay then republishes (JetStream drops the duplicate) and marks the row.
        async def marked() -> bool:
            return await harness.unpublished() == 0

        await eventually(marked, timeout=30)
        assert await harness.applied_count("while-down") == 1


async def test_service_starts_while_nats_is_down_and_connects_later(nats_server, databases):
    nats_server.kill()
    harness = Harness(settings_for(await databases.url("late"), nats_server.url))
    async with running(harness):
        await harness.submit(report_event("early"))
        assert not harness.runtime.bus.started
        nats_server.start()
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)

        async def applied() -> bool:
            return await harness.applied_count("early") == 1

        await eventually(applied, timeout=30)


async def test_two_replicas_sharing_the_durable_apply_each_event_once(nats_server, databases):
    url = await databases.url("replicas")
    first = Harness(settings_for(url, nats_server.url, consumer_batch_size=10))
    second = Harness(settings_for(url, nats_server.url, consumer_batch_size=10))
    async with running(first), running(second):
        for replica in (first, second):
            await asyncio.wait_for(replica.runtime.bus.wait_started(), 20)
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            acks = [
                await js.publish_async(e.subject, e.to_json())
                for e in (report_event(f"shared-{i}") for i in range(300))
            ]
            await asyncio.gather(*acks)
        finally:
            await nc.close()

        async def all_applied() -> bool:
            return await first.applied_count() == 300

        await eventually(all_applied, timeout=60)
        assert len(first.calls) + len(second.calls) == 300  # no event handled twice
        assert first.calls and second.calls  # the work was shared
