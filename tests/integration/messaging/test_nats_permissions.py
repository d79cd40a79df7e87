"""NATS authentication and subject permissions on a real nats-server running the project's
deploy/nats/authorization.conf (docs/SECURITY.md, "NATS")."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import api

from shared.contracts.streams import INTAKE, REGISTRY
from shared.messaging.provision import ConsumerSpec, provision
from shared.natsauth import (
    OPERATOR,
    KeyPair,
    inbox_prefix,
    new_key_pair,
    provision_scope,
    write_key_files,
)
from tests.support.nats import NatsServer

FORGED = json.dumps(
    {
        "event_id": "forged-1",
        "occurred_at": "2027-06-01T00:00:00Z",
        "producer": "intake",
        "schema": "danvan.intake.report.submitted.v1",
        "payload": {"unit_code": "18115", "period_id": "2027-H1"},
    }
).encode()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    return write_key_files(tmp_path_factory.mktemp("nats-auth"))


@pytest.fixture
def secured(tmp_path: Path, keys: dict[str, KeyPair]) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", keys=keys)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Client:
    """A connection as one NATS user, keeping the errors the server sent it."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.nc: Any = None

    async def connect(self, server: NatsServer, seed: str, user: str) -> Client:
        async def on_error(error: Exception) -> None:
            self.errors.append(error)

        self.nc = await nats.connect(
            server.url,
            nkeys_seed_str=seed,
            inbox_prefix=inbox_prefix(user),
            error_cb=on_error,
            allow_reconnect=False,
            connect_timeout=3,
        )
        return self

    def violations(self) -> list[str]:
        return [str(e) for e in self.errors if "permissions violation" in str(e).lower()]


@pytest.fixture
async def clients(
    secured: NatsServer, keys: dict[str, KeyPair]
) -> AsyncIterator[dict[str, Client]]:
    """One connection per user, with every stream created by the operator."""
    connected = {
        user: await Client().connect(secured, pair.seed, user) for user, pair in keys.items()
    }
    await provision(connected[OPERATOR].nc.jetstream())
    try:
        yield connected
    finally:
        for client in connected.values():
            await client.nc.close()


async def stream_messages(client: Client, stream: str) -> int:
    info = await client.nc.jetstream().stream_info(stream)
    return int(info.state.messages)


async def wait_for_violation(client: Client, subject: str) -> None:
    for _ in range(100):
        if any(subject.lower() in v.lower() for v in client.violations()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no permissions violation for {subject}: {client.errors}")


async def test_a_client_without_credentials_is_refused(secured: NatsServer) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured.url, allow_reconnect=False, connect_timeout=3)


async def test_a_key_the_servers_do_not_know_is_refused(secured: NatsServer) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await Client().connect(secured, new_key_pair().seed, "intake")


async def test_intake_publishes_its_own_events_but_not_the_registry_s(
    clients: dict[str, Client],
) -> None:
    intake = clients["intake"]
    js = intake.nc.jetstream()
    ack = await js.publish("danvan.intake.report.submitted.v1", FORGED, timeout=5)
    assert ack.stream == INTAKE.name
    with pytest.raises(nats.errors.TimeoutError):
        await js.publish("danvan.registry.unit.changed.v1", b"{}", timeout=1)
    await wait_for_violation(intake, "danvan.registry.unit.changed.v1")
    assert await stream_messages(clients[OPERATOR], REGISTRY.name) == 0


@pytest.mark.parametrize("user", ["registry", "reminders", "consolidation"])
async def test_a_forged_intake_event_from_another_service_is_refused(
    clients: dict[str, Client], user: str
) -> None:
    forger = clients[user]
    with pytest.raises(nats.errors.TimeoutError):
        await forger.nc.jetstream().publish("danvan.intake.report.submitted.v1", FORGED, timeout=1)
    await wait_for_violation(forger, "danvan.intake.report.submitted.v1")
    # A core publish (no acknowledgement asked) is dropped by the server just the same.
    await forger.nc.publish("danvan.intake.report.submitted.v1", FORGED)
    await forger.nc.flush()
    assert await stream_messages(clients[OPERATOR], INTAKE.name) == 0


async def test_a_service_reads_events_only_through_its_own_durable_consumers(
    clients: dict[str, Client],
) -> None:
    intake = clients["intake"]
    # Its own durable on the registry stream: created and fetched from.
    own = ConsumerSpec("intake", "danvan.registry.unit.changed.v1", 5)
    streams, owned = provision_scope("intake", [own])
    await provision(intake.nc.jetstream(), consumers=[own], streams=streams, owned=owned)
    assert not intake.violations()
    # Plain subscriptions to event subjects are refused...
    await intake.nc.subscribe("danvan.>")
    await intake.nc.flush()
    await wait_for_violation(intake, "danvan.>")
    # ...and so are other services' durables, ad-hoc consumers and deleting a stream.
    js = intake.nc.jetstream(timeout=1)
    theirs = ConsumerSpec("consolidation", "danvan.intake.report.submitted.v1", 5)
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer(INTAKE.name, config=theirs.config())
    await wait_for_violation(intake, f"$JS.API.CONSUMER.CREATE.{INTAKE.name}.{theirs.durable}")
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer(
            REGISTRY.name, config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT)
        )
    with pytest.raises(nats.errors.TimeoutError):
        await js.delete_stream(REGISTRY.name)
    await wait_for_violation(intake, f"$JS.API.STREAM.DELETE.{REGISTRY.name}")
    assert await stream_messages(clients[OPERATOR], REGISTRY.name) == 0  # still there


async def test_only_the_owner_changes_a_stream_s_configuration(
    clients: dict[str, Client],
) -> None:
    reminders = clients["reminders"]
    js = reminders.nc.jetstream(timeout=1)
    changed = (await clients[OPERATOR].nc.jetstream().stream_info(INTAKE.name)).config
    changed.max_msgs = 1
    with pytest.raises(nats.errors.TimeoutError):
        await js.update_stream(changed)
    await wait_for_violation(reminders, f"$JS.API.STREAM.UPDATE.{INTAKE.name}")
    assert (await clients[OPERATOR].nc.jetstream().stream_info(INTAKE.name)).config.max_msgs != 1
