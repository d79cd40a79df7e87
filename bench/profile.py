"""Where the time of each hot path goes: `python -m bench profile [PATH …]`.

PATH is one of `amendment` (PUT /v1/reports/{id} on a running intake, one at a time),
`consumer` (the generic consumer: one transaction per event with the inbox claim),
`projector` (consolidation's projector per report event), `relay` (the outbox relay) and
`raw_publish` (nats-py publish_async of the same events, for comparison), and the last two
again as `relay_default_sync` and `raw_publish_default_sync` on a nats-server without
`sync_interval: always`; all by default.

Each path runs in this process on uvloop, with a real nats-server (the launcher's
configuration) and SQLite (the shared engine's settings). A first pass records every SQL
statement with the project function that issued it; the timed pass runs with py-spy
attached (all threads, non-blocking), and its samples are grouped by step and by layer
(`bench.spy`). The load client's own frames are left out of the amendment's samples.
Results: `bench-results/profile.json` and a Markdown summary `bench-results/profile.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import nats
import uvloop

from bench import consolidation as consolidation_bench
from bench.baselines import amendment, seed_units
from bench.http1 import Connection
from bench.messaging import MAX_PENDING, events
from bench.natsserver import ProjectNatsServer
from bench.spy import (
    Rule,
    Sample,
    Spy,
    by_layer,
    by_step,
    split_waiting,
    top_inclusive,
    top_self,
    without,
)
from bench.sqllog import recording
from bench.stats import latency_summary

log = logging.getLogger("bench.profile")

AIOSQLITE_THREAD = Rule("SQLite itself (aiosqlite's worker thread)", ("aiosqlite/",), "Thread-")
# SQLAlchemy runs each statement's sync half in a greenlet whose stack starts at
# greenlet_spawn: py-spy sees SQLAlchemy's frames without the project function that called.
SQLALCHEMY_GREENLET = Rule(
    "SQLAlchemy executing statements (in its greenlet: the caller is not on the stack)",
    ("sqlalchemy/", "aiosqlite/"),
)

LAYERS: tuple[Rule, ...] = (
    AIOSQLITE_THREAD,
    Rule("SQLAlchemy (Core/ORM, compile, result rows)", ("sqlalchemy/",)),
    Rule("aiosqlite (event-loop side)", ("aiosqlite/",)),
    Rule("pydantic", ("pydantic/", "pydantic_core/")),
    Rule("JWT and Ed25519", ("jwt/", "cryptography/")),
    Rule("json", ("json/",)),
    Rule("uvicorn / httptools", ("uvicorn/", "httptools")),
    Rule("Starlette / FastAPI", ("starlette/", "fastapi/")),
    Rule("FastStream", ("faststream/",)),
    Rule("nats-py", ("nats/",)),
    Rule("logging", ("logging/",)),
    Rule("prometheus_client", ("prometheus_client/",)),
    Rule("asyncio / uvloop", ("asyncio/", "uvloop/")),
    Rule("project code itself", ("services/", "shared/", "tests/", "bench/")),
    Rule("standard library, other", ("",)),
)

AMENDMENT_STEPS: tuple[Rule, ...] = (
    AIOSQLITE_THREAD,
    Rule(
        "threadpool hop for a sync dependency (FastAPI runs `def` dependencies in AnyIO threads)",
        ("anyio/",),
    ),
    Rule("outbox relay pass, after the commit", ("shared/messaging/relay.py",)),
    Rule("token verification (PyJWT, Ed25519, claims)", ("shared/auth.py",)),
    Rule("body size check (reads the body)", ("_json_within_limit",)),
    Rule("request fingerprint (canonical JSON + SHA-256)", ("request_fingerprint",)),
    Rule("form validation and canonical content", ("shared/forms/validation.py", "_validate (")),
    Rule("content digest", ("content_sha256",)),
    Rule("answer body and receipt", ("_accepted_body",)),
    Rule("idempotency row", ("remember_idempotent",)),
    Rule("report row update", ("advance_report",)),
    Rule("version row, outbox event, difficulties, audit", ("_store_version",)),
    Rule(
        "reads before validating (report, replay, period)",
        ("visible_report", "replay (", "period_of", "report_from_row", "find_period"),
    ),
    Rule("amend_report's own code and its transaction", ("amend_report (services",)),
    Rule("metrics and body-limit middlewares", ("shared/http.py",)),
    Rule("HTTP: uvicorn, Starlette, FastAPI routing and response", ("uvicorn/", "starlette/")),
    Rule("FastAPI request parsing and dependencies", ("fastapi/",)),
    SQLALCHEMY_GREENLET,
    Rule("event loop and everything else", ("",)),
)

CONSUMER_STEPS: tuple[Rule, ...] = (
    AIOSQLITE_THREAD,
    Rule("parse the event (pydantic model_validate_json)", ("model_validate_json",)),
    Rule("inbox claim (INSERT … ON CONFLICT DO NOTHING)", ("claim_event",)),
    Rule("the handler", ("Harness._apply", "services/consolidation/projector.py")),
    Rule("transaction begin/commit, session open/close", ("sqlalchemy/",)),
    Rule("EventProcessor's own code and the service lock", ("shared/messaging/consumer.py",)),
    Rule("metrics", ("prometheus_client/", "faststream/prometheus", "faststream/middlewares")),
    Rule("FastStream: fetch loop, message wrapping, ack", ("faststream/",)),
    Rule("nats-py: fetch and ack", ("nats/",)),
    SQLALCHEMY_GREENLET,
    Rule("event loop and everything else", ("",)),
)

PROJECTOR_STEPS: tuple[Rule, ...] = (
    AIOSQLITE_THREAD,
    Rule("inbox claim", ("claim_event",)),
    Rule(
        "completeness snapshot: revision, missing units, outbox event (period.updated)",
        ("_period_changed",),
    ),
    Rule(
        "unit standing and counters (load, recompute, save)",
        ("_count_unit", "load_standing", "unit_reports", "save_standing", "save_counters"),
    ),
    Rule("report record: lock counters, load, merge, save", ("_change_report",)),
    SQLALCHEMY_GREENLET,
    Rule("bench loop and everything else", ("",)),
)

RELAY_STEPS: tuple[Rule, ...] = (
    AIOSQLITE_THREAD,
    Rule("claim the batch (SELECT … LIMIT 500)", ("_claim",)),
    Rule("mark the acknowledged rows (UPDATE … WHERE id IN)", ("_mark_sent",)),
    Rule("publish_async calls (headers, inbox, write)", ("publish_async",)),
    Rule("awaiting and reading the acks", ("_handle_async_reply", "asyncio/tasks.py", "_wait")),
    Rule("nats-py reading and writing the socket", ("nats/",)),
    Rule("relay's own code", ("shared/messaging/relay.py",)),
    SQLALCHEMY_GREENLET,
    Rule("event loop and everything else", ("",)),
)

CLIENT = ("bench/load.py", "bench/http1.py", "bench/profile.py")


def _queue_get_line() -> int:
    """The line where aiosqlite's worker thread waits for the next call (`tx.get()`)."""
    import inspect

    import aiosqlite.core

    lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    return first + next(n for n, line in enumerate(lines) if "tx.get()" in line)


# Innermost frames of threads that wait: py-spy (non-blocking) still counts some as active.
WAITING = (
    f"_connection_worker_thread (aiosqlite/core.py:{_queue_get_line()})",
    "Condition.wait (threading.py",
    "Queue.get (queue.py",
    "Runner.run (asyncio/runners.py",  # uvloop's loop in C: polling, or its own C I/O
)


def report(
    samples: list[Sample],
    steps: Sequence[Rule],
    *,
    items: int,
    rate: int,
    cpu_seconds: float | None = None,
) -> dict[str, Any]:
    """The tables of one path. With the process's CPU time over the sampled run, each row
    also gets `cpu_ms_per_item`: its share of the busy samples times the CPU per item (py-spy
    in non-blocking mode misses some busy samples, so shares are steadier than counts)."""
    samples, waiting = split_waiting(samples, WAITING)
    total = sum(s.count for s in samples)
    out: dict[str, Any] = {
        "items": items,
        "samples": total,
        "waiting_samples_left_out": sum(s.count for s in waiting),
        "sampled_ms_per_item": round(1000 * total / rate / items, 3),
        "steps": by_step(samples, steps, items=items, rate=rate),
        "layers": by_layer(samples, LAYERS, items=items, rate=rate),
        "top_self": top_self(samples),
        "top_project_inclusive": top_inclusive(samples),
    }
    if cpu_seconds is not None:
        per_item = 1000 * cpu_seconds / items
        out["process_cpu_ms_per_item"] = round(per_item, 3)
        for key in ("steps", "layers"):
            for row in out[key]:
                row["cpu_ms_per_item"] = round(row["share"] * per_item, 3)
    return out


class CpuClock:
    """The process's CPU time (every thread) over a block."""

    def __enter__(self) -> CpuClock:
        self.began = time.process_time()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.process_time() - self.began


def log_to_file(path: Path) -> None:
    """Point the root handler that configure_logging installed at a file."""
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(path, "a", encoding="utf-8"))  # noqa: SIM115


class ConnectionTimes:
    """Where an amendment's wall time goes besides CPU: waiting for the service's single
    SQLite connection, holding it, and the relay's wait for JetStream's acks (inside its
    transaction before issue 13's relay change, outside it since). Measured by wrapping the
    engine's pool and the relay's publish step in this process (no change to the service):
    tasks named `outbox-relay` are the relay, the rest are requests."""

    def __init__(self, engine: Any, relay: Any) -> None:
        self.pool = engine.sync_engine.pool
        self.relay = relay
        self.waiting: dict[str, float] = {"request": 0.0, "relay": 0.0}
        self.holding: dict[str, float] = {"request": 0.0, "relay": 0.0}
        self.checkouts: dict[str, int] = {"request": 0, "relay": 0}
        self.acks = 0.0
        self._held: dict[int, tuple[float, str]] = {}

    @staticmethod
    def _who() -> str:
        task = asyncio.current_task()
        return "relay" if task is not None and task.get_name() == "outbox-relay" else "request"

    def __enter__(self) -> ConnectionTimes:
        from sqlalchemy import event

        pool, relay = self.pool, self.relay
        self._do_get, self._publish = pool._do_get, relay._publish

        def do_get() -> Any:
            began, who = time.perf_counter(), self._who()
            try:
                return self._do_get()
            finally:
                self.waiting[who] += time.perf_counter() - began

        async def publish(js: Any, rows: Any) -> Any:
            began = time.perf_counter()
            try:
                return await self._publish(js, rows)
            finally:
                self.acks += time.perf_counter() - began

        def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            who = self._who()
            self.checkouts[who] += 1
            self._held[id(record)] = (time.perf_counter(), who)

        def checkin(_dbapi: Any, record: Any) -> None:
            began, who = self._held.pop(id(record), (None, ""))
            if began is not None:
                self.holding[who] += time.perf_counter() - began

        self._listeners: list[tuple[Any, str, Callable[..., Any]]] = [
            (pool, "checkout", checkout),
            (pool, "checkin", checkin),
        ]
        for target, name, fn in self._listeners:
            event.listen(target, name, fn)
        pool._do_get, relay._publish = do_get, publish
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        for target, name, fn in self._listeners:
            event.remove(target, name, fn)
        self.pool._do_get, self.relay._publish = self._do_get, self._publish

    def per_item(self, items: int, latency_mean_ms: float) -> dict[str, Any]:
        def ms(value: float) -> float:
            return round(1000 * value / items, 3)

        return {
            "items": items,
            "latency_mean_ms": latency_mean_ms,
            "request_waits_for_the_connection_ms": ms(self.waiting["request"]),
            "request_holds_the_connection_ms": ms(self.holding["request"]),
            "relay_holds_the_connection_ms": ms(self.holding["relay"]),
            "relay_awaits_jetstream_acks_ms": ms(self.acks),
            "checkouts_per_item": {k: round(v / items, 2) for k, v in self.checkouts.items()},
        }


async def amendment_path(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Intake in this process (uvicorn, its relay and consumers), the registry's seed events
    published to JetStream, then one unit's amendments one after the other."""
    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings
    from shared.logs import configure_logging
    from tests.integration.intake.conftest import hong_linh_events
    from tests.support.http import serve_app
    from tests.support.tokens import TokenMint

    # As `make run` logs (text lines at INFO), into a file instead of the terminal.
    configure_logging("INFO", service="intake", json_format=False)
    log_to_file(tmp / "intake.log")

    server = ProjectNatsServer(tmp / "nats-intake")
    server.start()
    try:
        mint = TokenMint()
        settings = IntakeSettings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'intake.db'}",
            nats_url=server.url,
            data_dir=tmp / "data",
        )
        app = create_app(settings, key_source=mint.key_source())
        engine = app.state.runtime.engine
        async with serve_app(app) as base:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            for _ in range(100):
                try:
                    await js.stream_info("DANVAN_REGISTRY")
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            for event in hong_linh_events():
                await js.publish(
                    event.subject, event.to_json(), headers={"Nats-Msg-Id": str(event.event_id)}
                )
            await nc.close()
            unit = next(u for u in seed_units() if u["kind"] == "ward")
            headers = mint.headers("unit", unit["code"])
            connection = Connection(base)
            for _ in range(200):
                created = await connection.request(
                    "POST", "/v1/reports", json_body=amendment(unit, 0), headers=headers
                )
                if created.status == 201:
                    break
                await asyncio.sleep(0.1)  # the period is still on its way to intake
            created.raise_for_status()
            report_id = created.json()["report_id"]
            revision = 0

            async def amend() -> float:
                nonlocal revision
                revision += 1
                began = time.perf_counter()
                response = await connection.request(
                    "PUT",
                    f"/v1/reports/{report_id}",
                    json_body=amendment(unit, revision),
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                )
                response.raise_for_status()
                return time.perf_counter() - began

            async def settle() -> None:
                await asyncio.sleep(0.05)  # the relay publishes right after each commit

            for _ in range(30):
                await amend()
            with recording(engine) as statements:
                for _ in range(args.statement_items):
                    await amend()
                    await settle()
            with ConnectionTimes(engine, app.state.runtime.bus.relay) as times:
                timed = [await amend() for _ in range(args.amendments)]
            latencies = []
            async with Spy(tmp / "amendment.txt", args.rate) as spy:
                with CpuClock() as cpu:
                    for _ in range(args.amendments):
                        latencies.append(await amend())
            await connection.close()
        samples = spy.samples()
        server_side = without(samples, CLIENT)
        out = report(
            server_side,
            AMENDMENT_STEPS,
            items=args.amendments,
            rate=args.rate,
            cpu_seconds=cpu.seconds,
        )
        out["latency"] = latency_summary(latencies)
        out["client_samples_left_out"] = sum(s.count for s in samples) - out["samples"]
        out["wall_clock"] = times.per_item(len(timed), latency_summary(timed)["mean_ms"])
        out["sql"] = statements.per_item(args.statement_items)
        return out
    finally:
        logging.getLogger().handlers[0].close()
        server.stop()


async def consumer_path(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """bench.messaging's consumer (one transaction per event, inbox claim, a one-row handler)
    draining events already in the stream."""
    from tests.integration.messaging.harness import Harness, running, settings_for

    server = ProjectNatsServer(tmp / "nats-consumer")
    server.start()
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'consumer.db'}"
        setup = Harness(settings_for(url, server.url, "profileconsumer"), consume=False)
        async with running(setup):
            await asyncio.wait_for(setup.runtime.bus.wait_started(), 30)
        nc = await nats.connect(server.url)
        js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
        total = args.statement_items + args.events
        futures = [await js.publish_async(e.subject, e.to_json()) for e in events("q", total)]
        await asyncio.gather(*futures)
        await nc.close()
        consumer = Harness(settings_for(url, server.url, "profileconsumer"))
        async with running(consumer):
            with recording(consumer.runtime.engine) as statements:
                while await consumer.applied_count() < args.statement_items:
                    await asyncio.sleep(0.01)
                seen = await consumer.applied_count()
            async with Spy(tmp / "consumer.txt", args.rate) as spy:
                with CpuClock() as cpu:
                    began = time.perf_counter()
                    while await consumer.applied_count() < total:
                        await asyncio.sleep(0.05)
                    elapsed = time.perf_counter() - began
        samples = spy.samples()
        out = report(
            samples, CONSUMER_STEPS, items=args.events, rate=args.rate, cpu_seconds=cpu.seconds
        )
        out["events_per_s"] = round(args.events / elapsed)
        # The counting polls above issue their own SELECT count(*): left out by shape.
        sql = statements.per_item(seen)
        sql["statements"] = [s for s in sql["statements"] if "applied_count" not in s["issued_by"]]
        out["sql"] = sql
        return out
    finally:
        server.stop()


async def projector_path(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Consolidation's projector applying report events of 20-unit periods, one transaction
    each, as bench.consolidation measures them."""
    import random

    from services.consolidation.app import MIGRATIONS
    from services.consolidation.projector import Projector
    from services.consolidation.subscribers import subscriptions
    from shared.clock import ManualClock
    from shared.db import create_engine, make_session_factory
    from shared.migrations import upgrade_to_head
    from tests.unit.consolidation.histories import many_units, period_changed

    engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'projector.db'}")
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        sessions = make_session_factory(engine)
        from datetime import UTC, datetime

        projector = Projector(ManualClock(datetime(2023, 6, 20, tzinfo=UTC)))
        handle = {s.contract: s.handler for s in subscriptions(projector)}
        units = many_units(20, prefix="U")
        rng = random.Random(20)
        count = args.statement_items + args.projector_events
        period_ids = [f"P{n}" for n in range(-(-count // 40) + 1)]
        await consolidation_bench._apply(
            sessions, handle, [period_changed(p, units) for p in period_ids]
        )
        applied = consolidation_bench.interleaved(
            [consolidation_bench.backlog(rng, p, 20) for p in period_ids], count
        )
        first, rest = applied[: args.statement_items], applied[args.statement_items :]
        with recording(engine) as statements:
            await consolidation_bench._apply(sessions, handle, first)
        async with Spy(tmp / "projector.txt", args.rate) as spy:
            timing = await consolidation_bench._apply(sessions, handle, rest)
        out = report(
            spy.samples(),
            PROJECTOR_STEPS,
            items=len(rest),
            rate=args.rate,
            cpu_seconds=timing.cpu_seconds,
        )
        out["events_per_s"] = round(len(rest) / timing.seconds)
        out["cpu_ms_per_event"] = round(1000 * timing.cpu_seconds / len(rest), 3)
        out["sql"] = statements.per_item(len(first))
        return out
    finally:
        await engine.dispose()


async def relay_path(
    tmp: Path, args: argparse.Namespace, *, sync_always: bool = True
) -> dict[str, Any]:
    """One relay draining outbox rows written beforehand (bench.messaging's relay figure)."""
    from tests.integration.messaging.harness import Harness, running, settings_for

    server = ProjectNatsServer(tmp / "nats-relay", sync_always=sync_always)
    server.start()
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'relay.db'}"
        harness = Harness(settings_for(url, server.url, "profilerelay"), consume=False)
        async with running(harness):
            await asyncio.wait_for(harness.runtime.bus.wait_started(), 30)
            relay = harness.runtime.bus.relay
            assert relay is not None
            relay.stop()
            pending = events("s", args.statement_items + args.rows)
            for start in range(0, len(pending), 1000):
                await harness.submit(*pending[start : start + 1000])
            with recording(harness.runtime.engine) as statements:
                published = 0
                while published < args.statement_items:
                    published += await relay.publish_pending()
            subscriptions_before = len(harness.runtime.bus.broker.connection._subs)
            async with Spy(tmp / "relay.txt", args.rate) as spy:
                with CpuClock() as cpu:
                    began = time.perf_counter()
                    passes = 0
                    while published < len(pending):
                        published += await relay.publish_pending()
                        passes += 1
                    elapsed = time.perf_counter() - began
            subscriptions_after = len(harness.runtime.bus.broker.connection._subs)
        out = report(
            spy.samples(), RELAY_STEPS, items=args.rows, rate=args.rate, cpu_seconds=cpu.seconds
        )
        out["msg_per_s"] = round(args.rows / elapsed)
        out["sql"] = statements.per_item(args.statement_items)
        out["passes"] = passes
        out["nats_subscriptions_added_by_the_passes"] = subscriptions_after - subscriptions_before
        return out
    finally:
        server.stop()


async def raw_publish_path(
    tmp: Path, args: argparse.Namespace, *, sync_always: bool = True
) -> dict[str, Any]:
    """nats-py publish_async of the same events with the same header and pending limit."""
    from shared.messaging.provision import provision

    server = ProjectNatsServer(tmp / "nats-raw", sync_always=sync_always)
    server.start()
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
        await provision(js)
        payloads = [(e.subject, e.to_json(), str(e.event_id)) for e in events("t", args.rows)]
        async with Spy(tmp / "raw.txt", args.rate) as spy:
            with CpuClock() as cpu:
                began = time.perf_counter()
                futures = [
                    await js.publish_async(s, body, headers={"Nats-Msg-Id": event_id})
                    for s, body, event_id in payloads
                ]
                await asyncio.gather(*futures)
                elapsed = time.perf_counter() - began
        await nc.close()
        out = report(
            spy.samples(), RELAY_STEPS, items=args.rows, rate=args.rate, cpu_seconds=cpu.seconds
        )
        out["msg_per_s"] = round(args.rows / elapsed)
        return out
    finally:
        server.stop()


PathRunner = Callable[[Path, argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]]
PATHS: dict[str, PathRunner] = {
    "amendment": amendment_path,
    "consumer": consumer_path,
    "projector": projector_path,
    "relay": relay_path,
    "raw_publish": raw_publish_path,
    # nats-server's default fsync (every 2 minutes): where the CPU goes once fsync is not
    # the bound.
    "relay_default_sync": functools.partial(relay_path, sync_always=False),
    "raw_publish_default_sync": functools.partial(raw_publish_path, sync_always=False),
}


def markdown(results: dict[str, Any], *, rows: int = 12) -> str:
    """A readable summary of the profile for docs/BENCHMARKS.md."""
    lines: list[str] = []
    for name, result in results.items():
        if not isinstance(result, dict) or "steps" not in result:
            continue
        lines.append(f"### {name}")
        lines.append("")
        keys = (
            "latency",
            "events_per_s",
            "msg_per_s",
            "process_cpu_ms_per_item",
            "passes",
            "nats_subscriptions_added_by_the_passes",
        )
        extra = {k: result[k] for k in keys if k in result}
        lines.append(
            f"{result['items']} items, {result['samples']} busy samples "
            f"({result['waiting_samples_left_out']} waiting left out), "
            f"{result['sampled_ms_per_item']} ms sampled per item; {json.dumps(extra)}"
        )
        for title, key in (("step", "steps"), ("layer", "layers")):
            lines += ["", f"| {title} | share | CPU ms per item |", "|---|---|---|"]
            for row in result[key][:rows]:
                cpu = row.get("cpu_ms_per_item", row["ms_per_item"])
                lines.append(f"| {row['label']} | {row['share']:.1%} | {cpu} |")
        if "wall_clock" in result:
            lines += ["", "| wall clock per amendment | ms |", "|---|---|"]
            for key, value in result["wall_clock"].items():
                lines.append(f"| {key} | {value} |")
        lines += ["", "| innermost frame | share |", "|---|---|"]
        for row in result["top_self"][:rows]:
            lines.append(f"| `{row['frame']}` | {row['share']:.1%} |")
        lines += ["", "| project function (inclusive) | share |", "|---|---|"]
        for row in result["top_project_inclusive"][:rows]:
            lines.append(f"| `{row['frame']}` | {row['share']:.1%} |")
        if "sql" in result:
            sql = result["sql"]
            lines += [
                "",
                f"SQL: {sql['statements_per_item']} statements and "
                f"{sql['commits_per_item']} commits per item",
                "",
                "| statement | issued by | per item |",
                "|---|---|---|",
            ]
            for row in sql["statements"][:20]:
                lines.append(f"| `{row['statement']}` | `{row['issued_by']}` | {row['per_item']} |")
        lines.append("")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    p.add_argument("paths", nargs="*", help=f"some of {', '.join(PATHS)}; default: all")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--amendments", type=int, default=400)
    p.add_argument("--events", type=int, default=5000, help="consumer events")
    p.add_argument("--projector-events", type=int, default=1000)
    p.add_argument("--rows", type=int, default=20_000, help="relay and raw publish rows")
    p.add_argument("--statement-items", type=int, default=50, help="items of the SQL pass")
    p.add_argument(
        "--reanalyse",
        action="store_true",
        help="rebuild the tables from bench-results/profile-raw/ without measuring again",
    )
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    return p


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"rate": args.rate}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as scratch:
        for name in args.paths or PATHS:
            tmp = Path(scratch) / name
            tmp.mkdir()
            sys.stdout.write(f"profiling {name}…\n")
            sys.stdout.flush()
            results[name] = await PATHS[name](tmp, args)
            raw = args.out / "profile-raw"
            raw.mkdir(parents=True, exist_ok=True)
            for collapsed in tmp.glob("*.txt"):
                # Collapsed stacks: flamegraph.pl or speedscope read them as they are.
                shutil.copy(collapsed, raw / f"{name}.txt")
    return results


STEPS_OF = {
    "amendment": AMENDMENT_STEPS,
    "consumer": CONSUMER_STEPS,
    "projector": PROJECTOR_STEPS,
    "relay": RELAY_STEPS,
    "raw_publish": RELAY_STEPS,
    "relay_default_sync": RELAY_STEPS,
    "raw_publish_default_sync": RELAY_STEPS,
}


def reanalyse(results: dict[str, Any], raw: Path) -> dict[str, Any]:
    """The tables again from the kept collapsed stacks (after the rules changed), keeping
    every measured figure."""
    from bench.spy import parse_collapsed

    rate = int(results["rate"])
    for name, result in results.items():
        path = raw / f"{name}.txt"
        if not isinstance(result, dict) or not path.exists():
            continue
        samples = parse_collapsed(path.read_text("utf-8", errors="replace"))
        if name == "amendment":
            samples = without(samples, CLIENT)
        cpu = result.get("process_cpu_ms_per_item")
        items = int(result["items"])
        tables = report(
            samples,
            STEPS_OF[name],
            items=items,
            rate=rate,
            cpu_seconds=None if cpu is None else cpu * items / 1000,
        )
        result.update(tables)
    return results


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    unknown = [p for p in args.paths if p not in PATHS]
    if unknown:
        raise SystemExit(f"unknown paths {unknown}; choose from {list(PATHS)}")
    previous = args.out / "profile.json"
    if args.reanalyse:
        results = reanalyse(json.loads(previous.read_text("utf-8")), args.out / "profile-raw")
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(run(args))
        if previous.exists():
            # Profiling some paths keeps the others' results.
            results = json.loads(previous.read_text("utf-8")) | results
    args.out.mkdir(exist_ok=True)
    (args.out / "profile.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    text = markdown(results)
    (args.out / "profile.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text + f"\nwritten to {args.out / 'profile.json'} and profile.md\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
