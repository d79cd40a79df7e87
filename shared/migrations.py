"""Alembic, run programmatically per service; on PostgreSQL under an advisory lock."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(migrations_dir: Path) -> Config:
    """An Alembic config pointing at a service's migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return config


async def upgrade_to_head(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Bring the service's database to the newest schema."""
    config = alembic_config(migrations_dir)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas start together; only one may migrate at a time.
            lock_id = zlib.crc32(str(migrations_dir).encode()) & 0x7FFFFFFF
            await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_env(context: EnvironmentContext | Any, target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through shared.migrations.upgrade_to_head")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
