"""Bad input: the topology refuses to start with a message that names the file and the
line, and stops what it had started."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.natsauth import write_key_files
from shared.topology.cluster import Cluster, Options
from shared.topology.compose import load_compose, read_env_file
from shared.topology.postgres import PrivateCluster
from shared.topology.render import ALERTS_YML
from tests.topology.topology import Topology, missing_tools

# The first test of the session also starts the topology (a minute on two busy cores).
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]


@pytest.fixture
def topology() -> Iterator[Topology]:
    absent = missing_tools()
    if absent:
        pytest.skip(f"the topology needs Debian's {', '.join(absent)} (.ci/run installs them)")
    candidate = Topology()
    try:
        yield candidate
    finally:
        candidate.stop()
        candidate.cleanup()


def refused(topology: Topology, *extra: str) -> str:
    """Run `make run-cluster`'s command, which must exit 1; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANVAN_")}
    result = subprocess.run(
        topology.argv("--join-timeout", "15", *extra),
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Không khởi động được (cannot start)" in output
    return output


def assert_everything_stopped(topology: Topology, output: str) -> None:
    started = [int(pid) for pid in re.findall(r"started \S+ \(pid (\d+)\)", output)]
    for pid in started:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{pid}/status").read_text()
        assert "zombie" in status, f"pid {pid} still runs after the refusal"
    assert not (topology.data / "children.json").exists()


def test_a_rule_that_does_not_parse_stops_everything_before_it_starts(topology: Topology):
    rules = ALERTS_YML.read_text(encoding="utf-8").replace(
        'expr: up{job=~"danvan-.+"} == 0', 'expr: up{job=~"danvan-.+" == 0'
    )
    topology.rules.write_text(rules, encoding="utf-8")
    line = 1 + rules[: rules.index('up{job=~"danvan-.+" == 0')].count("\n")
    output = refused(topology)
    assert f"{topology.rules}:{line}:" in output
    assert "DanvanServiceDown" in output and "parse error" in output
    assert "started" not in output, "nothing may start with rules Prometheus refuses"


def test_a_nats_node_that_cannot_join_stops_what_was_started(topology: Topology):
    # Something else holds nats-2's route port (bound, not listening: the start's check for
    # busy ports cannot see it), so that node cannot listen for its peers.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", topology.ports.route_2))
        output = refused(topology)
    conf = topology.data / "nats-2" / "nats.conf"
    line = 1 + conf.read_text().split("\n").index("cluster {")
    assert f"{conf}:{line} " in output, output
    assert "nats-2 exited and did not join the cluster" in output
    assert f"127.0.0.1:{topology.ports.route_2}" in output  # nats-server's own reason
    assert "started postgres" in output and "started nats-1" in output
    assert_everything_stopped(topology, output)


def test_a_wrong_database_password_stops_what_was_started(topology: Topology):
    # A data folder whose PostgreSQL was made with another password than secrets.env says.
    options = Options(data_dir=topology.data, ports=topology.ports)
    cluster = Cluster(options)
    topology.data.mkdir(parents=True)
    topology.data.chmod(0o711)
    lines = cluster.secrets(write_key_files(topology.data / "nats-auth"))
    compose = load_compose({k: v.value for k, v in lines.items()})["services"]
    args = str(compose["postgres"]["environment"]["POSTGRES_INITDB_ARGS"]).split()
    PrivateCluster(
        topology.data / "postgres", topology.ports.postgres, "not-the-password", args
    ).initdb()
    output = refused(topology)
    line = read_env_file(cluster.secrets_file)["POSTGRES_PASSWORD"].line
    assert f"{cluster.secrets_file}:{line}: POSTGRES_PASSWORD is not the password" in output
    assert "password authentication failed" in output
    assert "started postgres" in output
    assert_everything_stopped(topology, output)
