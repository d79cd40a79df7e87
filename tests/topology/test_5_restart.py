"""`make run-cluster` stops cleanly (every child gone, in order) and a second start keeps the
data: the same secrets and keys, the reports submitted before, the same demo accounts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from tests.topology.topology import Topology, login, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_sigterm_stops_everything_and_a_second_start_keeps_the_data(topology: Topology):
    with httpx.Client(timeout=30) as http:
        reviewer = login(http, topology, "pnv")
        listing = http.get(
            topology.gateway + "/api/intake/v1/reports",
            params={"period_id": "2023-H1"},
            headers=reviewer,
        )
        assert listing.status_code == 200, listing.text
        before = {r["unit_code"]: r["report_id"] for r in listing.json()}
    assert "18115" in before, "test_1 submitted 18115's report"
    secrets = (topology.data / "secrets.env").read_text(encoding="utf-8")
    pids = topology.pids()
    assert len(pids) == 17

    topology.stop()
    assert topology.process is not None and topology.process.returncode == 0
    assert all(gone(pid) for pid in pids.values()), "a child outlived the launcher"
    stopped = [m.group(1) for m in re.finditer(r"run-cluster stopped (\S+)", topology.output())]
    assert stopped[0] == "prometheus" and stopped[-3:] == ["nats-2", "nats-1", "postgres"]
    assert not (topology.data / "children.json").exists()

    topology.start()
    assert (topology.data / "secrets.env").read_text(encoding="utf-8") == secrets
    with httpx.Client(timeout=30) as http:
        reviewer = login(http, topology, "pnv")
        listing = http.get(
            topology.gateway + "/api/intake/v1/reports",
            params={"period_id": "2023-H1"},
            headers=reviewer,
        )
        after = {r["unit_code"]: r["report_id"] for r in listing.json()}
        assert after == before
        completeness = topology.gateway + "/api/consolidation/v1/periods/2023-H1/completeness"

        def consolidated() -> bool:
            response = http.get(completeness, headers=reviewer)
            return response.status_code == 200 and {
                u["code"] for u in response.json()["units"] if u.get("version")
            } >= set(before)

        wait_for(consolidated, 60, "consolidation keeps what it had")
