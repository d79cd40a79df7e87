"""Faults on the production topology under a steady load through the gateway: a NATS node,
the JetStream meta leader, the stream leader, an intake replica and consolidation are
killed (SIGKILL) and PostgreSQL restarts. Every acknowledged version ends up in intake and
in consolidation exactly once; the gateway keeps answering; services say they are not ready
while their database is down and recover by themselves."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shared.contracts.streams import INTAKE
from tests.support.reports import full_report
from tests.topology.topology import PASSWORD, Topology

# The first test of the session also starts the topology (a minute on two busy cores).
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]

PERIOD = "2023-Y"
SERVICES = ("registry", "intake-1", "intake-2", "intake-wards", "reminders", "consolidation")
WARDS = {"18115", "18118", "18121", "18124", "18127", "18130"}


@dataclass
class Load:
    """What the clients sent and what the system acknowledged."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: dict[str, int] = field(default_factory=dict)  # unit -> last version
    reports: dict[str, str] = field(default_factory=dict)  # unit -> report id
    answered: int = 0
    failed: int = 0  # 5xx or no answer: retried with the same Idempotency-Key
    by_phase: dict[str, int] = field(default_factory=dict)
    phase: str = "warm-up"


async def send(load: Load, http: httpx.AsyncClient, method: str, url: str, **kw: Any):
    """Retry with the same Idempotency-Key until the system answers, as a client would."""
    deadline = time.monotonic() + 180
    while True:
        try:
            response = await http.request(method, url, **kw)
            if response.status_code < 500:
                load.answered += 1
                load.by_phase[load.phase] = load.by_phase.get(load.phase, 0) + 1
                return response
        except httpx.TransportError:
            pass
        load.failed += 1
        assert time.monotonic() < deadline, f"{method} {url} never answered"
        await asyncio.sleep(0.3)


async def unit_client(topology: Topology, http: httpx.AsyncClient, load: Load, unit: Any) -> None:
    """Submit, then amend until told to stop; every acknowledged version is recorded."""
    code = unit["code"]
    gateway = topology.gateway
    headers = {"X-Danvan-Unit": code} if code in WARDS else {}
    token = await send(
        load,
        http,
        "POST",
        gateway + "/api/registry/v1/auth/token",
        data={"username": code, "password": PASSWORD},
    )
    assert token.status_code == 200, token.text
    headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    kind, tags = unit["kind"], tuple(unit.get("tags", ()))
    created = await send(
        load,
        http,
        "POST",
        gateway + "/api/intake/v1/reports",
        json=full_report(PERIOD, kind=kind, tags=tags),
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    load.reports[code] = created.json()["report_id"]
    load.acknowledged[code] = created.json()["version"]
    revision = 0
    while not load.stop.is_set():
        revision += 1
        amended = await send(
            load,
            http,
            "PUT",
            gateway + f"/api/intake/v1/reports/{load.reports[code]}",
            json=full_report(PERIOD, kind=kind, tags=tags, revision=revision),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert amended.status_code == 200, amended.text
        load.acknowledged[code] = amended.json()["version"]
        await asyncio.sleep(0.3)


async def until(check: Any, timeout: float, what: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        said = what if isinstance(what, str) else what()
        assert time.monotonic() < deadline, f"{said}: not within {timeout:.0f}s"
        await asyncio.sleep(0.25)


async def kill_and_wait(topology: Topology, load: Load, name: str, healthy: Any) -> None:
    """SIGKILL one child; the supervisor restarts it; wait until `healthy` again, while
    the load goes on; the gateway must have answered in this phase."""
    load.phase = f"kill {name}"
    before = load.by_phase.get(load.phase, 0)
    pid = topology.signal(name, signal.SIGKILL)
    await until(lambda: topology.restarted(name, pid), 30, f"{name} restarted")
    await until(healthy, 120, f"{name} healthy again")
    await until(lambda: load.by_phase.get(load.phase, 0) > before + 5, 60, f"answers ({name})")


def node_name(leader: str) -> str:
    return leader.split("/")[0]


async def chaos(topology: Topology, load: Load) -> list[str]:
    done = []
    # Fifteen sign-ins (Argon2, two at a time) and first reports: slow on two busy cores.
    await until(
        lambda: len(load.acknowledged) >= 15,
        300,
        lambda: f"clients submitting ({load.answered} answered, {load.failed} failed)",
    )
    await asyncio.sleep(3)
    await kill_and_wait(topology, load, "nats-2", topology.nats_healthy)
    done.append("nats-2")
    meta = node_name(await asyncio.to_thread(topology.meta_leader))
    await kill_and_wait(topology, load, meta, topology.nats_healthy)
    done.append(f"meta leader {meta}")
    stream = node_name(await asyncio.to_thread(topology.stream_leader, INTAKE.name))
    await kill_and_wait(topology, load, stream, topology.nats_healthy)
    done.append(f"{INTAKE.name} leader {stream}")
    await kill_and_wait(topology, load, "intake-1", lambda: topology.ready("intake-1"))
    done.append("intake-1")
    await kill_and_wait(topology, load, "consolidation", lambda: topology.ready("consolidation"))
    done.append("consolidation")

    # PostgreSQL restarts (fast shutdown; the supervisor starts it again).
    load.phase = "postgres restart"
    not_ready: set[str] = set()

    async def watch(name: str) -> None:
        while name not in not_ready:
            body = await asyncio.to_thread(topology.readiness, name)
            if body and body.get("checks", {}).get("database", "ok") != "ok":
                not_ready.add(name)
            await asyncio.sleep(0.05)

    async def watch_readiness() -> None:
        await asyncio.gather(*(watch(name) for name in SERVICES))

    watcher = asyncio.create_task(watch_readiness())
    pid = topology.signal("postgres", signal.SIGINT)
    await until(lambda: topology.restarted("postgres", pid), 60, "postgres restarted")
    await asyncio.sleep(2)
    watcher.cancel()
    for name in SERVICES:
        await until(lambda name=name: topology.ready(name), 120, f"{name} ready after postgres")
    assert not_ready == set(SERVICES), f"said not-ready while the database was down: {not_ready}"
    await until(lambda: load.by_phase.get(load.phase, 0) > 5, 60, "answers after postgres")
    done.append("postgres")
    await asyncio.sleep(3)
    load.stop.set()
    return done


async def run(topology: Topology) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        reviewer_token = await http.post(
            topology.gateway + "/api/registry/v1/auth/token",
            data={"username": "pnv", "password": PASSWORD},
        )
        reviewer = {"Authorization": f"Bearer {reviewer_token.json()['access_token']}"}
        period = (
            await http.get(
                topology.gateway + f"/api/registry/v1/periods/{PERIOD}", headers=reviewer
            )
        ).json()
        units = period["expected_unit_details"]
        assert len(units) == 20
        load = Load()
        done, *_ = await asyncio.gather(
            chaos(topology, load), *(unit_client(topology, http, load, u) for u in units)
        )
        assert done is not None
        assert [done[0], *done[3:]] == ["nats-2", "intake-1", "consolidation", "postgres"]
        assert done[1].startswith("meta leader nats-")
        assert done[2].startswith(f"{INTAKE.name} leader nats-")

        # Intake: one report per unit, each with exactly the versions acknowledged.
        assert set(load.acknowledged) == {u["code"] for u in units}
        for code, report_id in load.reports.items():
            history = await send(
                load,
                http,
                "GET",
                topology.gateway + f"/api/intake/v1/reports/{report_id}/versions",
                headers=reviewer,
            )
            versions = [v["version"] for v in history.json()]
            assert versions == list(range(1, load.acknowledged[code] + 1)), code

        # Consolidation: every unit at its last acknowledged version, counted once.
        completeness = topology.gateway + f"/api/consolidation/v1/periods/{PERIOD}/completeness"

        def consolidated() -> dict[str, Any] | None:
            response = httpx.get(completeness, headers=reviewer, timeout=10)
            if response.status_code != 200:
                return None
            body: dict[str, Any] = response.json()
            seen = {u["code"]: u.get("version") for u in body["units"]}
            return body if seen == load.acknowledged else None

        body = await until(consolidated, 180, "consolidation caught up")
        assert body["submitted"] == 20 and body["expected"] == 20 and body["missing"] == []
        assert sum(load.acknowledged.values()) > 20 * 3, "the load kept going through the faults"


def test_faults_under_load_lose_nothing_and_double_nothing(topology: Topology):
    asyncio.run(run(topology))
