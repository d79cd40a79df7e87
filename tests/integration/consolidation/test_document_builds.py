"""One document build at a time: a second download waits for the first build to end
(instrumented: the builds record how many run at once; nothing is timed).

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation.usecases import documents
from shared.auth import Principal
from tests.integration.consolidation.test_cached_answers import one_by_one
from tests.integration.consolidation.test_completeness_reads import context_of
from tests.support.http import eventually
from tests.unit.consolidation.factory import three_reports

REVIEWER = Principal(username="pnv", role="reviewer")


class Builds:
    """Stands for the document builders: counts the builds running at once, and holds each
    until the test lets it finish."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.started = 0
        self.finish = threading.Event()
        self._lock = threading.Lock()

    def build(self, *args: Any) -> bytes:
        with self._lock:
            self.running += 1
            self.started += 1
            self.most = max(self.most, self.running)
        try:
            assert self.finish.wait(timeout=30)
            return b"built"
        finally:
            with self._lock:
                self.running -= 1


async def test_two_downloads_never_build_at_the_same_time(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = context_of(engine)
    await one_by_one(context, three_reports())
    builds = Builds()
    monkeypatch.setattr(documents, "report_docx", builds.build)
    monkeypatch.setattr(documents, "report_xlsx", builds.build)
    downloads = [
        asyncio.create_task(documents.consolidated_report(context, REVIEWER, "2023-H1")),
        asyncio.create_task(documents.consolidated_workbook(context, REVIEWER, "2023-H1")),
        asyncio.create_task(documents.consolidated_workbook(context, REVIEWER, "2023-H1")),
    ]

    async def all_arrived() -> bool:
        # Every download is building or queued for a build; without the limit all three
        # would be building by now.
        return builds.running + context.builds.waiting == len(downloads)

    await eventually(all_arrived, timeout=15)
    assert (builds.running, context.builds.waiting) == (1, 2)
    builds.finish.set()
    done = await asyncio.gather(*downloads)
    assert [d.content for d in done] == [b"built"] * 3
    assert (builds.started, builds.most, context.builds.waiting) == (3, 1, 0)


async def test_a_failed_build_lets_the_next_one_run(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = context_of(engine)
    await one_by_one(context, three_reports())

    def broken(*args: Any) -> bytes:
        raise RuntimeError("hỏng")

    monkeypatch.setattr(documents, "report_xlsx", broken)
    with pytest.raises(RuntimeError):
        await documents.consolidated_workbook(context, REVIEWER, "2023-H1")
    monkeypatch.setattr(documents, "report_xlsx", lambda *a: b"built")
    assert (await documents.consolidated_workbook(context, REVIEWER, "2023-H1")).content == b"built"
