"""`make bench`: the project's throughput, latency and memory next to bare-stack baselines
measured in the same run, written to bench-results/.

    python -m bench                       everything (about 3-5 minutes on 2 cores)
    python -m bench --quick               smaller sizes, same measurements (about a minute)
    python -m bench --no-system           without starting the whole system
    python -m bench scale --units 10000   the province-to-nation scale run (see bench.scale)
    python -m bench profile [PATH …]      where each hot path's time goes (see bench.profile)
    python -m bench rebuild --events 1000000   `consolidation rebuild` of a national year
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baselines, consolidation, messaging
from bench.stats import latest, table

QUICK = {
    "rows": 5_000,
    "events": 2_000,
    "rounds": 8,
    "samples": 10,
    "c1_requests": 40,
    "warmup": 10,
    "consolidation_events": 300,
    "rebuild_events": 10_000,
}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "sizes": {k: getattr(args, k) for k in QUICK},
    }
    found: dict[str, Any] = {}
    # The machine's load before each part: a ratio is only as fair as the two parts' loads.
    loads: dict[str, float] = {}
    results["load_average_1min_before"] = loads

    def note(part: str) -> None:
        loads[part] = round(os.getloadavg()[0], 2)

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        sqlite = f"sqlite+aiosqlite:///{tmp}/bench-relay.db"
        note("relay")
        results["relay_sqlite"] = await messaging.relay_throughput(tmp, sqlite, args.rows)
        found["raw_publish_async"] = await messaging.raw_publish_async(tmp, args.rows)
        # The same pair without `sync_interval: always`, to show what the fsync costs.
        results["relay_sqlite_default_sync"] = await messaging.relay_throughput(
            tmp, f"sqlite+aiosqlite:///{tmp}/bench-relay-default.db", args.rows, sync_always=False
        )
        found["raw_publish_async_default_sync"] = await messaging.raw_publish_async(
            tmp, args.rows, sync_always=False
        )
        sqlite_c = f"sqlite+aiosqlite:///{tmp}/bench-consumer.db"
        note("consumer")
        results["consumer_sqlite"], found["raw_fetch_ack"] = await messaging.consumer_throughput(
            tmp, f"sqlite+aiosqlite:///{tmp}/bench-consumer-batch.db", args.events, batch=True
        )
        (
            results["consumer_sqlite_per_event"],
            found["raw_fetch_ack_per_event_run"],
        ) = await messaging.consumer_throughput(tmp, sqlite_c, args.events)
        note("consolidation")
        results["consolidation_per_event_sqlite"] = await consolidation.per_event_cost(
            tmp,
            f"sqlite+aiosqlite:///{tmp}/bench-consolidation.db",
            events=args.consolidation_events,
        )
        note("rebuild")
        results["consolidation_rebuild_sqlite"] = await consolidation.rebuild_throughput(
            tmp, f"sqlite+aiosqlite:///{tmp}/bench-rebuild.db", events=args.rebuild_events
        )
        results["baselines"] = found
        if args.system:
            from bench import system

            note("system")
            results["system"] = await system.measure(tmp, args)
            # Measured alternating with the project's load (bench.system.measure).
            found["bare_intake"] = results["system"].pop("bare_intake")
        else:
            note("bare_intake")
            try:
                found["bare_intake"] = await baselines.bare_intake(
                    tmp,
                    units=baselines.seed_units(),
                    rounds=args.rounds,
                    c1_requests=args.c1_requests,
                    warmup=args.warmup,
                )
            except Exception as exc:  # recorded, so that the other figures are still written
                found["bare_intake"] = {"error": repr(exc)[:1000]}
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smaller sizes: " + json.dumps(QUICK))
    p.add_argument("--rows", type=int, default=20_000, help="outbox rows for the relay")
    p.add_argument("--events", type=int, default=5_000, help="events for the consumer")
    p.add_argument("--rounds", type=int, default=25, help="amendments per unit, all at once")
    p.add_argument("--samples", type=int, default=30, help="submission-to-consolidation samples")
    p.add_argument("--c1-requests", type=int, default=200, help="amendments one at a time")
    p.add_argument("--warmup", type=int, default=20, help="requests before each HTTP measurement")
    p.add_argument(
        "--consolidation-events", type=int, default=1000, help="report events per period size"
    )
    p.add_argument(
        "--rebuild-events", type=int, default=50_000, help="events replayed by the rebuild"
    )
    p.add_argument("--no-system", dest="system", action="store_false")
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    return p


def rebuild_main(argv: Sequence[str]) -> int:
    """`python -m bench rebuild`: only the rebuild, at any size (`make bench` replays 50,000
    events and extrapolates); `bench-results/rebuild-N.json`."""
    p = argparse.ArgumentParser(prog="python -m bench rebuild", description=rebuild_main.__doc__)
    p.add_argument("--events", type=int, default=1_000_000, help="events published and replayed")
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    args = p.parse_args(argv)

    async def measure() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as scratch:
            tmp = Path(scratch)
            return {
                "when": datetime.now(UTC).isoformat(),
                "load_average_at_start": list(os.getloadavg()),
                "consolidation_rebuild_sqlite": await consolidation.rebuild_throughput(
                    tmp, f"sqlite+aiosqlite:///{tmp}/bench-rebuild.db", events=args.events
                ),
                "load_average_at_end": list(os.getloadavg()),
            }

    results = asyncio.run(measure())
    args.out.mkdir(exist_ok=True)
    text = json.dumps(results, ensure_ascii=False, indent=2)
    (args.out / f"rebuild-{args.events}.json").write_text(text, encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "scale":
        from bench import scale

        return scale.main(argv[1:])
    if argv and argv[0] == "profile":
        from bench import profile

        return profile.main(argv[1:])
    if argv and argv[0] == "rebuild":
        return rebuild_main(argv[1:])
    args = parser().parse_args(argv)
    if args.quick:
        defaults = parser().parse_args([])
        for name, value in QUICK.items():
            if getattr(args, name) == getattr(defaults, name):
                setattr(args, name, value)
    results = asyncio.run(run(args))
    document = latest(results)
    args.out.mkdir(exist_ok=True)
    stamped = args.out / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    text = json.dumps(document, ensure_ascii=False, indent=2)
    stamped.write_text(text, encoding="utf-8")
    (args.out / "latest.json").write_text(text, encoding="utf-8")
    sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n\n")
    sys.stdout.write(table(document["comparisons"]) + "\n\n")
    sys.stdout.write(f"written to {stamped} and {args.out / 'latest.json'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
