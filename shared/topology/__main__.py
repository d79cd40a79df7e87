"""`python -m shared.topology` (`make run-cluster`): the production topology on one machine."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from shared.launcher import StartupError
from shared.topology.cluster import DEMO_PASSWORD, Cluster, Options
from shared.topology.render import ALERTS_YML, Ports


def parse(argv: list[str] | None, demo_password: str | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".data-cluster"))
    parser.add_argument(
        "--port-offset", type=int, default=0, help="added to every port (tests, a second copy)"
    )
    parser.add_argument("--rules", type=Path, default=ALERTS_YML, help="the alert rules file")
    parser.add_argument(
        "--scrape-interval", default=None, help="Prometheus scrape and evaluation interval"
    )
    parser.add_argument("--join-timeout", type=float, default=30.0)
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    return Options(
        data_dir=args.data_dir.resolve(),
        ports=Ports().shifted(args.port_offset),
        rules=args.rules.resolve(),
        scrape_interval=args.scrape_interval,
        demo_password=demo_password or DEMO_PASSWORD,
        join_timeout=args.join_timeout,
        ready_timeout=args.ready_timeout,
    )


def main(argv: list[str] | None = None, demo_password: str | None = None) -> int:
    logging.basicConfig(level="INFO", format="%(asctime)s run-cluster %(message)s")
    cluster = Cluster(parse(argv, demo_password))

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        cluster.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
        sys.stdout.write(cluster.banner())
        sys.stdout.flush()
        cluster.supervise()
    except StartupError as error:
        with contextlib.suppress(Exception):
            cluster.stop()
        sys.stderr.write(f"Không khởi động được (cannot start): {error}\n")
        return 1
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
    return 0


if __name__ == "__main__":
    import os

    sys.exit(main(demo_password=os.environ.get("DANVAN_DEMO_PASSWORD")))
