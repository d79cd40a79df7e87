"""`make run-cluster` waits for the three NATS nodes to form the cluster: one reading of every
node's monitor decides, so a /healthz that flaps while JetStream recovers after a restart
neither fails a start that was complete nor passes one that was not."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.launcher import Child, StartupError
from shared.topology import cluster as cluster_module
from shared.topology.cluster import Cluster, Options
from shared.topology.render import Ports

PORTS = Ports()


def _routes(node: int) -> dict[str, Any]:
    return {"routes": [{"remote_name": f"nats-{n}"} for n in (1, 2, 3) if n != node]}


def _node_of(url: str) -> int:
    port = int(url.split(":")[2].split("/")[0])
    return next(n for n in (1, 2, 3) if PORTS.monitor(n) == port)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[Child]]:
    """Three live processes standing in for the nodes (the readings are faked)."""
    children = []
    for n in (1, 2, 3):
        conf = tmp_path / f"nats-{n}" / "nats.conf"
        conf.parent.mkdir(parents=True)
        conf.write_text("cluster {\n  routes: []\n}\n", encoding="utf-8")
        child = Child(
            f"nats-{n}",
            [sys.executable, "-c", "import time; time.sleep(60)"],
            {},
            tmp_path / f"nats-{n}.log",
        )
        child.start()
        children.append(child)
    yield children
    for child in children:
        assert child.process is not None
        child.process.kill()
        child.process.wait()


def test_a_health_reading_that_flaps_after_all_nodes_joined_does_not_fail_the_start(
    tmp_path: Path, nodes: list[Child], monkeypatch: pytest.MonkeyPatch
):
    readings: dict[int, int] = {1: 0, 2: 0, 3: 0}

    def fetch(url: str) -> Any:
        node = _node_of(url)
        if url.endswith("/routez"):
            return _routes(node)
        readings[node] += 1
        # Every node is healthy on its first reading; node 3 flaps on every later one.
        return {"status": "ok" if readings[node] == 1 or node != 3 else "unavailable"}

    monkeypatch.setattr(cluster_module, "_fetch_json", fetch)
    Cluster(Options(data_dir=tmp_path, ports=PORTS, join_timeout=5)).wait_for_cluster(nodes)
    assert readings == {1: 1, 2: 1, 3: 1}


def test_a_node_that_never_becomes_healthy_is_named_with_its_config_line(
    tmp_path: Path, nodes: list[Child], monkeypatch: pytest.MonkeyPatch
):
    def fetch(url: str) -> Any:
        node = _node_of(url)
        if url.endswith("/routez"):
            return _routes(node)
        return {"status": "ok" if node != 2 else "unavailable"}

    monkeypatch.setattr(cluster_module, "_fetch_json", fetch)
    with pytest.raises(StartupError) as raised:
        Cluster(Options(data_dir=tmp_path, ports=PORTS, join_timeout=1)).wait_for_cluster(nodes)
    message = str(raised.value)
    assert "nats-2 is running but did not join the cluster within 1s" in message
    assert f"{tmp_path / 'nats-2' / 'nats.conf'}:2 " in message
