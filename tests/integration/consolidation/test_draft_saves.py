"""Saving the town report's draft from several replicas at once: one save per version.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.consolidation.app import MIGRATIONS
from services.consolidation.domain.draft import PartEdit
from services.consolidation.usecases import draft
from shared.auth import Principal
from shared.db import create_engine
from shared.errors import Conflict
from shared.migrations import upgrade_to_head
from tests.integration.consolidation.test_completeness_reads import REVIEWER, apply, context_of
from tests.unit.consolidation.factory import three_reports


async def test_of_concurrent_saves_over_one_version_one_wins_and_the_others_get_409(
    databases: Any,
) -> None:
    url = await databases.url("consolidation")
    engines = [create_engine(url), create_engine(url)]
    await upgrade_to_head(engines[0], MIGRATIONS)
    try:
        replicas = [context_of(e) for e in engines]
        await apply(replicas[0], three_reports())
        principals = [Principal(username=f"pnv{n}", role="reviewer") for n in range(6)]

        async def save(n: int) -> int | str:
            try:
                saved = await draft.save_draft(
                    replicas[n % 2],
                    principals[n],
                    "2023-H1",
                    version=0,
                    edits={"muc_1": PartEdit(text=f"Bản của người thứ {n}.")},
                )
            except Conflict as refused:
                assert refused.code == "draft_version_conflict"
                return "conflict"
            return saved.draft.version

        outcomes = await asyncio.gather(*(save(n) for n in range(6)))
        assert sorted(outcomes, key=str) == [1, *(["conflict"] * 5)]
        reading_back = await draft.read_draft(replicas[1], REVIEWER, "2023-H1")
        winner = reading_back.draft.saved
        assert winner is not None and winner.version == 1
        assert reading_back.draft.text("muc_1") == f"Bản của người thứ {winner.saved_by[3:]}."
        assert [h.version for h in reading_back.history] == [1]
    finally:
        for e in engines:
            await e.dispose()
