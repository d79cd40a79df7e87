"""`make run` as a user meets it: SIGTERM stops every process, and a second run keeps the data."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.e2e.system import System
from tests.support.reports import full_report

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "e2e-mat-khau"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours still answers; its state in /proc says it is gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[1].split()[0] != "Z"


def login(system: System, username: str) -> dict[str, str]:
    response = httpx.post(
        system.url("registry") + "/v1/auth/token",
        data={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_sigterm_stops_everything_and_a_second_run_keeps_the_data(tmp_path):
    first = System(tmp_path)
    first.start()
    try:
        children = {
            name: first.child_pid(name)
            for name in ("nats", "registry", "intake", "reminders", "consolidation", "portal")
        }
        assert all(children.values()), children
        ward = login(first, "18124")
        created = httpx.post(
            first.url("intake") + "/v1/reports",
            json=full_report("2023-H1"),
            headers=ward,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        report_id = created.json()["report_id"]
    finally:
        first.stop()
    assert first.process is not None and first.process.returncode == 0
    assert [n for n, pid in children.items() if pid and alive(pid)] == []

    second = System(tmp_path)
    second.start()
    try:
        ward = login(second, "18124")
        again = httpx.get(
            second.url("intake") + f"/v1/reports/{report_id}", headers=ward, timeout=10
        )
        assert again.status_code == 200
        assert again.json()["version"] == 1
        periods = httpx.get(second.url("registry") + "/v1/periods", headers=ward, timeout=10)
        assert [p["period_id"] for p in periods.json()].count("2023-H1") == 1
    finally:
        second.stop()
    assert second.process is not None and second.process.returncode == 0
