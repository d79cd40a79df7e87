"""The project's alerts fire in the live topology, read from Prometheus's own API: a hung
service, poison events, an outbox that cannot publish. The rules are the production file
with every `for:` shortened to FOR (thresholds and expressions unchanged)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from functools import partial

import httpx
import nats
import pytest

from shared.contracts.streams import DEAD_LETTERS
from tests.support.reports import full_report
from tests.topology.topology import FOR, SCRAPE, Topology, login, wait_for

# The first test of the session also starts the topology (a minute on two busy cores).
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]

FOR_SECONDS = int(FOR.removesuffix("s"))
SCRAPE_SECONDS = int(SCRAPE.removesuffix("s"))
# Within `for:` after Prometheus first sees the fault: a failed scrape (timeout), the next
# evaluation, the `for:` and one more evaluation, with room for a loaded machine.
FIRES_WITHIN = FOR_SECONDS + 6 * SCRAPE_SECONDS + 15


def test_a_hung_service_fires_danvan_service_down(topology: Topology):
    wait_for(lambda: not topology.firing("DanvanServiceDown"), 60, "no service down at first")
    pid = topology.signal("reminders", signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        alerts = wait_for(
            lambda: topology.firing("DanvanServiceDown"), FIRES_WITHIN, "DanvanServiceDown"
        )
        elapsed = time.monotonic() - stopped_at
        assert elapsed >= FOR_SECONDS, "fired before its for: time"
        (alert,) = alerts
        assert alert["labels"]["job"] == "danvan-reminders"
        assert alert["labels"]["instance"] == f"127.0.0.1:{topology.ports.reminders}"
        assert alert["labels"]["severity"] == "critical"
        assert topology.pids()["reminders"] == pid, "the supervisor cannot hide a hung process"
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: not topology.firing("DanvanServiceDown"), 60, "resolved after SIGCONT")
    wait_for(lambda: topology.ready("reminders"), 60, "reminders ready again")


async def publish_poison(topology: Topology, count: int) -> None:
    """A producer gone wrong: bytes that are no event, on a subject three services consume
    (only the operator may publish there besides the registry)."""
    nc = await nats.connect(topology.nats_urls(), **topology.operator_options())
    try:
        js = nc.jetstream()
        for n in range(count):
            await js.publish(
                "danvan.registry.unit.changed.v1",
                b"{not an event",
                headers={"Nats-Msg-Id": f"poison-{uuid.uuid4()}-{n}"},
            )
    finally:
        await nc.close()


def dlq(topology: Topology, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's DLQ tool, with the operator's NATS seed."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.dlq",
            "--nats-url",
            ",".join(topology.nats_urls()),
            "--nkey-seed-file",
            str(topology.data / "nats-auth" / "operator.nk"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_poison_events_fire_dead_letters_increasing_and_the_operator_sees_them(
    topology: Topology,
):
    asyncio.run(publish_poison(topology, 2))
    alerts = wait_for(
        lambda: topology.firing("DanvanDeadLettersIncreasing"),
        FIRES_WITHIN,
        "DanvanDeadLettersIncreasing",
    )
    assert {a["labels"]["subject"] for a in alerts} == {"danvan.registry.unit.changed.v1"}
    consumers = {"intake", "reminders", "consolidation"}
    wait_for(
        lambda: (
            {a["labels"]["service"] for a in topology.firing("DanvanDeadLettersIncreasing")}
            == consumers
        ),
        FIRES_WITHIN,
        "every consumer of unit.changed dead-lettered the poison",
    )
    listed = dlq(topology, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    poison = [r for r in rows if r["subject"] == "danvan.registry.unit.changed.v1"]
    # Two poison messages, dead-lettered by each of the three consuming services.
    assert len(poison) == 2 * len(consumers), rows
    assert {r["consumer"].split("__")[0] for r in poison} == consumers
    for row in poison:
        dropped = dlq(topology, "drop", str(row["seq"]))
        assert dropped.returncode == 0, dropped.stderr
    # The services went on with later events.
    for name in ("intake-1", "reminders", "consolidation"):
        assert topology.ready(name)

    async def dlq_count() -> int:
        nc = await nats.connect(topology.nats_urls(), **topology.operator_options())
        try:
            info = await nc.jetstream().stream_info(DEAD_LETTERS.name)
            return int(info.state.messages)
        finally:
            await nc.close()

    assert asyncio.run(dlq_count()) == len(rows) - len(poison)


def test_an_outbox_that_cannot_publish_fires_its_alert_and_drains_after(topology: Topology):
    """Two of the three NATS nodes hang: JetStream has no quorum. Phòng Nội vụ renames a
    period and a unit submits: both are stored and acknowledged, their events wait in the
    registry's and intake's outboxes, the relays' publishes fail and
    DanvanOutboxPublishErrors fires for the registry, whose relay had published without error
    until then (and NatsNodeUnhealthy for the nodes). When the nodes come back, the outboxes
    drain and the events reach consolidation."""
    wait_for(lambda: not topology.firing("NatsNodeUnhealthy"), 60, "NATS healthy at first")
    wait_for(
        lambda: (
            not [
                a
                for a in topology.firing("DanvanOutboxPublishErrors")
                if a["labels"]["service"] == "registry"
            ]
        ),
        360,
        "no earlier publish errors of the registry (the rule looks 5 minutes back)",
    )
    title = f"Báo cáo 6 tháng đầu năm 2023 — {uuid.uuid4().hex[:6]}"
    hung = [topology.signal(name, signal.SIGSTOP) for name in ("nats-1", "nats-2")]
    try:
        with httpx.Client(timeout=30) as http:
            reviewer = login(http, topology, "pnv")
            renamed = http.patch(
                topology.gateway + "/api/registry/v1/periods/2023-H1",
                json={"title": title},
                headers=reviewer,
            )
            assert renamed.status_code == 200, renamed.text
            unit = login(http, topology, "PTP")
            created = http.post(
                topology.gateway + "/api/intake/v1/reports",
                json=full_report("2023-H1", kind="department"),
                headers={**unit, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert created.status_code == 201, created.text
        alerts = wait_for(
            lambda: [
                a
                for a in topology.firing("DanvanOutboxPublishErrors")
                if a["labels"]["service"] == "registry"
            ],
            FIRES_WITHIN + 30,
            "DanvanOutboxPublishErrors for the registry",
        )
        assert alerts[0]["labels"]["severity"] == "warning"
        assert topology.promql('max(danvan_outbox_pending{service="registry"}) > 0')
        # The hung nodes are unhealthy, and so is the third one: it lost its meta leader.
        exporters = {f"127.0.0.1:{topology.ports.exporter(n)}" for n in (1, 2, 3)}
        wait_for(
            lambda: (
                {a["labels"]["instance"] for a in topology.firing("NatsNodeUnhealthy")} == exporters
            ),
            FIRES_WITHIN,
            "NatsNodeUnhealthy for the three nodes",
        )
    finally:
        for pid in hung:
            os.kill(pid, signal.SIGCONT)
    wait_for(topology.nats_healthy, 90, "the NATS cluster back")
    for service in ("registry", "intake"):
        drained = f'max(danvan_outbox_pending{{service="{service}"}}) == 0'
        wait_for(partial(topology.promql, drained), 120, f"{service}'s outbox drained")
    with httpx.Client(timeout=30) as http:
        reviewer = login(http, topology, "pnv")
        url = topology.gateway + "/api/consolidation/v1/periods/2023-H1/completeness"

        def reached() -> bool:
            body = http.get(url, headers=reviewer).json()
            units = {u["code"]: u.get("version") for u in body["units"]}
            return units.get("PTP") == 1 and body.get("title") == title

        wait_for(reached, 120, "the renamed period and PTP's report in consolidation")
