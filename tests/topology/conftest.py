"""One production-shaped topology for the whole session: starting it costs a minute, so
the gateway, alert, fault, metric and restart tests share it (in that order: file names)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.topology.topology import Topology, missing_tools


@pytest.fixture(scope="session")
def topology() -> Iterator[Topology]:
    absent = missing_tools()
    if absent:
        pytest.skip(f"the topology needs Debian's {', '.join(absent)} (.ci/run installs them)")
    running = Topology()
    try:
        running.start()
        yield running
    finally:
        running.stop()
        running.cleanup()
