"""`make bench`: reruns the throughput and memory measurements and writes bench-results/."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import consolidation, messaging


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        sqlite = f"sqlite+aiosqlite:///{tmp}/bench-relay.db"
        results["relay_sqlite"] = await messaging.relay_throughput(tmp, sqlite, args.rows)
        sqlite_c = f"sqlite+aiosqlite:///{tmp}/bench-consumer.db"
        results["consumer_sqlite"] = await messaging.consumer_throughput(tmp, sqlite_c, args.events)
        results["consolidation_per_event_sqlite"] = await consolidation.per_event_cost(
            tmp, f"sqlite+aiosqlite:///{tmp}/bench-consolidation.db"
        )
        if args.system:
            from bench import system

            results["system"] = await system.measure(tmp, args)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000, help="outbox rows for the relay")
    parser.add_argument("--events", type=int, default=5_000, help="events for the consumer")
    parser.add_argument("--rounds", type=int, default=25, help="amendments per unit")
    parser.add_argument("--samples", type=int, default=30, help="latency samples")
    parser.add_argument("--no-system", dest="system", action="store_false")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    results = asyncio.run(run(args))
    args.out.mkdir(exist_ok=True)
    path = args.out / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    text = json.dumps(results, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    sys.stdout.write(text + f"\n\nwritten to {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
