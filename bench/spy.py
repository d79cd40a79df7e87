"""Sampling profiles with py-spy, and the arithmetic that turns them into tables.

`Spy` attaches py-spy to this very process (all threads, so SQLite's work in aiosqlite's
thread is seen) while a workload runs; the collapsed stacks are then grouped by *step*
(the outermost rule a sample's stack matches, e.g. "token verification") and by *layer*
(the library the innermost frame belongs to, e.g. SQLAlchemy), and the busiest frames are
listed. Shares are of samples of busy threads (py-spy leaves out idle ones), so a sample is
a slice of CPU-ish time; `ms_per_item` divides it by the items the workload processed.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LINE = re.compile(r"^thread \((?P<tid>\d+)\): (?P<rest>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Sample:
    """One distinct stack with how many times it was seen."""

    thread: str
    frames: tuple[str, ...]  # outermost first, "func (file:line)"
    count: int


def parse_collapsed(text: str) -> list[Sample]:
    """py-spy's `--format raw --threads` output: `thread (tid): name;frame;…;frame count`."""
    samples: list[Sample] = []
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        thread, *frames = match["rest"].split(";")
        samples.append(Sample(thread, tuple(frames), int(match["count"])))
    return samples


def frame_name(frame: str) -> str:
    """`func (file:line)` without the line: `func (file)`."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['func']} ({match['file']})"


@dataclass(frozen=True)
class Rule:
    """A label and the substrings of a frame that put a sample under it."""

    label: str
    patterns: tuple[str, ...]
    threads: str | None = None  # only samples of threads whose name contains this

    def matches_thread(self, thread: str) -> bool:
        return self.threads is None or self.threads in thread

    def matches(self, frame: str) -> bool:
        return any(p in frame for p in self.patterns)


def _share(rows: Counter[str], total: int, items: int, rate: int) -> list[dict[str, Any]]:
    out = []
    for label, count in rows.most_common():
        out.append(
            {
                "label": label,
                "samples": count,
                "share": round(count / total, 4) if total else 0.0,
                "ms_per_item": round(1000 * count / rate / items, 3) if items and rate else None,
            }
        )
    return out


def by_step(
    samples: Iterable[Sample], rules: Sequence[Rule], *, items: int, rate: int
) -> list[dict[str, Any]]:
    """Each sample under the first rule (in rule order) that any frame of its stack matches;
    the last rule should be a catch-all."""
    rows: Counter[str] = Counter()
    total = 0
    for sample in samples:
        total += sample.count
        for rule in rules:
            if rule.matches_thread(sample.thread) and any(rule.matches(f) for f in sample.frames):
                rows[rule.label] += sample.count
                break
        else:
            rows["(unmatched)"] += sample.count
    return _share(rows, total, items, rate)


def by_layer(
    samples: Iterable[Sample], rules: Sequence[Rule], *, items: int, rate: int
) -> list[dict[str, Any]]:
    """Each sample under the rule matched by the innermost frame that matches any rule."""
    rows: Counter[str] = Counter()
    total = 0
    for sample in samples:
        total += sample.count
        label = "(unmatched)"
        for frame in reversed(sample.frames):
            rule = next(
                (r for r in rules if r.matches_thread(sample.thread) and r.matches(frame)), None
            )
            if rule is not None:
                label = rule.label
                break
        rows[label] += sample.count
    return _share(rows, total, items, rate)


def top_self(samples: Iterable[Sample], n: int = 15) -> list[dict[str, Any]]:
    """The innermost frames seen most often (where the time is spent)."""
    rows: Counter[str] = Counter()
    total = 0
    for sample in samples:
        total += sample.count
        if sample.frames:
            rows[frame_name(sample.frames[-1])] += sample.count
    return [
        {"frame": f, "samples": c, "share": round(c / total, 4)} for f, c in rows.most_common(n)
    ]


def top_inclusive(
    samples: Iterable[Sample], *, only: Sequence[str] = ("services/", "shared/"), n: int = 15
) -> list[dict[str, Any]]:
    """Frames of the given files by the share of samples whose stack holds them."""
    rows: Counter[str] = Counter()
    total = 0
    for sample in samples:
        total += sample.count
        seen = {frame_name(f) for f in sample.frames if any(o in f for o in only)}
        for name in seen:
            rows[name] += sample.count
    return [
        {"frame": f, "samples": c, "share": round(c / total, 4)} for f, c in rows.most_common(n)
    ]


def split_waiting(
    samples: Iterable[Sample], leaves: Sequence[str]
) -> tuple[list[Sample], list[Sample]]:
    """(busy, waiting): a sample whose innermost frame starts with one of `leaves` is a
    thread waiting (on a queue, a condition, uvloop's poll) that py-spy counted as active."""
    busy: list[Sample] = []
    waiting: list[Sample] = []
    for sample in samples:
        leaf = sample.frames[-1] if sample.frames else ""
        (waiting if any(leaf.startswith(w) for w in leaves) else busy).append(sample)
    return busy, waiting


def without(samples: Iterable[Sample], patterns: Sequence[str]) -> list[Sample]:
    """The samples whose stacks hold none of the patterns (e.g. the load client's frames)."""
    return [s for s in samples if not any(p in f for f in s.frames for p in patterns)]


def py_spy() -> Path:
    return Path(sys.executable).parent / "py-spy"


@contextmanager
def attached(output: Path, *, rate: int) -> Iterator[None]:
    """py-spy recording this process until the block ends (synchronous start and stop)."""
    process = subprocess.Popen(
        [
            str(py_spy()),
            "record",
            "--pid",
            str(os.getpid()),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--threads",
            "--nonblocking",
            "-o",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        if not output.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")


class Spy:
    """`async with Spy(path, rate) as spy:` around a workload; then `spy.samples()`."""

    def __init__(self, output: Path, rate: int = 250) -> None:
        self.output = output
        self.rate = rate
        self._context: Any = None

    async def __aenter__(self) -> Spy:
        self._context = attached(self.output, rate=self.rate)
        self._context.__enter__()
        await asyncio.sleep(1.0)  # py-spy needs a moment to attach
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._context.__exit__, None, None, None)

    def samples(self) -> list[Sample]:
        return parse_collapsed(self.output.read_text("utf-8", errors="replace"))
