"""Where answers are read and rendered: a worker thread with its own event loop and its
own database engine, so that building a 10,000-unit answer (about a second of Python:
decoding the rows, tallying, serializing) never holds the service's event loop, whose
requests (cached answers, the health check, the consumers) go on being served meanwhile.
The thread only computes; the cache and its locks stay on the service's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from services.consolidation.store import ConsolidationStore
from shared.db import create_engine, make_session_factory

T = TypeVar("T")


class AnswerThread:
    """One worker thread running an event loop over its own engine to `database_url`."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store: ConsolidationStore | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        """Start the thread and its loop (returns once it runs)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="answers", daemon=True)
        self._thread.start()
        self._ready.wait()

    async def run(self, work: Callable[[ConsolidationStore], Coroutine[Any, Any, T]]) -> T:
        """`work(store)` on the thread's loop, awaited from the caller's."""
        if self._loop is None or self._store is None:
            raise RuntimeError("the answer thread is not running")
        future = asyncio.run_coroutine_threadsafe(work(self._store), self._loop)
        return await asyncio.wrap_future(future)

    async def stop(self) -> None:
        """Stop the loop and wait for the thread (its engine disposed of)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 30)
        self._loop = self._thread = self._store = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        engine = create_engine(self._url)
        self._store = ConsolidationStore(make_session_factory(engine))
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(engine.dispose())
            loop.close()
