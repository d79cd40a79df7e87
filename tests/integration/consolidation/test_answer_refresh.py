"""Cached answers are built again in the background after a change: a read after a change
finds the answer built (nothing is rendered for it), the answer is the one a read would
have built, only the periods whose answers are held are built, and the refresher is woken
by the commits that move a stamp.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation.answer_process import AnswerProcess
from services.consolidation.answers import AnswerCache, Page
from services.consolidation.context import ConsolidationContext
from services.consolidation.metrics import ConsolidationMetrics
from services.consolidation.projector import Projector
from services.consolidation.refresh import AnswerRefresher
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.store import ANSWERS_MOVED, ConsolidationStore
from services.consolidation.usecases import reading
from shared.db import Database
from shared.errors import DomainError
from tests.integration.consolidation.test_cached_answers import (
    CLOCK,
    REVIEWER,
    UNITS,
    as_batch,
    completeness,
    fresh_completeness,
    fresh_summary,
    one_by_one,
    summary,
)
from tests.integration.consolidation.test_completeness_reads import context_of
from tests.support.http import eventually
from tests.unit.consolidation.histories import period_changed, report_version


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many answers of each kind were rendered (built)."""
    counted: Counter[str] = Counter()
    for kind, answer in list(reading.ANSWERS.items()):

        def render(state: Any, kind: str = kind, inner: Any = answer.render) -> Any:
            counted[kind] += 1
            return inner(state)

        monkeypatch.setitem(reading.ANSWERS, kind, replace(answer, render=render))
    return counted


async def test_a_read_after_a_change_finds_the_answer_built(
    engine: AsyncEngine, renders: Counter[str]
) -> None:
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), period_changed("Q", UNITS)])
    await completeness(context)  # P's completeness is read (and built)
    assert renders == {"completeness": 1}
    # The period being read gets its other answer too; Q, never read, gets nothing.
    assert await reading.refresh_answers(context) == 1
    assert renders == {"completeness": 1, "summary": 1}
    assert await reading.refresh_answers(context) == 0  # nothing moved
    await as_batch(
        context, [report_version("P", UNITS[0].code, 1), report_version("Q", UNITS[1].code, 1)]
    )
    assert await reading.refresh_answers(context) == 2
    assert renders == {"completeness": 2, "summary": 2}
    refreshed = (await completeness(context), await summary(context))
    assert renders == {"completeness": 2, "summary": 2}  # served, not built
    assert refreshed == (
        await fresh_completeness(context, REVIEWER),
        await fresh_summary(context),
    )
    assert set(context.answers.periods()) == {"P"}


async def test_the_refresher_builds_in_the_background_after_a_change(
    engine: AsyncEngine, renders: Counter[str]
) -> None:
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS)])
    refresher = AnswerRefresher(context, interval_s=0.05)
    refresher.start()
    try:
        await summary(context)
        await eventually(lambda: _async(renders["completeness"] == 1))
        await one_by_one(context, [report_version("P", UNITS[0].code, 1)])
        await eventually(lambda: _async(renders == {"completeness": 2, "summary": 2}))
        assert (await summary(context))["completeness"]["submitted"] == 1
        assert renders == {"completeness": 2, "summary": 2}
    finally:
        await refresher.stop()
    assert context.answers.on_new_period is None


async def test_a_commit_that_moves_a_stamp_wakes_the_refresher(engine: AsyncEngine) -> None:
    """The service wires `refresher.poke` to `ANSWERS_MOVED` (app.py): every transaction
    that moved a stamp wakes it, after its commit; one that moved none does not."""
    database = Database(str(engine.url.render_as_string(hide_password=False)))
    try:
        woken: list[str] = []
        database.on_commit(ANSWERS_MOVED, lambda: woken.append("moved"))
        context = ConsolidationContext(
            settings=ConsolidationSettings(env="test"),
            clock=CLOCK,
            store=ConsolidationStore(database.sessions),
            metrics=ConsolidationMetrics(CollectorRegistry()),
        )
        await one_by_one(context, [period_changed("P", UNITS)])
        await asyncio.sleep(0)
        assert woken == ["moved"]
        async with context.store.transaction() as session:
            await Projector(CLOCK).on_report_events(
                session, [report_version("P", UNITS[0].code, 1)]
            )
        await asyncio.sleep(0)
        assert woken == ["moved", "moved"]
        await one_by_one(context, [report_version("P", UNITS[0].code, 1)])  # redelivered
        await asyncio.sleep(0)
        assert woken == ["moved", "moved"]
    finally:
        await database.dispose()


async def _async(value: bool) -> bool:
    return value


@contextlib.asynccontextmanager
async def with_answer_process(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[ConsolidationContext, ConsolidationContext, AnswerProcess]]:
    """A period with one report, the context that applied it, and a context of its own
    (empty cache) whose answers are built by a started `AnswerProcess` (stopped after)."""
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), report_version("P", UNITS[0].code, 1)])
    worker = AnswerProcess(engine.url.render_as_string(hide_password=False))
    worker.start()
    try:
        yield context, replace(context, answers=AnswerCache(), answer_process=worker), worker
    finally:
        await worker.stop()


async def test_answers_are_built_in_the_answer_process(engine: AsyncEngine) -> None:
    """The service builds answers in its `AnswerProcess`: another process (its interpreter
    lock is not the service's), whose answers are those a read in the service builds, and
    whose errors (an unknown period) reach the read as they are."""
    async with with_answer_process(engine) as (context, separate, worker):
        assert await worker.call(os.getpid) != os.getpid()
        assert await completeness(separate) == await fresh_completeness(context, REVIEWER)
        assert await summary(separate) == await fresh_summary(context)
        with pytest.raises(DomainError) as raised:
            await reading.summary_answer(separate, REVIEWER, "unknown", Page())
        assert raised.value.status == 404


async def test_a_dead_answer_process_is_replaced(engine: AsyncEngine) -> None:
    """A worker that dies (killed, out of memory) is replaced by another, and the build
    asked for meanwhile is made by it: reads do not fail for ever after."""
    async with with_answer_process(engine) as (context, separate, worker):
        first = await worker.call(os.getpid)
        os.kill(first, signal.SIGKILL)  # the worker this test started
        assert await completeness(separate) == await fresh_completeness(context, REVIEWER)
        assert await worker.call(os.getpid) not in (first, os.getpid())


_SERVICE = """
import asyncio, os, sys
from pathlib import Path
from services.consolidation.answer_process import AnswerProcess

async def main() -> None:
    worker = AnswerProcess(sys.argv[1])
    worker.start()
    Path(sys.argv[2]).write_text(str(await worker.call(os.getpid)))
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_the_answer_process_ends_when_its_service_is_killed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """A service killed at once (SIGKILL, out of memory) cannot stop its worker: the
    worker sees its service gone and ends instead of waiting for work for ever."""
    told = tmp_path / "worker.pid"
    url = engine.url.render_as_string(hide_password=False)
    # No pipes: the worker would inherit them, and waiting for the service waits for those.
    service = await asyncio.create_subprocess_exec(sys.executable, "-c", _SERVICE, url, str(told))
    try:
        await eventually(lambda: _async(told.exists() and told.read_text() != ""), timeout=60)
        worker = int(told.read_text())
        assert _running(worker)
    finally:
        service.kill()  # the process this test started
        await service.wait()
    assert await eventually(lambda: _async(not _running(worker)), timeout=15)


def _running(pid: int) -> bool:
    """Whether a process is running (an exited one nobody reaped is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
