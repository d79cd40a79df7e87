"""Consolidation's cost per event for periods of 20, 200 and 2,000 units.

Each size gets a fresh projection and the same number of report events (every unit
submits, a third amend, half are reviewed, a few withdraw; small periods are repeated to
make up the count), applied as the consumer applies them: one transaction each, claiming
the event id, publishing the snapshot to the outbox. `events_per_s` is end to end (commits
included, so disk syncs and a busy machine show in it); `handler_ms_per_event` and
`cpu_ms_per_event` are the steadier signal. None of them should grow with the units. For
comparison, `full_recount_*` applies more events while also recounting the whole period
per event, which is what every event cost before the running counters.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import resource
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.consolidation import db, store
from services.consolidation.app import MIGRATIONS
from services.consolidation.domain import completeness
from services.consolidation.projector import Projector
from services.consolidation.subscribers import subscriptions
from shared.clock import ManualClock
from shared.db import create_engine, make_session_factory
from shared.messaging.inbox import claim_event, claim_events
from shared.migrations import upgrade_to_head
from tests.unit.consolidation.histories import (
    START,
    many_units,
    period_changed,
    report_version,
    review,
    withdrawal,
)

SIZES = (20, 200, 2000)
CONSUMER = "consolidation-bench"


def backlog(rng: random.Random, period_id: str, size: int) -> list[Any]:
    """Report events of a period with `size` units, in the order units would send them."""
    codes = [u.code for u in many_units(size, prefix="U")]
    rng.shuffle(codes)
    events: list[Any] = []
    for n, code in enumerate(codes):
        at = START + timedelta(seconds=n)
        events.append(report_version(period_id, code, 1, at=at, on_time=rng.random() < 0.8))
    for n, code in enumerate(codes):
        roll = rng.random()
        at = START + timedelta(days=1, seconds=n)
        if roll < 0.33:
            events.append(report_version(period_id, code, 2, at=at))
        elif roll < 0.83:
            decision = "accepted" if rng.random() < 0.8 else "returned"
            events.append(review(period_id, code, 1, decision, at=at))
        elif roll < 0.88:
            events.append(withdrawal(period_id, code, 1, at=at))
    return events


@dataclass
class Timing:
    """Wall time of a run, the part spent inside the handlers (without the commits), and the
    process's CPU time (steadier than wall time on a busy machine)."""

    seconds: float = 0.0
    handler_seconds: float = 0.0
    cpu_seconds: float = 0.0


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    handle: dict[type, Any],
    events: list[Any],
    *,
    recount_period: str | None = None,
) -> Timing:
    """Apply events one transaction each, as the consumer does."""
    timing = Timing()
    began, cpu = time.perf_counter(), time.process_time()
    for e in events:
        async with sessions() as session, session.begin():
            if await claim_event(session, db.processed_events, CONSUMER, str(e.event_id)):
                started = time.perf_counter()
                await handle[type(e)](session, e)
                if recount_period is not None:
                    await _recount_from_scratch(session, recount_period)
                timing.handler_seconds += time.perf_counter() - started
    timing.seconds = time.perf_counter() - began
    timing.cpu_seconds = time.process_time() - cpu
    return timing


BATCH = 100  # the consumers' fetch size (DANVAN_CONSUMER_BATCH_SIZE)


def fetches(events: list[Any], size: int = BATCH) -> list[list[Any]]:
    """The batches the live consumers would fetch: each subject has its own durable
    consumer, so a batch holds events of one kind, in their order, at most `size`."""
    by_kind: dict[type, list[Any]] = {}
    for e in events:
        by_kind.setdefault(type(e), []).append(e)
    batches = [
        kind_events[n : n + size]
        for kind_events in by_kind.values()
        for n in range(0, len(kind_events), size)
    ]
    # Interleave the subjects' batches, as their consumers run side by side.
    out: list[list[Any]] = []
    queues = [[b for b in batches if type(b[0]) is kind] for kind in by_kind]
    while any(queues):
        for queue in queues:
            if queue:
                out.append(queue.pop(0))
    return out


async def _apply_batched(
    sessions: async_sessionmaker[AsyncSession], batch_handlers: dict[type, Any], events: list[Any]
) -> Timing:
    """Apply events as the batched consumer does: one transaction per fetched batch, the
    event ids claimed in one statement, the subscription's batch handler."""
    timing = Timing()
    began, cpu = time.perf_counter(), time.process_time()
    for batch in fetches(events):
        async with sessions() as session, session.begin():
            new = await claim_events(
                session, db.processed_events, CONSUMER, [str(e.event_id) for e in batch]
            )
            fresh = [e for e in batch if str(e.event_id) in new]
            started = time.perf_counter()
            await batch_handlers[type(batch[0])](session, fresh)
            timing.handler_seconds += time.perf_counter() - started
    timing.seconds = time.perf_counter() - began
    timing.cpu_seconds = time.process_time() - cpu
    return timing


def _renamed(e: Any) -> Any:
    """The same event under a new id (the inbox already holds the first pass's ids)."""
    return e.model_copy(update={"event_id": uuid.uuid4()})


async def _recount_from_scratch(session: AsyncSession, period_id: str) -> None:
    """What every event cost before the running counters: count the whole period again."""
    period = await store.load_period(session, period_id)
    if period is not None:
        completeness(period, await store.period_reports(session, period_id, with_content=False))


def interleaved(backlogs: list[list[Any]], limit: int) -> list[Any]:
    """Round-robin over the periods' backlogs, as a consumer sees them; the first `limit`."""
    out: list[Any] = []
    for n in range(max((len(b) for b in backlogs), default=0)):
        out.extend(b[n] for b in backlogs if n < len(b))
    return out[:limit]


async def per_event_cost(
    tmp: Path,
    database_url: str,
    *,
    sizes: tuple[int, ...] = SIZES,
    events: int = 1000,
    baseline_events: int = 100,
) -> dict[str, Any]:
    """Events per second applying a report backlog, per period size (and the old recount).

    Every size applies the same number of events: small periods are repeated (50 periods of
    20 units), a 2,000-unit period gives the first `events` of its own backlog.
    """
    del tmp  # everything lives in the given database
    engine = create_engine(database_url)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    try:
        await upgrade_to_head(engine, MIGRATIONS)
        sessions = make_session_factory(engine)
        projector = Projector(ManualClock(datetime(2023, 6, 20, tzinfo=UTC)))
        handle = {s.contract: s.handler for s in subscriptions(projector)}
        batched = {s.contract: s.batch for s in subscriptions(projector)}
        # Warm the statement caches and connections so the first size is not penalised.
        warm = [period_changed("warm", many_units(20, prefix="U"))]
        await _apply(sessions, handle, warm + backlog(random.Random(0), "warm", 20))
        results: dict[str, Any] = {}
        for size in sizes:
            async with sessions() as session, session.begin():
                await store.clear_projections(session)
                await session.execute(delete(db.outbox))
            rng = random.Random(size)
            units = many_units(size, prefix="U")
            period_ids = [f"B{size}-{n}" for n in range(max(1, -(-events // (size * 2))))]
            periods = [period_changed(p, units) for p in period_ids]
            period_seconds = (await _apply(sessions, handle, periods)).seconds / len(periods)
            applied = interleaved([backlog(rng, p, size) for p in period_ids], events)
            statements = 0
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                timing = await _apply(sessions, handle, applied)
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
            # The old way, on the first period: amendments, each followed by a full recount.
            extra = [
                report_version(period_ids[0], u.code, 5, at=START + timedelta(days=3, seconds=n))
                for n, u in enumerate(rng.sample(units, min(baseline_events, size)))
            ]
            per_event_statements = statements
            old = await _apply(sessions, handle, extra, recount_period=period_ids[0])
            # The same backlog again, batched, on fresh projections of the same periods.
            async with sessions() as session, session.begin():
                await store.clear_projections(session)
                await session.execute(delete(db.outbox))
            await _apply(sessions, handle, [_renamed(p) for p in periods])
            again = [
                _renamed(e) for e in applied
            ]  # new ids: the inbox still holds the first pass's
            statements = 0
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                fast = await _apply_batched(sessions, batched, again)
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
            results[str(size)] = {
                "units_per_period": size,
                "periods": len(period_ids),
                "events": len(applied),
                "seconds": round(timing.seconds, 3),
                "events_per_s": round(len(applied) / timing.seconds),
                "handler_ms_per_event": round(1000 * timing.handler_seconds / len(applied), 3),
                "cpu_ms_per_event": round(1000 * timing.cpu_seconds / len(applied), 3),
                "statements_per_event": round(per_event_statements / len(applied), 2),
                "period_event_ms": round(period_seconds * 1000, 1),
                "full_recount_events": len(extra),
                "full_recount_events_per_s": round(len(extra) / old.seconds),
                "full_recount_handler_ms_per_event": round(
                    1000 * old.handler_seconds / len(extra), 3
                ),
                "full_recount_cpu_ms_per_event": round(1000 * old.cpu_seconds / len(extra), 3),
                "batched": {
                    "batch": BATCH,
                    "events": len(again),
                    "seconds": round(fast.seconds, 3),
                    "events_per_s": round(len(again) / fast.seconds),
                    "handler_ms_per_event": round(1000 * fast.handler_seconds / len(again), 3),
                    "cpu_ms_per_event": round(1000 * fast.cpu_seconds / len(again), 3),
                    "statements_per_event": round(statements / len(again), 2),
                },
            }
        return {"backend": engine.dialect.name, "sizes": results}
    finally:
        await engine.dispose()


def rebuild_stream(events: int, periods: list[str], *, seed: int = 7) -> Iterator[Any]:
    """About `events` events for the rebuild, generated as they are published (a national
    year is 10⁶: held at once they would measure the generator's memory): periods of 2,000
    units, each opened by its period event, then its report events; `periods` gets the id of
    each period begun."""
    rng = random.Random(seed)
    units = many_units(2000, prefix="U")
    sent = n = 0
    while sent < events:
        period_id = f"R{n}"
        periods.append(period_id)
        for item in [period_changed(period_id, units), *backlog(rng, period_id, 2000)]:
            if sent == events:
                return
            yield item
            sent += 1
        n += 1


async def rebuild_throughput(tmp: Path, database_url: str, *, events: int) -> dict[str, Any]:
    """`consolidation rebuild` of a stream of about `events` report events (periods of 2,000
    units, every unit submitting, a third amending, half reviewed) on a server with the
    launcher's configuration: events per second and the extrapolated time for 10⁶; the
    time to publish the stream and the process's peak RSS beside them."""
    import nats

    from bench.natsserver import ProjectNatsServer
    from services.consolidation.rebuild import rebuild
    from services.consolidation.settings import ConsolidationSettings
    from shared.messaging.provision import provision

    server = ProjectNatsServer(tmp / "nats-rebuild")
    server.start()
    try:
        published = 0
        periods: list[str] = []
        publish_began = time.perf_counter()
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream(publish_async_max_pending=4000)
            await provision(js)
            stream = rebuild_stream(events, periods)
            while chunk := list(itertools.islice(stream, 4000)):
                futures = [
                    await js.publish_async(
                        e.subject, e.to_json(), headers={"Nats-Msg-Id": str(e.event_id)}
                    )
                    for e in chunk
                ]
                await asyncio.gather(*futures)
                published += len(chunk)
        finally:
            await nc.close()
        publish_s = time.perf_counter() - publish_began
        settings = ConsolidationSettings(database_url=database_url, nats_url=server.url, env="test")
        began, cpu = time.perf_counter(), time.process_time()
        report = await rebuild(settings, clock=ManualClock(datetime(2024, 1, 10, tzinfo=UTC)))
        elapsed, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
        per_s = report.applied / elapsed
        return {
            "events": published,
            "applied": report.applied,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "periods": len(periods),
            "units_per_period": 2000,
            "publish_seconds": round(publish_s, 2),
            "seconds": round(elapsed, 2),
            "events_per_s": round(per_s),
            "cpu_ms_per_event": round(1000 * cpu_seconds / max(1, report.applied), 3),
            "extrapolated_minutes_for_1e6_events": round(1_000_000 / per_s / 60, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        server.stop()
