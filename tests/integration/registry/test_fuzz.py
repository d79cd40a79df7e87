"""Schemathesis over the registry's OpenAPI document (issue 9.7): generated requests as an
admin and as a unit get no 5xx, and every documented answer matches its schema. Bounded by
`DANVAN_FUZZ_SECONDS` per token (default 40 s); the suite-wide fuzz test covers all services."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from tests.integration.registry.support import running_registry

BUDGET = int(os.environ.get("DANVAN_FUZZ_SECONDS", "40"))


async def _schemathesis(base: str, token: str, report: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        str(BUDGET),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--seed",
        "20261202",
        "--header",
        f"Authorization: Bearer {token}",
        "--exclude-path",
        "/metrics",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_REPORTS_DIR": str(report)},
    )
    output, _ = await process.communicate()
    return int(process.returncode or 0), output.decode("utf-8", "replace")


async def test_generated_requests_as_admin_and_unit_get_no_5xx_and_match_the_schema(
    nats_server, databases, tmp_path: Path
):
    # The sign-in slow-down has its own tests; here it would only answer 429.
    relaxed: dict[str, Any] = {"login_free_failures": 100_000, "login_ip_free_failures": 100_000}
    async with running_registry(nats_server, databases, **relaxed) as registry:
        # Both tokens first: the admin's run may reset the unit's password.
        tokens = {who: await registry.token(who) for who in ("18115", "admin")}
        for who, token in tokens.items():
            code, output = await _schemathesis(registry.base, token, tmp_path / who)
            assert code == 0, f"schemathesis as {who}:\n{output[-6000:]}"
