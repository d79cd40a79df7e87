"""Fixtures of the reminders unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reminders import db
from shared.db import create_engine, make_session_factory


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh SQLite database with the reminders tables."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reminders.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(db.metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()
