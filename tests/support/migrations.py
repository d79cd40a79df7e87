"""A service's database brought to an older schema revision, to test what an upgrade keeps."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection

from shared.db import create_engine
from shared.migrations import alembic_config


async def upgrade_to(url: str, migrations_dir: Path, revision: str) -> None:
    """Migrate the database at `url` up to `revision` (not to head)."""
    config = alembic_config(migrations_dir)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            def run(sync: Connection) -> None:
                config.attributes["connection"] = sync
                command.upgrade(config, revision)

            await connection.run_sync(run)
    finally:
        await engine.dispose()
