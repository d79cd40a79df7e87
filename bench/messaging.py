"""Outbox relay and consumer throughput on a real nats-server and SQLite/PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import nats

from tests.integration.messaging.harness import Harness, report_event, running, settings_for
from tests.support.nats import NatsServer


async def relay_throughput(tmp: Path, database_url: str, rows: int) -> dict[str, Any]:
    """Rows written to the outbox, then drained by one relay: messages per second."""
    server = NatsServer(tmp / "nats-relay")
    server.start()
    try:
        harness = Harness(settings_for(database_url, server.url, "benchrelay"), consume=False)
        async with running(harness):
            await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)
            relay = harness.runtime.bus.relay
            assert relay is not None
            relay.stop()
            for start in range(0, rows, 1000):
                await harness.submit(*(report_event(f"r{i}") for i in range(start, start + 1000)))
            began = time.perf_counter()
            published = 0
            while published < rows:
                published += await relay.publish_pending()
            elapsed = time.perf_counter() - began
        return {"rows": rows, "seconds": round(elapsed, 3), "msg_per_s": round(rows / elapsed)}
    finally:
        server.stop()


async def consumer_throughput(tmp: Path, database_url: str, events: int) -> dict[str, Any]:
    """Events already in the stream, applied idempotently one transaction each: events/s."""
    server = NatsServer(tmp / "nats-consumer")
    server.start()
    try:
        harness = Harness(settings_for(database_url, server.url, "benchconsumer"), consume=False)
        async with running(harness):
            await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        futures = [
            await js.publish_async(e.subject, e.to_json())
            for e in (report_event(f"c{i}") for i in range(events))
        ]
        await asyncio.gather(*futures)
        await nc.close()
        consumer = Harness(settings_for(database_url, server.url, "benchconsumer"))
        began = time.perf_counter()
        async with running(consumer):
            while await consumer.applied_count() < events:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - began
        return {
            "events": events,
            "seconds": round(elapsed, 3),
            "events_per_s": round(events / elapsed),
        }
    finally:
        server.stop()
