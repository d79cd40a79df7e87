"""Completeness and summary answers, serialized once per period stamp and kept per process.

A period's answer is built from the state of one or a few periods (a summary also from
the period a year earlier) and is valid while their answers' stamps have not moved
(`db.period_progress.stamp`: every change of what the answer is made of draws a new one
in the same transaction, so the check is right across replicas). An answer is kept as
its JSON split around the `units` list, so the whole answer is one concatenation and a
page of units costs the page, not the period (`Spliced`).

Bounded: one answer of each kind per period, for the `size` periods read last.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

UNITS_MARKER = b'"units":[]'


@dataclass(frozen=True)
class Page:
    """Which of an answer's `units` to include: all by default."""

    offset: int = 0
    limit: int | None = None

    def of(self, rows: tuple[bytes, ...]) -> tuple[bytes, ...]:
        """The rows of this page."""
        if self.offset == 0 and self.limit is None:
            return rows
        end = None if self.limit is None else self.offset + self.limit
        return rows[self.offset : end]


@dataclass(frozen=True)
class Spliced:
    """A JSON object serialized with an empty `units` list (`head` up to its `[`, `tail`
    from its `]`) and the units' rows serialized each on its own."""

    head: bytes
    rows: tuple[bytes, ...]
    tail: bytes

    @classmethod
    def of(cls, shell: bytes, rows: tuple[bytes, ...]) -> Spliced:
        """Split `shell` (the object serialized with `units` empty) around its one
        `"units":[]` (JSON escapes every quote inside a string, so only the key matches)."""
        at = shell.find(UNITS_MARKER)
        if at < 0 or shell.find(UNITS_MARKER, at + 1) >= 0:
            raise ValueError("the answer must hold exactly one empty units list")
        cut = at + len(UNITS_MARKER) - 1
        return cls(shell[:cut], rows, shell[cut:])

    def page(self, page: Page) -> bytes:
        """The answer with the page's units (the whole answer joined once, then kept)."""
        if page.offset == 0 and page.limit is None:
            return self.joined
        return b"".join((self.head, b",".join(page.of(self.rows)), self.tail))

    @cached_property
    def joined(self) -> bytes:
        """The answer with every unit."""
        return b"".join((self.head, b",".join(self.rows), self.tail))


@dataclass(frozen=True)
class CachedAnswer:
    """An answer with the stamps of the periods it was built from."""

    stamps: Mapping[str, str]
    value: Any


class AnswerCache:
    """The last answer of each kind per period, for the `size` periods read last."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        # Called when an answer is kept for a period none was held for (the refresher
        # then builds the period's other answers: `services/consolidation/refresh.py`).
        self.on_new_period: Callable[[], None] | None = None
        self._answers: OrderedDict[tuple[str, str], CachedAnswer] = OrderedDict()
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def lock(self, kind: str, period_id: str) -> asyncio.Lock:
        """Held while checking and building an answer: one build per period and kind at a
        time, so concurrent readers of a new stamp wait for one build instead of each
        making its own."""
        key = (kind, period_id)
        if key not in self._locks:
            if len(self._locks) > 4 * self._size:
                # Forget idle locks (nobody waits on them); keeps the dictionary bounded.
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            self._locks[key] = asyncio.Lock()
        return self._locks[key]

    def get(self, kind: str, period_id: str) -> CachedAnswer | None:
        """The answer held for the period, whatever its stamps."""
        found = self._answers.get((kind, period_id))
        if found is not None:
            self._answers.move_to_end((kind, period_id))
        return found

    def peek(self, kind: str, period_id: str) -> CachedAnswer | None:
        """The answer held for the period, without counting as a read."""
        return self._answers.get((kind, period_id))

    def periods(self) -> list[str]:
        """The periods an answer is held for, read last first."""
        return list(dict.fromkeys(p for _, p in reversed(self._answers)))

    def put(self, kind: str, period_id: str, answer: CachedAnswer) -> None:
        """Keep an answer, dropping the periods read least recently beyond `size`."""
        new = not any(p == period_id for _, p in self._answers)
        self._answers[(kind, period_id)] = answer
        self._answers.move_to_end((kind, period_id))
        for old in self.periods()[self._size :]:
            for key in [k for k in self._answers if k[1] == old]:
                del self._answers[key]
        if new and self.on_new_period is not None:
            self.on_new_period()

    def __len__(self) -> int:
        return len(self._answers)
