"""Cached answers are built again in the background after a change: a read after a change
finds the answer built (nothing is rendered for it), the answer is the one a read would
have built, only the periods whose answers are held are built, and the refresher is woken
by the commits that move a stamp.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation.answer_thread import AnswerThread
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


async def test_answers_are_built_on_the_answer_thread_while_the_loop_serves(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service builds answers on its `AnswerThread`: a build busy in Python (here,
    blocked until the service's loop runs something) does not hold the service's loop, and
    the answers are those a read on the loop builds."""
    context = context_of(engine)
    await one_by_one(context, [period_changed("P", UNITS), report_version("P", UNITS[0].code, 1)])
    thread = AnswerThread(engine.url.render_as_string(hide_password=False))
    threaded = replace(context, answers=AnswerCache(), answer_thread=thread)
    thread.start()
    try:
        entered = threading.Event()
        loop_ran = threading.Event()
        answer = reading.ANSWERS["completeness"]

        async def busy_read(session: Any, period_id: str) -> Any:
            # Blocks the loop it runs on until the service's loop has run the task below.
            entered.set()
            assert loop_ran.wait(timeout=10), "the build held the service's event loop"
            return await answer.read(session, period_id)

        monkeypatch.setitem(reading.ANSWERS, "completeness", replace(answer, read=busy_read))
        build = asyncio.create_task(completeness(threaded))
        # The build has begun (on the service's loop, this waits until it gave up).
        assert await asyncio.to_thread(entered.wait, 15)
        asyncio.get_running_loop().call_soon(loop_ran.set)
        built = await asyncio.wait_for(build, 15)
        monkeypatch.setitem(reading.ANSWERS, "completeness", answer)
        assert built == await fresh_completeness(context, REVIEWER)
        assert await summary(threaded) == await fresh_summary(context)
        with pytest.raises(DomainError):
            await reading.summary_answer(threaded, REVIEWER, "unknown", Page())
    finally:
        await thread.stop()
