"""Where answers are read and rendered: a worker process with its own event loop and its
own database engine.

Building a 10,000-unit answer is about a second of Python (decoding the rows, tallying,
serializing). On a thread of the service (`AnswerThread` before) it shared the
interpreter's lock with the service's loop: a read served meanwhile waited for the lock at
every switch (each send of its 3.6 MB, each database round trip), and the scale run's
completeness reads served while the summary was built in the background took up to
290–360 ms instead of ~35 ms. In a process of its own the build takes nothing from the
service's loop but a core the machine may have free; only its result (the serialized
answer, a few MB of bytes) comes back. The process only computes; the cache and its locks
stay on the service's loop, and the stamps come back with the answer as before.

One worker, started with the service (spawned: a fresh interpreter, nothing inherited from
the service's threads and connections) and warmed at once so the first build does not pay
for its imports. A worker that dies (killed, out of memory) is replaced and the build
asked for once more; a worker whose service died ends by itself."""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from services.consolidation.store import ConsolidationStore
from shared.db import create_engine, make_session_factory

T = TypeVar("T")
Built = tuple[dict[str, str], set[str], Any]

log = logging.getLogger(__name__)

# How often the worker looks whether the service that started it is still there.
PARENT_CHECK_S = 0.5


class AnswerProcess:
    """One worker process reading and rendering answers over its own engine to
    `database_url`."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker (in the background: its imports take a second or two)."""
        if self._pool is None:
            self._pool = self._new_pool()
            self._pool.submit(os.getpid)  # the worker starts and imports now

    async def build(self, kind: str, period_id: str) -> Built:
        """The stamps read first, the periods the answer is made of and the rendered
        answer (`reading._read_and_render`), computed in the worker."""
        return await self.call(_build, kind, period_id)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the worker (both picklable), awaited from the caller's
        loop; a worker that died meanwhile is replaced and the call made once more."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._running(), function, *args)
        except BrokenProcessPool:
            log.warning("the answer worker died; starting another")
            broken, self._pool = self._pool, self._new_pool()
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(self._running(), function, *args)

    async def stop(self) -> None:
        """Stop the worker (a build under way is abandoned) and wait for it to exit."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _running(self) -> ProcessPoolExecutor:
        if self._pool is None:
            raise RuntimeError("the answer process is not running")
        return self._pool

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._url,),
        )


# The worker's state: its event loop and its store, made once by `_start_worker`.
_worker: tuple[asyncio.AbstractEventLoop, ConsolidationStore] | None = None


def _start_worker(database_url: str) -> None:
    global _worker
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)
    _worker = (loop, ConsolidationStore(make_session_factory(engine)))
    atexit.register(lambda: loop.run_until_complete(engine.dispose()))
    threading.Thread(target=_end_with, args=(os.getppid(),), daemon=True).start()


def _end_with(service_pid: int) -> None:
    """End the worker once the service that started it is gone. A service stopped as
    usual stops its worker (`AnswerProcess.stop`); one killed (SIGKILL, out of memory)
    cannot, and the worker, which holds both ends of its own task queue, would wait for
    work for ever (an orphan holding ~150 MiB and database connections)."""
    while os.getppid() == service_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _build(kind: str, period_id: str) -> Built:
    # Imported here: `reading` needs the context, which names this module.
    from services.consolidation.usecases.reading import _read_and_render

    if _worker is None:
        raise RuntimeError("the answer worker was not started")
    loop, store = _worker
    return loop.run_until_complete(_read_and_render(store, kind, period_id, in_thread=False))
