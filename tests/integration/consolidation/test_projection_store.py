"""The stored projections equal the pure fold, whatever the order and duplicates of events."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.consolidation import db, views
from services.consolidation.app import MIGRATIONS
from services.consolidation.domain import summarise
from services.consolidation.domain.events import InMemoryProjection
from services.consolidation.projector import Projector
from services.consolidation.subscribers import subscriptions
from services.consolidation.usecases.common import period_summary
from shared.clock import ManualClock
from shared.db import create_engine, make_session_factory
from shared.forms import load_form
from shared.migrations import upgrade_to_head
from tests.unit.consolidation.factory import (
    FIGURES,
    FORM,
    UNITS,
    difficulty,
    period_event,
    reviewed,
    submitted,
    withdrawn,
)

HISTORY = [
    period_event(version=1, units=UNITS[:4]),
    period_event(version=2),
    submitted("18115", FIGURES["18115"], vuong_mac=("Vướng mắc A.",)),
    submitted("18115", {"van_ban_ban_hanh": 9}, version=2, vuong_mac=("Vướng mắc A.",)),
    submitted("18118", FIGURES["18118"]),
    reviewed("18118", "returned", reason="Bổ sung"),
    submitted("18118", {"van_ban_ban_hanh": 6}, version=2),
    reviewed("18118", "accepted", version=2),
    submitted("PNV", FIGURES["PNV"], on_time=False),
    withdrawn("PNV"),
    submitted("18130", {"ho_thoat_ngheo": 12}, on_time=False),
    difficulty("d1", "18115", "Vướng mắc A."),
    difficulty("d1", "18115", "Vướng mắc A.", answer="Đã hướng dẫn."),
]


@pytest.fixture
async def sessions(databases: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(await databases.url("consolidation"))
    await upgrade_to_head(engine, MIGRATIONS)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def apply_all(sessions: async_sessionmaker[AsyncSession], events: list[Any]) -> None:
    """Apply events one transaction each, through the live subscriptions' handlers."""
    projector = Projector(ManualClock(datetime(2023, 6, 20, tzinfo=UTC)))
    by_contract = {s.contract: s.handler for s in subscriptions(projector)}
    for event in events:
        async with sessions() as session, session.begin():
            await by_contract[type(event)](session, event)


def expected_summary() -> dict[str, Any]:
    p = InMemoryProjection()
    for event in HISTORY:
        p.apply(event)
    summary = summarise(
        p.periods["2023-H1"],
        load_form(*FORM),
        p.period_reports("2023-H1"),
        p.period_difficulties("2023-H1"),
    )
    return views.summary(summary).model_dump(mode="json")


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(db.outbox)) or 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_stored_projection_of_a_shuffled_duplicated_stream_equals_the_fold(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    replay = HISTORY + [rng.choice(HISTORY) for _ in range(len(HISTORY))]
    rng.shuffle(replay)
    await apply_all(sessions, replay)
    async with sessions() as session:
        stored = views.summary(await period_summary(session, "2023-H1")).model_dump(mode="json")
    assert stored == expected_summary()


async def test_events_that_change_nothing_publish_no_snapshot(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await apply_all(sessions, HISTORY)
    published = await outbox_rows(sessions)
    # Every event of the history changes the period, so each published one snapshot.
    assert published == len(HISTORY)
    older = submitted("18115", FIGURES["18115"])  # version 1 again, after version 2
    await apply_all(sessions, [*HISTORY, older, period_event(version=1)])
    assert await outbox_rows(sessions) == published


async def test_the_stored_year_before_on_2023_1_compares_with_this_year_on_2023_2(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await apply_all(
        sessions,
        [
            period_event("2023-H1", form_version="2023.1"),
            submitted("18115", {"ho_so_tthc_tiep_nhan": 80, "ho_thoat_ngheo": 3}),
            period_event("2024-H1", form_version="2023.2"),
            submitted(
                "18115",
                {"ho_so_tthc_tiep_nhan": 100, "ho_thoat_ngheo": 5, "dan_chu_cuoc_kiem_tra": 1},
                period_id="2024-H1",
                form_version="2023.2",
            ),
        ],
    )
    async with sessions() as session:
        read = await period_summary(session, "2024-H1")
    summary = views.summary(read).model_dump(mode="json")
    figures = {i["code"]: i for s in summary["sections"] for i in s["indicators"]}
    assert summary["comparison"]["period_id"] == "2023-H1"
    tthc = figures["ho_so_tthc_tiep_nhan"]
    assert (tthc["section"], tthc["total"], tthc["previous"]["total"], tthc["change"]) == (
        "7",
        100,
        80,
        20,
    )
    assert (figures["ho_thoat_ngheo"]["section"], figures["ho_thoat_ngheo"]["change"]) == ("11", 2)
    assert figures["dan_chu_cuoc_kiem_tra"]["previous"] == {"total": None, "reported": 0}
