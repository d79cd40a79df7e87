"""Events cut into batches as one durable consumer per subject fetches them: consecutive
events of one type, of random sizes, for the tests that apply batch handlers directly."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any


def consecutive_batches(
    events: Sequence[Any], rng: random.Random, max_size: int
) -> Iterator[list[Any]]:
    """Batches of 1 to `max_size` consecutive events of one type, in order."""
    n = 0
    while n < len(events):
        kind, size = type(events[n]), rng.randint(1, max_size)
        batch = [events[n]]
        n += 1
        while n < len(events) and len(batch) < size and type(events[n]) is kind:
            batch.append(events[n])
            n += 1
        yield batch
