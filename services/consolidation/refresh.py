"""Cached answers built again in the background after a change (`reading.refresh_answers`).

Every change of a period moves its stamp, and the first read after it used to pay for the
build (1.6 s for a summary of 10,000 units). The refresher builds again the answers held
by the process whose stamps moved, as a read would and under the same per-answer lock (a
read arriving during a background build waits for it instead of making its own). It is
woken by every commit of this process that moved a stamp (`store.ANSWERS_MOVED`: each
applied batch), when a read first keeps an answer for a period (the period's other answer
is then built too: a period being read has both kept), and every `interval_s` for the
changes other processes make (a replica's consumer, `consolidation rebuild`). Woken
after a change, it waits for this process's changes to pause for `QUIET_S` (while
submissions or the registry's unit events stream in, every batch moves the stamp and a
build would be stale at once), and after a round it waits twice as long as the round
took (at most a third of a core). A read of a stamp newer than the last build still
builds, as before."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from services.consolidation.context import ConsolidationContext
from services.consolidation.usecases.reading import refresh_answers

log = logging.getLogger(__name__)

QUIET_S = 1.0


class AnswerRefresher:
    """The background loop around `refresh_answers`; `interval_s` 0 turns it off."""

    def __init__(self, context: ConsolidationContext, interval_s: float) -> None:
        self._context = context
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._now = False
        self.rounds = 0
        self.built = 0

    def start(self) -> None:
        """Run the loop in the background (not when turned off)."""
        if self._interval_s > 0 and self._task is None:
            self._context.answers.on_new_period = self.poke_now
            self._task = asyncio.create_task(self._loop(), name="answer-refresher")

    def poke(self) -> None:
        """A stamp moved: look once the changes pause."""
        self._wake.set()

    def poke_now(self) -> None:
        """A period's first answer was kept: build its other answer without waiting for a
        pause (nothing changed)."""
        self._now = True
        self._wake.set()

    async def stop(self) -> None:
        """Stop the loop; a build under way is abandoned (its answer is not kept)."""
        task, self._task = self._task, None
        self._context.answers.on_new_period = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            if not self._now:
                await self._settle()
            self._now = False
            self._wake.clear()
            began = time.perf_counter()
            try:
                self.built += await refresh_answers(self._context)
            except Exception:
                log.exception("building the cached answers again failed")
            self.rounds += 1
            await asyncio.sleep(2 * (time.perf_counter() - began))

    async def _settle(self) -> None:
        """Wait until no change has come for `QUIET_S`: while changes stream in, an answer
        built now is made stale by the next one at once (and a read of the newer stamp
        builds it anyway), so nothing is built until they pause."""
        while not self._now:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), QUIET_S)
            except TimeoutError:
                return  # quiet
