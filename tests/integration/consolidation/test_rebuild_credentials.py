"""Consolidation with NATS authentication: the service runs with its own nkey, and a rebuild
needs the operator's (the consolidation user may read its streams only through its durable
consumers, so a rebuild with its seed is refused and changes nothing)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import select, update

from services.consolidation import db
from services.consolidation.settings import ConsolidationSettings
from shared.db import create_engine
from shared.natsauth import OPERATOR, KeyPair, inbox_prefix, write_key_files
from tests.integration.consolidation.test_consolidation_service import publish, running
from tests.support.http import eventually
from tests.support.nats import NatsServer
from tests.unit.consolidation.factory import three_reports

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, KeyPair]:
    return write_key_files(tmp_path / "nats-auth")


@pytest.fixture
def secured(tmp_path: Path, keys: dict[str, KeyPair]) -> Any:
    server = NatsServer(tmp_path / "nats", keys=keys)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def rebuild(settings: ConsolidationSettings, server: NatsServer, seed_file: Path) -> Any:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DANVAN_")},
        "DATABASE_URL": settings.resolved_database_url,
        "NATS_URL": server.url,
        "DANVAN_ENV": "test",
        "DANVAN_NATS_NKEY_SEED_FILE": str(seed_file),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.consolidation",
        "rebuild",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode(), err.decode()


async def submitted_count(settings: ConsolidationSettings) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            row = await connection.execute(
                select(db.period_progress.c.submitted).where(
                    db.period_progress.c.period_id == "2023-H1"
                )
            )
            return int(row.scalar_one())
    finally:
        await engine.dispose()


async def test_the_service_uses_its_own_key_and_only_the_operator_may_rebuild(
    secured: NatsServer, keys: dict[str, KeyPair], databases: Any, mint: Any, tmp_path: Path
) -> None:
    settings = ConsolidationSettings(
        database_url=await databases.url("consolidation"),
        nats_url=secured.url,
        env="test",
        nats_nkey_seed=keys["consolidation"].seed,
        outbox_poll_seconds=0.2,
        consumer_backoff_seconds=0.1,
    )
    reviewer = mint.headers("reviewer", username="pnv")
    async with running(settings, mint) as http:
        # A period and three reports (one late), published as the operator would replay them.
        operator = await nats.connect(
            secured.url, nkeys_seed_str=keys[OPERATOR].seed, inbox_prefix=inbox_prefix(OPERATOR)
        )
        try:
            for event in three_reports():
                await publish(operator.jetstream(), event)
        finally:
            await operator.close()

        async def counted() -> bool:
            r = await http.get("/v1/periods/2023-H1/completeness", headers=reviewer)
            return r.status_code == 200 and r.json()["submitted"] == 3

        await eventually(counted, timeout=20)

    engine = create_engine(settings.resolved_database_url)
    async with engine.begin() as connection:
        await connection.execute(update(db.period_progress).values(submitted=99))
    await engine.dispose()

    code, _, err = await rebuild(settings, secured, tmp_path / "nats-auth" / "consolidation.nk")
    assert code != 0, "the consolidation user must not be able to replay the streams"
    assert "ermissions" in err or "timeout" in err.lower(), err[-2000:]
    assert await submitted_count(settings) == 99, "a refused rebuild changes nothing"

    code, out, err = await rebuild(settings, secured, tmp_path / "nats-auth" / "operator.nk")
    assert code == 0, err[-2000:]
    assert "Đã dựng lại dữ liệu tổng hợp" in out
    assert await submitted_count(settings) == 3
