"""The whole system as `make run` starts it: intake throughput (every unit at once, and one
client alone), submission-to-consolidation latency, CPU per amendment and the memory of each
process."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.baselines import DUMMY_BEARER, PERIOD, BareServer, amendment, http_client, wait_healthy
from bench.http1 import Connection
from bench.load import LoadResult, Send, closed_loop
from bench.procfs import cpu_seconds, rss_mib
from bench.stats import latency_summary
from tests.e2e.system import System

PASSWORD = "e2e-mat-khau"
PROCESSES = ("nats", "registry", "intake", "reminders", "consolidation", "portal")
# The bare endpoint's load and the project's alternate in this many parts, so that both
# meet the same load of the shared machine (see `measure`).
PARTS = 5


async def login(http: httpx.AsyncClient, system: System, username: str) -> dict[str, str]:
    response = await http.post(
        system.url("registry") + "/v1/auth/token",
        data={"username": username, "password": PASSWORD},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def measure(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The whole system's figures, and the bare intake baseline measured in the same minutes:
    the two loads alternate in `PARTS` parts (bare, then the project, each part after the
    system has caught up), so that a change of the shared machine's load between the two
    does not decide the ratio. The bare baseline is under `bare_intake`."""
    data = tmp / "system"
    data.mkdir()
    system = System(data)
    bare = BareServer(tmp, f"sqlite+aiosqlite:///{tmp / 'bench-bare-interleaved.db'}")
    bare.start()
    try:
        await wait_healthy(bare.url + "/healthz", bare.process)
        await asyncio.to_thread(system.start)
        try:
            return await _measure(system, bare, args)
        finally:
            await asyncio.to_thread(system.stop)
    finally:
        bare.stop()


def _merged(parts: list[LoadResult]) -> LoadResult:
    """One load result of several parts: their requests over their summed time."""
    return LoadResult(
        parts[0].workers,
        sum(p.requests for p in parts),
        sum(p.seconds for p in parts),
        [latency for p in parts for latency in p.latencies],
    )


def _split(total: int, parts: int) -> list[int]:
    """`total` requests per worker in `parts` parts (at least one each)."""
    return [max(1, total // parts + (1 if i < total % parts else 0)) for i in range(parts)]


def memory_growth(by_part: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each process's RSS after the last part minus after the first (MiB): what it grew by
    while the later parts were processed."""
    if len(by_part) < 2:
        return {}
    first, last = by_part[0], by_part[-1]
    growth: dict[str, float | None] = {}
    for name, start in first.items():
        end = last.get(name)
        growth[name] = None if start is None or end is None else round(end - start, 1)
    return growth


def _cpu(pids: dict[str, int | None]) -> dict[str, float | None]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def _cpu_ms_per(
    before: dict[str, float | None], after: dict[str, float | None], count: int
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, start in before.items():
        end = after.get(name)
        out[name] = None if start is None or end is None else round(1000 * (end - start) / count, 2)
    return out


async def _measure(system: System, bare: BareServer, args: argparse.Namespace) -> dict[str, Any]:
    pids = {name: system.child_pid(name) for name in PROCESSES}
    async with http_client() as http:
        reviewer = await login(http, system, "pnv")
        period = (
            await http.get(system.url("registry") + f"/v1/periods/{PERIOD}", headers=reviewer)
        ).json()
        units: list[dict[str, Any]] = period["expected_unit_details"]
        auth = {u["code"]: await login(http, system, u["code"]) for u in units}
        completeness_url = system.url("consolidation") + f"/v1/periods/{PERIOD}/completeness"
        while (await http.get(completeness_url, headers=reviewer)).status_code != 200:
            await asyncio.sleep(0.1)

        reports: dict[str, str] = {}
        for unit in units:
            created = await http.post(
                system.url("intake") + "/v1/reports",
                json=amendment(unit, 0),
                headers=auth[unit["code"]],
            )
            created.raise_for_status()
            reports[unit["code"]] = created.json()["report_id"]
        revisions = dict.fromkeys(reports, 0)
        # The timed load: one keep-alive connection per unit, as each unit's browser has.
        connections = {code: Connection(system.url("intake")) for code in reports}
        bare_connections = [Connection(bare.url) for _ in units]
        bare_revisions = [0 for _ in units]

        async def amend(unit: dict[str, Any]) -> int:
            code = unit["code"]
            revisions[code] += 1
            response = await connections[code].request(
                "PUT",
                f"/v1/reports/{reports[code]}",
                json_body=amendment(unit, revisions[code]),
                headers={**auth[code], "Idempotency-Key": str(uuid.uuid4())},
            )
            response.raise_for_status()
            return int(response.json()["version"])

        async def crowd(worker: int, _n: int) -> None:
            await amend(units[worker])

        async def bare_send(worker: int, _n: int) -> None:
            # The same bodies, the same client, to the bare endpoint (bench.baselines).
            unit = units[worker]
            bare_revisions[worker] += 1
            response = await bare_connections[worker].request(
                "PUT",
                f"/v1/reports/{unit['code']}",
                json_body=amendment(unit, bare_revisions[worker]),
                headers={"Authorization": DUMMY_BEARER, "Idempotency-Key": str(uuid.uuid4())},
            )
            response.raise_for_status()

        async def caught_up() -> float:
            """Wait until consolidation shows every unit's last version."""
            while True:
                state = (await http.get(completeness_url, headers=reviewer)).json()
                if all(u.get("version") == revisions[u["code"]] + 1 for u in state["units"]):
                    return time.perf_counter()
                await asyncio.sleep(0.01)

        async def alternate(
            project: Send, baseline: Send, workers: int, per_worker: int
        ) -> tuple[LoadResult, LoadResult, dict[str, float | None], float]:
            """The bare load and the project's in alternating parts; the project's CPU per
            request by process, and the longest wait after a part's last request until
            consolidation showed every version. Each process's RSS after each part goes to
            `memory_by_part`."""
            own: list[LoadResult] = []
            theirs: list[LoadResult] = []
            cpu: dict[str, float] = dict.fromkeys(pids, 0.0)
            known = set(pids)
            lag = 0.0
            for count in _split(per_worker, PARTS):
                theirs.append(await closed_loop(baseline, workers=workers, per_worker=count))
                before = _cpu(pids)
                began = time.perf_counter()
                own.append(await closed_loop(project, workers=workers, per_worker=count))
                lag = max(lag, await caught_up() - began - own[-1].seconds)
                memory_by_part.append({name: rss_mib(pid) for name, pid in pids.items()})
                for name, value in _cpu_ms_per(before, _cpu(pids), 1).items():
                    if value is None:
                        known.discard(name)
                    else:
                        cpu[name] += value
            merged = _merged(own)
            per_request = {
                name: round(cpu[name] / merged.requests, 2) if name in known else None
                for name in pids
            }
            return merged, _merged(theirs), per_request, lag

        memory_by_part: list[dict[str, float | None]] = []

        # Warm every path (JIT-less Python still fills caches, pools and statement caches).
        await closed_loop(crowd, workers=len(units), per_worker=1)
        await closed_loop(bare_send, workers=len(units), per_worker=1)
        await caught_up()

        # Throughput: every unit amends its own report, `rounds` times, all at once.
        burst, bare_burst, cpu_burst, lag = await alternate(
            crowd, bare_send, len(units), args.rounds
        )
        burst_memory = list(memory_by_part)

        # Service time: one unit alone, one amendment after the other.
        lone = units[0]

        async def alone(_worker: int, _n: int) -> None:
            await amend(lone)

        await closed_loop(alone, workers=1, per_worker=args.warmup)
        await closed_loop(bare_send, workers=1, per_worker=args.warmup)
        single, bare_single, cpu_single, _ = await alternate(alone, bare_send, 1, args.c1_requests)

        # Latency from an acknowledged amendment to consolidation showing that version,
        # one at a time on an idle system.
        visible: list[float] = []
        for _ in range(args.samples):
            version = await amend(lone)
            acked = time.perf_counter()
            while True:
                state = (await http.get(completeness_url, headers=reviewer)).json()
                row = next(u for u in state["units"] if u["code"] == lone["code"])
                if row.get("version") == version:
                    visible.append(time.perf_counter() - acked)
                    break
                await asyncio.sleep(0.005)
        for connection in [*connections.values(), *bare_connections]:
            await connection.close()

    memory = {name: rss_mib(pid) for name, pid in pids.items()}
    return {
        "intake_amendments": {
            **burst.as_dict(),
            "parts": PARTS,
            # Seconds after a part's last request until consolidation showed every version
            # (the longest of the parts).
            "consolidated_after_last_request_s": round(lag, 3),
            "cpu_ms_per_amendment": cpu_burst,
        },
        "intake_one_at_a_time": {**single.as_dict(), "cpu_ms_per_amendment": cpu_single},
        "submission_to_consolidation": {
            "samples": len(visible),
            **latency_summary(visible),
            "target_ms": 1000,
        },
        "rss_mib_after_load": memory,
        # Whether a process grows with the events it has processed once its projections are
        # written: RSS after each part of the burst (every part amends the same reports).
        "rss_mib_by_burst_part": burst_memory,
        "rss_growth_mib_after_first_part": memory_growth(burst_memory),
        "bare_intake": {
            "what": "FastAPI + pydantic + SQLAlchemy PUT: validate the body, insert one row",
            "measured": f"alternating with the project's load, in {PARTS} parts each",
            "concurrent": bare_burst.as_dict(),
            "one_at_a_time": bare_single.as_dict(),
        },
    }
