"""The consumer-lag gauge: read from JetStream; a read that fails is logged and counted, not
silently skipped."""

from __future__ import annotations

import asyncio
import logging

import nats

from tests.integration.messaging.harness import Harness, running, settings_for


async def test_a_failed_lag_read_is_logged_and_counted(nats_server, databases, caplog):
    harness = Harness(settings_for(await databases.url("lag"), nats_server.url))
    async with running(harness):
        bus = harness.runtime.bus
        await asyncio.wait_for(bus.wait_started(), 20)
        [spec] = bus.consumers
        registry = harness.runtime.registry
        labels = {"service": "harness", "durable": spec.durable}

        await bus.refresh_lag()
        assert registry.get_sample_value("danvan_consumer_pending_messages", labels) == 0
        assert not registry.get_sample_value("danvan_consumer_lag_check_errors_total", labels)

        nc = await nats.connect(nats_server.url)
        try:
            await nc.jetstream().delete_consumer(spec.stream.name, spec.durable)
        finally:
            await nc.close()
        with caplog.at_level(logging.WARNING, logger="shared.messaging.bus"):
            await bus.refresh_lag()
        assert registry.get_sample_value("danvan_consumer_lag_check_errors_total", labels) == 1
        assert any(
            "could not read the lag" in r.getMessage() and spec.durable in r.getMessage()
            for r in caplog.records
        )
