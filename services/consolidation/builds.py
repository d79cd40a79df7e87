"""One document build at a time per process: two `report.xlsx` builds at 10,000 units
peaked at 966 MiB together (docs/BENCHMARKS.md). A second request waits for the first
build to finish rather than being refused: the portal then needs no retry, and what a
waiting request holds (its principal and period) is small next to a build."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class OneBuildAtATime:
    """Runs document builds in a worker thread (the event loop keeps serving), one at a
    time; `waiting` counts the requests queued behind the running one."""

    def __init__(self) -> None:
        self._slot = asyncio.Semaphore(1)
        self.waiting = 0

    async def run(self, build: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`build(*args)` in a thread, after the builds queued before it."""
        self.waiting += 1
        try:
            await self._slot.acquire()
        finally:
            self.waiting -= 1
        try:
            return await asyncio.to_thread(build, *args, **kwargs)
        finally:
            self._slot.release()
