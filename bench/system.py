"""The whole system as `make run` starts it: intake throughput, submission-to-consolidation
latency and the memory of each process."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.system import System
from tests.support.reports import full_report

PASSWORD = "e2e-mat-khau"
PERIOD = "2023-Y"


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MiB."""
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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


async def _measure(system: System, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        reviewer = await login(http, system, "pnv")
        period = (
            await http.get(system.url("registry") + f"/v1/periods/{PERIOD}", headers=reviewer)
        ).json()
        units = period["expected_unit_details"]
        auth = {u["code"]: await login(http, system, u["code"]) for u in units}
        completeness_url = system.url("consolidation") + f"/v1/periods/{PERIOD}/completeness"
        while (await http.get(completeness_url, headers=reviewer)).status_code != 200:
            await asyncio.sleep(0.1)

        reports: dict[str, str] = {}
        for unit in units:
            body = full_report(PERIOD, kind=unit["kind"], tags=tuple(unit.get("tags", ())))
            created = await http.post(
                system.url("intake") + "/v1/reports", json=body, headers=auth[unit["code"]]
            )
            created.raise_for_status()
            reports[unit["code"]] = created.json()["report_id"]

        # Throughput: every unit amends concurrently, `rounds` times.
        latencies: list[float] = []

        async def amend(unit: dict[str, Any], revision: int) -> None:
            body = full_report(
                PERIOD, kind=unit["kind"], tags=tuple(unit.get("tags", ())), revision=revision
            )
            began = time.perf_counter()
            response = await http.put(
                system.url("intake") + f"/v1/reports/{reports[unit['code']]}",
                json=body,
                headers={**auth[unit["code"]], "Idempotency-Key": str(uuid.uuid4())},
            )
            response.raise_for_status()
            latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        for revision in range(1, args.rounds + 1):
            await asyncio.gather(*(amend(u, revision) for u in units))
        elapsed = time.perf_counter() - began
        requests = len(units) * args.rounds

        # How long consolidation needs to catch up with that burst.
        final = args.rounds + 1
        while True:
            state = (await http.get(completeness_url, headers=reviewer)).json()
            if all(u.get("version") == final for u in state["units"]):
                break
            await asyncio.sleep(0.01)
        drained = time.perf_counter() - began

        # Latency from an acknowledged amendment to consolidation showing that version,
        # one at a time on an idle system.
        visible: list[float] = []
        unit = units[0]
        for revision in range(args.rounds + 1, args.rounds + 1 + args.samples):
            body = full_report(PERIOD, kind=unit["kind"], revision=revision)
            response = await http.put(
                system.url("intake") + f"/v1/reports/{reports[unit['code']]}",
                json=body,
                headers=auth[unit["code"]],
            )
            response.raise_for_status()
            acked, version = time.perf_counter(), response.json()["version"]
            while True:
                state = (await http.get(completeness_url, headers=reviewer)).json()
                row = next(u for u in state["units"] if u["code"] == unit["code"])
                if row.get("version") == version:
                    visible.append(time.perf_counter() - acked)
                    break
                await asyncio.sleep(0.005)

    memory = {
        name: rss_mb(system.child_pid(name))
        for name in ("nats", "registry", "intake", "reminders", "consolidation", "portal")
    }
    return {
        "intake_amendments": {
            "requests": requests,
            "concurrency": len(units),
            "seconds": round(elapsed, 3),
            "req_per_s": round(requests / elapsed, 1),
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "latency_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "consolidated_all_after_s": round(drained, 3),
        },
        "submission_to_consolidation": {
            "samples": len(visible),
            "p50_ms": round(statistics.median(visible) * 1000, 1),
            "p95_ms": round(percentile(visible, 0.95) * 1000, 1),
            "max_ms": round(max(visible) * 1000, 1),
            "target_ms": 1000,
        },
        "rss_mib_after_load": memory,
    }
