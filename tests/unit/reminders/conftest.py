"""Fixtures of the reminders unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.reminders import db
from services.reminders.store import RemindersStore
from shared.db import Database


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RemindersStore]:
    """The reminders store on a fresh SQLite database with the reminders tables."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reminders.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(db.metadata.create_all)
    yield RemindersStore(database)
    await database.dispose()
