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

from bench.baselines import PERIOD, amendment, http_client
from bench.http1 import Connection
from bench.load import closed_loop
from bench.procfs import cpu_seconds, rss_mib
from bench.stats import latency_summary
from tests.e2e.system import System

PASSWORD = "e2e-mat-khau"
PROCESSES = ("nats", "registry", "intake", "reminders", "consolidation", "portal")


async def login(http: httpx.AsyncClient, system: System, username: str) -> dict[str, str]:
    response = await http.post(
        system.url("registry") + "/v1/auth/token",
        data={"username": username, "password": PASSWORD},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def measure(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    data = tmp / "system"
    data.mkdir()
    system = System(data)
    await asyncio.to_thread(system.start)
    try:
        return await _measure(system, args)
    finally:
        await asyncio.to_thread(system.stop)


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


async def _measure(system: System, args: argparse.Namespace) -> dict[str, Any]:
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

        async def caught_up() -> float:
            """Wait until consolidation shows every unit's last version."""
            while True:
                state = (await http.get(completeness_url, headers=reviewer)).json()
                if all(u.get("version") == revisions[u["code"]] + 1 for u in state["units"]):
                    return time.perf_counter()
                await asyncio.sleep(0.01)

        # Warm every path (JIT-less Python still fills caches, pools and statement caches).
        await closed_loop(crowd, workers=len(units), per_worker=1)
        await caught_up()

        # Throughput: every unit amends its own report, `rounds` times, all at once.
        cpu_before = _cpu(pids)
        began = time.perf_counter()
        burst = await closed_loop(crowd, workers=len(units), per_worker=args.rounds)
        drained = await caught_up() - began
        cpu_burst = _cpu_ms_per(cpu_before, _cpu(pids), burst.requests)

        # Service time: one unit alone, one amendment after the other.
        lone = units[0]

        async def alone(_worker: int, _n: int) -> None:
            await amend(lone)

        await closed_loop(alone, workers=1, per_worker=args.warmup)
        cpu_before = _cpu(pids)
        single = await closed_loop(alone, workers=1, per_worker=args.c1_requests)
        await caught_up()
        cpu_single = _cpu_ms_per(cpu_before, _cpu(pids), single.requests)

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
        for connection in connections.values():
            await connection.close()

    memory = {name: rss_mib(pid) for name, pid in pids.items()}
    return {
        "intake_amendments": {
            **burst.as_dict(),
            "consolidated_all_after_s": round(drained, 3),
            "cpu_ms_per_amendment": cpu_burst,
        },
        "intake_one_at_a_time": {**single.as_dict(), "cpu_ms_per_amendment": cpu_single},
        "submission_to_consolidation": {
            "samples": len(visible),
            **latency_summary(visible),
            "target_ms": 1000,
        },
        "rss_mib_after_load": memory,
    }
