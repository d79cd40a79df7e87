"""Fixtures of consolidation's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.consolidation.app import MIGRATIONS
from shared.db import create_engine
from shared.migrations import upgrade_to_head


@pytest.fixture
async def engine(databases: Any) -> AsyncIterator[AsyncEngine]:
    """A fresh consolidation database, migrated to head (SQLite, or PostgreSQL when
    TEST_DATABASE_URL is set)."""
    engine = create_engine(await databases.url("consolidation"))
    await upgrade_to_head(engine, MIGRATIONS)
    try:
        yield engine
    finally:
        await engine.dispose()
