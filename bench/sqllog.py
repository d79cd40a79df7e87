"""The SQL statements a workload issues: counted by shape, with the project function that
issued each (a separate pass from the timed one: walking the stack costs time)."""

from __future__ import annotations

import re
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import greenlet  # type: ignore[import-untyped]  # no stubs shipped
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_SPACE = re.compile(r"\s+")
_PATTERNS = (
    (re.compile(r"^INSERT INTO (\S+)", re.I), "INSERT {}"),
    (re.compile(r"^UPDATE (\S+)", re.I), "UPDATE {}"),
    (re.compile(r"^DELETE FROM (\S+)", re.I), "DELETE {}"),
    (re.compile(r"^SELECT .*? FROM (\S+)", re.I), "SELECT {}"),
)


def statement_shape(sql: str) -> str:
    """`INSERT report_versions`, `SELECT reports … FOR UPDATE`, `UPDATE outbox`: the kind of
    statement and its first table, with the clauses that change its cost."""
    text = _SPACE.sub(" ", sql).strip()
    shape = text[:60]
    for pattern, template in _PATTERNS:
        match = pattern.match(text)
        if match:
            shape = template.format(match[1].strip('"`'))
            break
    upper = text.upper()
    for clause in ("ON CONFLICT", "RETURNING", "FOR UPDATE"):
        if clause in upper:
            shape += f" … {clause}"
    return shape


ROOT = Path(__file__).resolve().parents[1]
_OWN = ("bench/sqllog.py", "shared/db.py")
_ROOTS = ("services/", "shared/", "tests/", "bench/")


def issuer(stack: list[traceback.FrameSummary]) -> str:
    """The innermost function of the repository's own code (services/, shared/, or the
    tests' and bench's harnesses; not this module nor shared/db.py's helpers)."""
    for frame in reversed(stack):
        try:
            relative = Path(frame.filename).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            continue  # a library's frame
        if relative in _OWN or not relative.startswith(_ROOTS):
            continue
        return f"{relative.removesuffix('.py')}.{frame.name}"
    return "(outside the project)"


class StatementLog:
    """Shapes and issuers of the statements seen while recording."""

    def __init__(self) -> None:
        self.shapes: Counter[tuple[str, str]] = Counter()
        self.total = 0
        self.commits = 0

    def per_item(self, items: int) -> dict[str, Any]:
        return {
            "statements_per_item": round(self.total / items, 2),
            "commits_per_item": round(self.commits / items, 2),
            "statements": [
                {"statement": shape, "issued_by": who, "per_item": round(n / items, 2)}
                for (shape, who), n in self.shapes.most_common()
            ],
        }


def calling_stack() -> list[traceback.FrameSummary]:
    """The stack of this statement, including the coroutines that awaited SQLAlchemy's
    greenlet (the sync engine runs inside it, so its own stack starts in SQLAlchemy)."""
    stack = list(traceback.extract_stack())
    current = greenlet.getcurrent()
    while current.parent is not None:
        current = current.parent
        if current.gr_frame is not None:
            stack = list(traceback.extract_stack(current.gr_frame)) + stack
    return stack


@contextmanager
def recording(engine: AsyncEngine) -> Iterator[StatementLog]:
    log = StatementLog()

    def on_execute(*args: Any) -> None:
        statement = args[2]
        log.total += 1
        log.shapes[(statement_shape(statement), issuer(calling_stack()))] += 1

    def on_commit(*_args: Any) -> None:
        log.commits += 1

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", on_execute)
    event.listen(sync, "commit", on_commit)
    try:
        yield log
    finally:
        event.remove(sync, "before_cursor_execute", on_execute)
        event.remove(sync, "commit", on_commit)
