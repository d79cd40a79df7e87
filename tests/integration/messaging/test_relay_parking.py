"""An outbox row that can never be published (larger than the server's max_payload) is
parked, counted and logged, and the rows after it are published; the relay keeps one
JetStream context however many passes it makes. Against a real nats-server with a small
`max_payload`."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from shared.contracts.intake import ReportSubmitted
from tests.integration.messaging.harness import (
    Harness,
    outbox,
    report_event,
    running,
    settings_for,
)
from tests.support.http import eventually
from tests.support.nats import NatsServer

MAX_PAYLOAD = 64 * 1024


def oversized_event(report_id: str) -> ReportSubmitted:
    """A report version whose JSON is larger than the test server's max_payload."""
    event = report_event(report_id)
    content = {"ton_tai_han_che": "Không phát sinh " * (MAX_PAYLOAD // 8)}
    return event.model_copy(
        update={"payload": event.payload.model_copy(update={"content": content})}
    )


@pytest.fixture
def small_nats(tmp_path):
    server = NatsServer(tmp_path / "nats-small", max_payload=MAX_PAYLOAD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def metric(harness: Harness, name: str) -> float:
    value = harness.runtime.registry.get_sample_value(name, {"service": "harness"})
    return float(value or 0.0)


async def test_an_event_too_large_for_nats_is_parked_and_the_later_ones_flow(
    small_nats, databases, caplog
):
    harness = Harness(settings_for(await databases.url("parked"), small_nats.url))
    async with running(harness):
        await asyncio.wait_for(harness.runtime.bus.wait_started(), 20)
        big = oversized_event("too-big")
        assert len(big.to_json()) > MAX_PAYLOAD
        await harness.submit(report_event("before"))
        await harness.submit(big)
        await harness.submit(report_event("after-1"), report_event("after-2"))
        harness.runtime.bus.wake_relay()

        async def later_ones_applied() -> bool:
            return all(
                [await harness.applied_count(r) == 1 for r in ("before", "after-1", "after-2")]
            )

        await eventually(later_ones_applied, timeout=20)
        async with harness.runtime.sessions() as session:
            row = (
                await session.execute(select(outbox).where(outbox.c.event_id == str(big.event_id)))
            ).one()
        assert row.published_at is None
        assert row.parked_at is not None
        assert "MaxPayloadError" in (row.last_error or "")
        assert row.claimed_by is None
        assert await harness.applied_count("too-big") == 0
        assert metric(harness, "danvan_outbox_parked_total") == 1
        relay = harness.runtime.bus.relay
        assert relay is not None
        await relay.refresh_backlog_metrics()
        assert metric(harness, "danvan_outbox_parked_rows") == 1
        assert metric(harness, "danvan_outbox_pending") == 0
        assert any("parked" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
        # A parked row is not claimed again: another pass publishes nothing and fails not.
        assert await relay.publish_pending() == 0
        assert metric(harness, "danvan_outbox_parked_total") == 1


async def test_the_relay_reuses_one_jetstream_context(nats_server, databases):
    harness = Harness(settings_for(await databases.url("one-js"), nats_server.url), consume=False)
    async with running(harness):
        bus = harness.runtime.bus
        await asyncio.wait_for(bus.wait_started(), 20)
        relay = bus.relay
        assert relay is not None
        relay.stop()  # drive the passes by hand
        js = bus.jetstream()
        await harness.submit(report_event("warm-up"))
        assert await relay.publish_pending() == 1
        connection = bus.broker.connection
        subscriptions = len(connection._subs)
        for i in range(10):
            await harness.submit(report_event(f"pass-{i}"))
            assert await relay.publish_pending() == 1
        assert bus.jetstream() is js
        # Each new context subscribed its own reply inbox for publish_async: none were added.
        assert len(connection._subs) == subscriptions
