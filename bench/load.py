"""The one load client every HTTP measurement uses, for the project and its baselines alike:
`workers` clients, each sending its requests one after another (a closed loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.stats import latency_summary, rate

Send = Callable[[int, int], Awaitable[None]]
"""send(worker, n): the worker's n-th request; raises on a wrong answer."""


@dataclass
class LoadResult:
    """How long the load took and each request's latency."""

    workers: int
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.workers,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "req_per_s": round(rate(self.requests, self.seconds), 1),
            "latency": latency_summary(self.latencies),
        }


async def closed_loop(send: Send, *, workers: int, per_worker: int | Sequence[int]) -> LoadResult:
    """Run `workers` loops of `per_worker` requests each (or `per_worker[w]` for worker w),
    concurrently; time each request."""
    counts = [per_worker] * workers if isinstance(per_worker, int) else list(per_worker)
    if len(counts) != workers:
        raise ValueError("one request count per worker")
    latencies: list[float] = []

    async def worker(w: int) -> None:
        for n in range(counts[w]):
            began = time.perf_counter()
            await send(w, n)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    elapsed = time.perf_counter() - began
    return LoadResult(workers, sum(counts), elapsed, latencies)
