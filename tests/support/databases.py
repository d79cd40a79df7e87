"""Test databases: a SQLite file by default, a fresh PostgreSQL database per test when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from shared.settings import normalise_database_url


def postgres_admin_url() -> str | None:
    """TEST_DATABASE_URL as a plain asyncpg DSN, or None for SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    return url.replace("postgresql+asyncpg://", "postgresql://")


class TestDatabases:
    """Creates databases for one test and drops them afterwards."""

    __test__ = False

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.admin = postgres_admin_url()
        self.created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin else "sqlite"

    async def url(self, name: str) -> str:
        """A new, empty database for one service."""
        if self.admin is None:
            return f"sqlite+aiosqlite:///{self.tmp_path / name}.db"
        db_name = f"t_{name}_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(self.admin)
        try:
            await connection.execute(f'CREATE DATABASE "{db_name}"')
        finally:
            await connection.close()
        self.created.append(db_name)
        base = self.admin.rsplit("/", 1)[0]
        return normalise_database_url(f"{base}/{db_name}")

    async def drop_all(self) -> None:
        if self.admin is None or not self.created:
            return
        connection = await asyncpg.connect(self.admin)
        try:
            for db_name in self.created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await connection.close()
