"""Outbox relay and consumer throughput on a real nats-server and SQLite/PostgreSQL, each next
to the bare nats-py figure for the same events on a server with the same settings: the
launcher's configuration (file storage, `sync_interval: always`) and the project's streams
and consumer configuration (`shared.messaging.provision`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import nats

from bench.natsserver import ProjectNatsServer
from bench.stats import rate
from shared.contracts.intake import ReportSubmitted
from shared.messaging.provision import ConsumerSpec, provision
from tests.integration.messaging.harness import Harness, report_event, running, settings_for

MAX_PENDING = 4000  # what `EventBus.jetstream()` gives the relay


def events(prefix: str, count: int) -> list[ReportSubmitted]:
    """The events every messaging measurement moves: one small report version each."""
    return [report_event(f"{prefix}{i}") for i in range(count)]


async def relay_throughput(
    tmp: Path, database_url: str, rows: int, *, sync_always: bool = True
) -> dict[str, Any]:
    """Rows written to the outbox, then drained by one relay: messages per second."""
    server = ProjectNatsServer(tmp / f"nats-relay-{sync_always}", sync_always=sync_always)
    server.start()
    try:
        harness = Harness(settings_for(database_url, server.url, "benchrelay"), consume=False)
        async with running(harness):
            await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)
            relay = harness.runtime.bus.relay
            assert relay is not None
            relay.stop()
            pending = events("r", rows)
            for start in range(0, rows, 1000):
                await harness.submit(*pending[start : start + 1000])
            began = time.perf_counter()
            published = 0
            while published < rows:
                published += await relay.publish_pending()
            elapsed = time.perf_counter() - began
        return {"rows": rows, "seconds": round(elapsed, 3), "msg_per_s": round(rate(rows, elapsed))}
    finally:
        server.stop()


async def raw_publish_async(tmp: Path, rows: int, *, sync_always: bool = True) -> dict[str, Any]:
    """The same events published with nats-py `publish_async` (the relay's own call, the same
    Nats-Msg-Id header and pending limit), then every ack awaited; no database."""
    server = ProjectNatsServer(tmp / f"nats-raw-publish-{sync_always}", sync_always=sync_always)
    server.start()
    try:
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
            await provision(js)
            payloads = [(e.subject, e.to_json(), str(e.event_id)) for e in events("p", rows)]
            began = time.perf_counter()
            futures = [
                await js.publish_async(subject, body, headers={"Nats-Msg-Id": event_id})
                for subject, body, event_id in payloads
            ]
            await asyncio.gather(*futures)
            elapsed = time.perf_counter() - began
        finally:
            await nc.close()
        return {"rows": rows, "seconds": round(elapsed, 3), "msg_per_s": round(rate(rows, elapsed))}
    finally:
        server.stop()


async def consumer_throughput(
    tmp: Path, database_url: str, count: int, *, batch: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Events already in the stream, applied by the project's consumer (one transaction per
    event with the inbox claim, or with `batch` one per fetch with one claim statement);
    then the same events read by a bare nats-py pull consumer (`fetch(100)` + ack) on the
    same server. Returns (project, raw)."""
    mode = "batch" if batch else "single"
    server = ProjectNatsServer(tmp / f"nats-consumer-{mode}")
    server.start()
    try:
        harness = Harness(settings_for(database_url, server.url, "benchconsumer"), consume=False)
        async with running(harness):
            await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)
        nc = await nats.connect(server.url)
        js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
        futures = [await js.publish_async(e.subject, e.to_json()) for e in events("c", count)]
        await asyncio.gather(*futures)
        await nc.close()
        consumer = Harness(settings_for(database_url, server.url, "benchconsumer"), batch=batch)
        starting = time.perf_counter()
        async with running(consumer):
            # Timed from when the subscribers run, as the raw consumer is timed from its first
            # fetch: connecting and provisioning are not consuming (`startup_s`).
            await asyncio.wait_for(consumer.runtime.bus.wait_started(), 30)
            began = time.perf_counter()
            while await consumer.applied_count() < count:
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - began
        project = {
            "mode": "one transaction per fetch" if batch else "one transaction per event",
            "startup_s": round(began - starting, 3),
            "events": count,
            "seconds": round(elapsed, 3),
            "events_per_s": round(rate(count, elapsed)),
        }
        raw = await raw_fetch_ack(server.url, count)
        return project, raw
    finally:
        server.stop()


async def raw_fetch_ack(url: str, count: int) -> dict[str, Any]:
    """A durable pull consumer with the project's consumer configuration, read with nats-py
    `fetch(100)` and each message acknowledged: messages per second."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        spec = ConsumerSpec("benchraw", ReportSubmitted.subject, max_deliver=5)
        await js.add_consumer(spec.stream.name, config=spec.config())
        sub = await js.pull_subscribe_bind(spec.durable, spec.stream.name)
        received = 0
        began = time.perf_counter()
        while received < count:
            batch = await sub.fetch(100, timeout=5)
            for msg in batch:
                await msg.ack()
            received += len(batch)
        await nc.flush()
        elapsed = time.perf_counter() - began
        return {
            "messages": received,
            "batch": 100,
            "seconds": round(elapsed, 3),
            "msg_per_s": round(rate(received, elapsed)),
        }
    finally:
        await nc.close()
