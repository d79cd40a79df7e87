"""The NATS servers as compose and Kubernetes configure them refuse clients without
credentials and keep each service to its own subjects (issue 9, item 2).

Each test renders the shipped configuration — deploy/nats/nats.conf for compose, as
`make run-cluster` renders it for one machine, and the `config.merge` of
deploy/k8s/nats-values.yaml as the Helm chart writes it into nats.conf — and starts a
real nats-server with it and the users' public keys in its environment. (The same
authorization against a JetStream that stores, and `make run`'s server: see
test_nats_permissions.py and tests/e2e/test_ward_submission.py.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from shared.natsauth import (
    AUTHORIZATION_CONF,
    KeyPair,
    inbox_prefix,
    new_key_pair,
    server_environment,
    write_key_files,
)
from shared.topology.render import Ports, render_nats
from tests.support.nats import free_port, nats_server_binary, wait_for_port

REPO = Path(__file__).resolve().parents[3]
HELM_VALUES = REPO / "deploy" / "k8s" / "nats-values.yaml"
FORGED = b'{"event_id": "forged-1", "producer": "intake", "payload": {"unit_code": "18115"}}'


def compose_config(folder: Path) -> tuple[Path, int, dict[str, str]]:
    """Node 1 of the compose cluster, on free ports."""
    ports = dataclasses.replace(
        Ports(), nats_1=free_port(), monitor_1=free_port(), route_1=free_port()
    )
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(AUTHORIZATION_CONF, folder / "authorization.conf")
    config = folder / "nats.conf"
    config.write_text(render_nats(1, ports, folder / "jetstream"), encoding="utf-8")
    return config, ports.nats_1, {"NATS_SERVER_NAME": "nats-1"}


def helm_config(folder: Path) -> tuple[Path, int, dict[str, str]]:
    """The authorization the Helm chart merges into nats.conf: `<< $VAR >>` unquoted."""
    values = yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))
    authorization = values["config"]["merge"]["authorization"]
    text = json.dumps(authorization, indent=1)
    text = re.sub(r'"<< (\$\w+) >>"', r"\1", text)
    assert "<<" not in text
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "nats.conf"
    config.write_text(
        f"listen: 127.0.0.1:{port}\nserver_name: danvan-k8s-0\nauthorization: {text}\n",
        encoding="utf-8",
    )
    return config, port, {}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    return write_key_files(tmp_path_factory.mktemp("nats-auth"))


@pytest.fixture(params=["compose", "kubernetes"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, keys: dict[str, KeyPair]
) -> Iterator[str]:
    render = compose_config if request.param == "compose" else helm_config
    config, port, extra = render(tmp_path / request.param)
    # The configuration is valid as it is (nats-server -t), then it serves.
    env = {**os.environ, **server_environment(keys), **extra}
    checked = subprocess.run(
        [str(nats_server_binary()), "-c", str(config), "-t"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = open(tmp_path / "server.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [str(nats_server_binary()), "-c", str(config)], env=env, stdout=log, stderr=log
    )
    log.close()
    try:
        wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


class Client:
    """A connection as one NATS user, keeping the errors the server sends it."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.nc: Any = None

    async def connect(self, url: str, seed: str, user: str) -> Client:
        async def on_error(error: Exception) -> None:
            self.errors.append(error)

        self.nc = await nats.connect(
            url,
            nkeys_seed_str=seed,
            inbox_prefix=inbox_prefix(user),
            error_cb=on_error,
            allow_reconnect=False,
            connect_timeout=3,
        )
        return self

    async def refused(self, subject: str) -> bool:
        """Publish and wait (bounded) for the server's permissions violation."""
        await self.nc.publish(subject, FORGED)
        await self.nc.flush()
        for _ in range(100):
            if any(subject in str(e) and "ermissions" in str(e) for e in self.errors):
                return True
            await asyncio.sleep(0.02)
        return False


@pytest.fixture
async def clients(server: str, keys: dict[str, KeyPair]) -> AsyncIterator[dict[str, Client]]:
    connected = {
        user: await Client().connect(server, pair.seed, user) for user, pair in keys.items()
    }
    try:
        yield connected
    finally:
        for client in connected.values():
            await client.nc.close()


async def test_a_client_without_credentials_is_refused(server: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(server, allow_reconnect=False, connect_timeout=3)


async def test_a_key_the_servers_do_not_know_is_refused(server: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await Client().connect(server, new_key_pair().seed, "intake")


async def test_intake_cannot_publish_the_registry_s_subjects(clients: dict[str, Client]) -> None:
    intake = clients["intake"]
    assert await intake.refused("danvan.registry.unit.changed.v1")
    assert await intake.refused("danvan.registry.tokens.revoked.v1")
    # Its own subjects are not refused (the same connection, the same check).
    assert not await intake.refused("danvan.intake.report.submitted.v1")


@pytest.mark.parametrize("user", ["registry", "reminders", "consolidation"])
async def test_a_forged_intake_event_from_another_service_is_refused(
    clients: dict[str, Client], user: str
) -> None:
    assert await clients[user].refused("danvan.intake.report.submitted.v1")
