"""`make run-cluster` brings the production shape up: every target scraped, the project's
rules loaded, R3 streams, and a ward's report through the gateway reaching Phòng Nội vụ —
also while a NATS node hangs."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import uuid

import httpx
import nats
import pytest
import yaml

from shared.contracts.streams import ALL_STREAMS
from shared.topology.render import ALERTS_YML
from tests.support.reports import full_report
from tests.topology.topology import Topology, login, wait_for

# The first test of the session also starts the topology (a minute on two busy cores).
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]

JOBS = {
    "danvan-registry": 1,
    "danvan-intake": 3,  # two replicas and the ward pool
    "danvan-reminders": 1,
    "danvan-consolidation": 1,
    "danvan-portal": 1,
    "nats": 3,
    "prometheus": 1,
}


def submitted(http: httpx.Client, topology: Topology, reviewer: dict[str, str], period: str):
    response = http.get(
        topology.gateway + f"/api/consolidation/v1/periods/{period}/completeness",
        headers=reviewer,
    )
    if response.status_code != 200:
        return {}
    return {u["code"]: u.get("version") for u in response.json()["units"] if u.get("version")}


def test_prometheus_scrapes_every_target_and_loads_the_project_rules(topology: Topology):
    def all_up():
        targets = httpx.get(topology.prometheus + "/api/v1/targets", timeout=5).json()
        active = targets["data"]["activeTargets"]
        if not active or any(t["health"] != "up" for t in active):
            return None
        return active

    active = wait_for(all_up, 60, "every target up")
    jobs: dict[str, int] = {}
    for target in active:
        jobs[target["labels"]["job"]] = jobs.get(target["labels"]["job"], 0) + 1
    assert jobs == JOBS
    groups = httpx.get(topology.prometheus + "/api/v1/rules", timeout=5).json()["data"]["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    production = yaml.safe_load(ALERTS_YML.read_text(encoding="utf-8"))["groups"]
    assert loaded == {rule["alert"] for group in production for rule in group["rules"]}
    assert all(rule["health"] == "ok" for group in groups for rule in group["rules"])


def test_every_stream_has_three_replicas_on_the_three_nodes(topology: Topology):
    async def check() -> None:
        nc = await nats.connect(topology.nats_urls(), **topology.operator_options())
        try:
            js = nc.jetstream()
            for spec in ALL_STREAMS:
                info = await js.stream_info(spec.name)
                assert info.config.num_replicas == 3, spec.name
                assert info.cluster is not None, spec.name
                peers = {info.cluster.leader, *(r.name for r in info.cluster.replicas or [])}
                assert peers == {"nats-1", "nats-2", "nats-3"}, spec.name
        finally:
            await nc.close()

    asyncio.run(check())


def test_a_ward_signs_in_through_the_gateway_and_pnv_sees_its_report(topology: Topology):
    with httpx.Client(timeout=15) as http:
        portal = http.get(topology.gateway + "/")
        assert portal.status_code in (200, 303), portal.text
        ward = login(http, topology, "18115")
        reviewer = login(http, topology, "pnv")
        completeness = topology.gateway + "/api/consolidation/v1/periods/2023-H1/completeness"
        wait_for(
            lambda: http.get(completeness, headers=reviewer).status_code == 200,
            60,
            "consolidation knows 2023-H1",
        )
        created = http.post(
            topology.gateway + "/api/intake/v1/reports",
            json=full_report("2023-H1"),
            headers={**ward, "Idempotency-Key": str(uuid.uuid4()), "X-Danvan-Unit": "18115"},
        )
        assert created.status_code == 201, created.text
        wait_for(
            lambda: submitted(http, topology, reviewer, "2023-H1").get("18115") == 1,
            60,
            "18115 in Phòng Nội vụ's completeness",
        )
    # The gateway sent the ward's request to the ward pool (its own intake instance).
    log = (topology.data / "logs" / "gateway.log").read_text(encoding="utf-8")
    posts = [line for line in log.splitlines() if '"POST /api/intake/v1/reports' in line]
    assert posts and re.search(rf"upstream=127\.0\.0\.1:{topology.ports.intake_wards}\b", posts[-1])


def test_while_a_nats_node_hangs_the_next_submission_reaches_consolidation(topology: Topology):
    # SIGSTOP: the node is gone but its process is not, so nothing restarts it.
    pid = topology.signal("nats-3", signal.SIGSTOP)
    try:
        with httpx.Client(timeout=30) as http:
            unit = login(http, topology, "VP")
            reviewer = login(http, topology, "pnv")
            created = http.post(
                topology.gateway + "/api/intake/v1/reports",
                json=full_report("2023-H1", kind="department"),
                headers={**unit, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert created.status_code == 201, created.text
            wait_for(
                lambda: submitted(http, topology, reviewer, "2023-H1").get("VP") == 1,
                90,
                "VP's report in consolidation with nats-3 hung",
            )
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(topology.nats_healthy, 60, "nats-3 back in the cluster")
