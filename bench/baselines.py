"""Intake's bare-stack baseline: the same amendments, sent by the same load client, to a
FastAPI + pydantic + SQLAlchemy process (`bench.bare`) on the same database settings."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.http1 import Connection
from bench.load import closed_loop
from services.registry.seed_files import load_seed
from tests.support.nats import free_port
from tests.support.reports import full_report

PERIOD = "2023-Y"
# A signed token is about this long; the bare endpoint ignores it, the bytes still travel.
DUMMY_BEARER = "Bearer " + "x" * 420


def http_client() -> httpx.AsyncClient:
    """The client for setting up and polling (the timed load uses `bench.http1`)."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(timeout=60, limits=limits)


def amendment(unit: dict[str, Any], revision: int) -> dict[str, Any]:
    """The body of a unit's amendment: the full periodic report, figures varied by revision."""
    tags = tuple(unit.get("tags", ()))
    return full_report(PERIOD, kind=unit["kind"], tags=tags, revision=revision)


def seed_units() -> list[dict[str, Any]]:
    """The units expected in the seed's periods (those that must report), as the registry
    lists them in `expected_unit_details`."""
    seed = load_seed(None)
    return [{"code": u.code, "kind": u.kind, "tags": list(u.tags)} for u in seed if u.must_report]


class BareServer:
    """`python -m bench.bare` as a child process, stopped by its PID."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "bench.bare", "--port", str(self.port)]
        with open(self.tmp / "bare.log", "ab") as log:
            self.process = subprocess.Popen(
                [*argv, "--database-url", self.database_url], stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


async def wait_healthy(
    url: str, process: subprocess.Popen[bytes] | None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            if process is None or process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited")
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not healthy after {timeout}s")
            await asyncio.sleep(0.1)


async def bare_intake(
    tmp: Path,
    *,
    units: Sequence[dict[str, Any]],
    rounds: int,
    c1_requests: int,
    warmup: int,
) -> dict[str, Any]:
    """The bare endpoint under the intake load: every unit at once (`rounds` each), then one
    client alone (`c1_requests`)."""
    server = BareServer(tmp, f"sqlite+aiosqlite:///{tmp / 'bench-bare.db'}")
    server.start()
    base = server.url
    try:
        await wait_healthy(base + "/healthz", server.process)
        connections = [Connection(base) for _ in units]
        try:

            async def send(worker: int, n: int) -> None:
                unit = units[worker]
                response = await connections[worker].request(
                    "PUT",
                    f"/v1/reports/{unit['code']}",
                    json_body=amendment(unit, n + 1),
                    headers={"Authorization": DUMMY_BEARER, "Idempotency-Key": str(uuid.uuid4())},
                )
                response.raise_for_status()

            await closed_loop(send, workers=len(units), per_worker=max(1, warmup // len(units)))
            crowd = await closed_loop(send, workers=len(units), per_worker=rounds)
            await closed_loop(send, workers=1, per_worker=warmup)
            alone = await closed_loop(send, workers=1, per_worker=c1_requests)
        finally:
            for connection in connections:
                await connection.close()
        return {
            "what": "FastAPI + pydantic + SQLAlchemy PUT: validate the body, insert one row",
            "concurrent": crowd.as_dict(),
            "one_at_a_time": alone.as_dict(),
        }
    finally:
        server.stop()
