"""`consolidation rebuild` reads every event of a stream however fast the server could send
them, and a replay that misses one fails instead of producing short projections. Against a
real nats-server, on SQLite and PostgreSQL (TEST_DATABASE_URL).

At 10⁶ events the rebuild read through an ordered push consumer: the server sent the stream
as fast as it could, nats-py buffered the subscription's messages up to its pending limit
and dropped the rest as a "slow consumer" (168,835 of 10⁶), and the rebuild reported
success. The first test makes the client's buffer small (1,000 messages) so that a stream of
3,000 events overflows it the same way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from sqlalchemy import func, select

from services.consolidation import db
from services.consolidation.rebuild import ReplayGapError, rebuild
from services.consolidation.settings import ConsolidationSettings
from shared.clock import ManualClock
from shared.db import create_engine
from shared.messaging.provision import provision
from tests.unit.consolidation.histories import many_units, period_changed, report_version

UNITS = 3_000
CLOCK = ManualClock(datetime(2024, 1, 10, tzinfo=UTC))


async def publish_period(url: str) -> None:
    """One period of `UNITS` units and every unit's report: 3,001 events."""
    units = many_units(UNITS)
    events: list[Any] = [period_changed("P", units)]
    events += [report_version("P", u.code, 1) for u in units]
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(publish_async_max_pending=4000)
        await provision(js)
        acks = [
            await js.publish_async(e.subject, e.to_json(), headers={"Nats-Msg-Id": str(e.event_id)})
            for e in events
        ]
        await asyncio.gather(*acks)
    finally:
        await nc.close()


async def submitted_reports(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(db.reports))
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_a_rebuild_reads_a_stream_larger_than_the_clients_buffer_whole(
    nats_server: Any, databases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe = Client.subscribe

    async def small_buffer(self: Client, *args: Any, **kwargs: Any) -> Any:
        kwargs["pending_msgs_limit"] = min(kwargs.get("pending_msgs_limit", 1000), 1000)
        return await subscribe(self, *args, **kwargs)

    await publish_period(nats_server.url)
    monkeypatch.setattr(Client, "subscribe", small_buffer)  # the rebuild's connection only
    url = await databases.url("rebuild-buffer")
    settings = ConsolidationSettings(database_url=url, nats_url=nats_server.url, env="test")
    report = await rebuild(settings, clock=CLOCK, idle_timeout=5)
    assert report.applied == UNITS + 1
    assert await submitted_reports(url) == UNITS


async def test_a_replay_that_misses_a_message_fails_and_keeps_the_old_projections(
    nats_server: Any, databases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish_period(nats_server.url)
    url = await databases.url("rebuild-gap")
    settings = ConsolidationSettings(database_url=url, nats_url=nats_server.url, env="test")
    assert (await rebuild(settings, clock=CLOCK, idle_timeout=5)).applied == UNITS + 1

    # The next rebuild's replay loses one message of its second fetch.
    fetch = JetStreamContext.PullSubscription.fetch
    fetches = {"n": 0}

    async def lossy(self: Any, *args: Any, **kwargs: Any) -> Any:
        messages = await fetch(self, *args, **kwargs)
        fetches["n"] += 1
        return messages[:10] + messages[11:] if fetches["n"] == 2 else messages

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", lossy)
    with pytest.raises(ReplayGapError):
        await rebuild(settings, clock=CLOCK, idle_timeout=5)
    assert await submitted_reports(url) == UNITS  # rolled back: the first rebuild's
