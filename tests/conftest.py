"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.databases import TestDatabases
from tests.support.nats import NatsServer


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream on a free port."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[TestDatabases]:
    """Per-test databases (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""
    dbs = TestDatabases(tmp_path)
    try:
        yield dbs
    finally:
        await dbs.drop_all()


@pytest.fixture
def mint():
    """Signs test tokens; give services `key_source=mint.key_source()`."""
    from tests.support.tokens import TokenMint

    return TokenMint()
