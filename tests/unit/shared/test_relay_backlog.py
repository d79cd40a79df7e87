"""The relay reads its backlog gauges (two statements on the service's connection) every
`backlog_seconds`, not after every pass, and at once after a failed pass."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import MagicMock

from shared.messaging.relay import OutboxRelay


class Passes:
    """A relay whose passes and backlog reads are counted; `fail` makes the passes raise."""

    def __init__(self, backlog_seconds: float) -> None:
        self.relay = OutboxRelay(
            MagicMock(),
            MagicMock(),
            lambda: None,
            MagicMock(),
            poll_seconds=0.001,
            backlog_seconds=backlog_seconds,
        )
        self.passes = 0
        self.reads = 0
        self.fail = False
        self.relay.publish_pending = self._pass  # type: ignore[method-assign]
        self.relay.refresh_backlog_metrics = self._read  # type: ignore[method-assign]

    async def _pass(self) -> int:
        self.passes += 1
        if self.fail:
            raise ConnectionError("NATS unreachable")
        return 1

    async def _read(self) -> None:
        self.reads += 1

    async def run_until(self, passes: int) -> None:
        task = asyncio.create_task(self.relay.run())
        while self.passes < passes:
            self.relay.wake()
            await asyncio.sleep(0)
        self.relay.stop()
        await asyncio.wait_for(task, 5)


async def test_the_backlog_is_read_once_per_interval_not_per_pass() -> None:
    relay = Passes(backlog_seconds=3600)
    await relay.run_until(passes=20)
    assert relay.reads == 1  # the first pass; the next read is due in an hour


async def test_every_pass_reads_it_when_the_interval_is_zero() -> None:
    relay = Passes(backlog_seconds=0)
    await relay.run_until(passes=5)
    assert relay.reads >= 4


async def test_a_failed_pass_reads_it_at_once() -> None:
    relay = Passes(backlog_seconds=3600)
    await relay.run_until(passes=3)
    reads: Any = relay.reads
    relay.fail = True
    relay.relay._stopping = False
    await relay.run_until(passes=relay.passes + 1)
    assert relay.reads == reads + 1
