"""Consolidation's migrations at head build exactly the tables `db.py` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from services.consolidation import db
from services.consolidation.app import MIGRATIONS
from shared.db import create_engine
from shared.migrations import upgrade_to_head


async def test_the_schema_at_head_is_the_declared_one(databases) -> None:
    engine = create_engine(await databases.url("consolidation-schema"))
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        async with engine.connect() as connection:

            def differences(sync: Connection) -> list[object]:
                return list(compare_metadata(MigrationContext.configure(sync), db.metadata))

            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
