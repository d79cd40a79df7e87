"""Nothing a unit submitted is lost or counted twice when intake, consolidation and NATS are
killed with SIGKILL in the middle of the load (the launcher restarts them)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.system import System
from tests.support.reports import full_report

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "e2e-mat-khau"
PERIOD = "2023-Y"
AMENDMENTS = 6


async def send_until_answered(
    http: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Retry with the same Idempotency-Key until the service answers, as a client would."""
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        try:
            response = await http.request(method, url, **kwargs)
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{method} {url} never answered")
        await asyncio.sleep(0.2)


async def unit_client(system: System, http: httpx.AsyncClient, unit: dict[str, Any]) -> int:
    """Submit, then amend AMENDMENTS times; returns the last version acknowledged."""
    login = await send_until_answered(
        http,
        "POST",
        system.url("registry") + "/v1/auth/token",
        data={"username": unit["code"], "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    kind, tags = unit["kind"], tuple(unit.get("tags", ()))
    created = await send_until_answered(
        http,
        "POST",
        system.url("intake") + "/v1/reports",
        json=full_report(PERIOD, kind=kind, tags=tags),
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    report_id, version = created.json()["report_id"], created.json()["version"]
    for revision in range(1, AMENDMENTS + 1):
        amended = await send_until_answered(
            http,
            "PUT",
            system.url("intake") + f"/v1/reports/{report_id}",
            json=full_report(PERIOD, kind=kind, tags=tags, revision=revision),
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert amended.status_code == 200, amended.text
        version = amended.json()["version"]
    return int(version)


async def chaos(system: System) -> list[str]:
    """SIGKILL intake, consolidation and nats-server while the clients are working."""
    killed = []
    for delay, name in ((0.3, "intake"), (0.6, "consolidation"), (0.6, "nats"), (0.8, "intake")):
        await asyncio.sleep(delay)
        pid = system.child_pid(name)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed.append(name)
    return killed


async def test_sigkill_mid_load_loses_nothing_and_doubles_nothing(system: System):
    async with httpx.AsyncClient(timeout=10) as http:
        reviewer_login = await http.post(
            system.url("registry") + "/v1/auth/token",
            data={"username": "pnv", "password": PASSWORD},
        )
        reviewer = {"Authorization": f"Bearer {reviewer_login.json()['access_token']}"}
        period = (
            await http.get(system.url("registry") + f"/v1/periods/{PERIOD}", headers=reviewer)
        ).json()
        units = period["expected_unit_details"]
        assert len(units) == 20

        async def intake_ready() -> bool:
            response = await http.get(
                system.url("consolidation") + f"/v1/periods/{PERIOD}/completeness",
                headers=reviewer,
            )
            return response.status_code == 200

        deadline = asyncio.get_running_loop().time() + 60
        while not await intake_ready():
            assert asyncio.get_running_loop().time() < deadline, "consolidation never ready"
            await asyncio.sleep(0.2)

        results = await asyncio.gather(
            chaos(system), *(unit_client(system, http, u) for u in units)
        )
        killed, versions = results[0], results[1:]
        assert killed == ["intake", "consolidation", "nats", "intake"]
        assert versions == [AMENDMENTS + 1] * len(units)

        # Intake holds exactly one report per unit, each with exactly the versions sent.
        listing = await send_until_answered(
            http,
            "GET",
            system.url("intake") + "/v1/reports",
            params={"period_id": PERIOD},
            headers=reviewer,
        )
        reports = listing.json()
        assert sorted(r["unit_code"] for r in reports) == sorted(u["code"] for u in units)
        for report in reports:
            history = await send_until_answered(
                http,
                "GET",
                system.url("intake") + f"/v1/reports/{report['report_id']}/versions",
                headers=reviewer,
            )
            assert [v["version"] for v in history.json()] == list(range(1, AMENDMENTS + 2))

        # Consolidation ends with every unit at its last version, counted once.
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            response = await http.get(
                system.url("consolidation") + f"/v1/periods/{PERIOD}/completeness",
                headers=reviewer,
            )
            if response.status_code == 200:
                body = response.json()
                seen = {u["code"]: u.get("version") for u in body["units"]}
                if body["submitted"] == 20 and set(seen.values()) == {AMENDMENTS + 1}:
                    break
            assert asyncio.get_running_loop().time() < deadline, response.text
            await asyncio.sleep(0.25)
        assert body["expected"] == 20 and body["missing"] == []
        assert body["late"] == 20  # the 2023 deadline has passed
