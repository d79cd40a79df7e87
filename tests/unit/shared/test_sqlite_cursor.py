"""SQLite statements go to aiosqlite's thread once each (`shared.sqlite_cursor`), with the
same results as SQLAlchemy's own adapter: rows, RETURNING, row counts, last row ids,
executemany, errors, streaming and transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.sqlite_cursor import OneTripConnection

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(20), nullable=False, unique=True),
)


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every function sent to an aiosqlite thread."""
    sent: list[Any] = []
    real = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(fn)
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return sent


async def test_the_engine_uses_one_trip_per_statement(
    engine: AsyncEngine, trips: list[Any]
) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneTripConnection)
        await connection.execute(select(things))  # the transaction has begun
        before = len(trips)
        await connection.execute(insert(things).values(name="a"))
        rows = (await connection.execute(select(things.c.name))).scalars().all()
        assert rows == ["a"]
        # Without it: cursor, execute, close (the insert), cursor, execute, fetch, close.
        assert len(trips) - before == 2
        await connection.rollback()


async def test_results_are_those_of_the_driver(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(insert(things).values(name="a"))
        assert first.inserted_primary_key == (1,)
        await connection.execute(insert(things), [{"name": "b"}, {"name": "c"}])
        returned = await connection.execute(
            update(things)
            .where(things.c.id > 1)
            .values(name=things.c.name + "!")
            .returning(things.c.id, things.c.name)
        )
        assert sorted(returned.all()) == [(2, "b!"), (3, "c!")]
        changed = await connection.execute(update(things).values(name=things.c.name + "?"))
        assert changed.rowcount == 3
        nothing = await connection.execute(select(things).where(things.c.id == 99))
        assert nothing.first() is None
        one = await connection.execute(text("SELECT count(*) FROM things"))
        assert one.scalar_one() == 3
        streamed = await connection.stream(select(things.c.name).order_by(things.c.id))
        assert [row.name async for row in streamed] == ["a?", "b!?", "c!?"]


async def test_errors_and_rollbacks_are_those_of_the_driver(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(things).values(name="a"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(things).values(name="b"))
            await connection.execute(insert(things).values(name="a"))
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name))).scalars().all()
    assert names == ["a"]


async def test_concurrent_sessions_queue_on_the_one_connection(engine: AsyncEngine) -> None:
    async def add(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(things).values(name=f"t{n}"))
            await asyncio.sleep(0)
            await connection.execute(select(things))

    await asyncio.gather(*(add(n) for n in range(20)))
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM things"))).scalar_one()
    assert count == 20


async def test_a_session_that_only_read_ends_without_a_trip(
    engine: AsyncEngine, trips: list[Any]
) -> None:
    async with engine.connect() as connection:
        await connection.execute(select(things))
        before = len(trips)
    assert len(trips) == before  # no rollback sent: sqlite3 had opened no transaction
    async with engine.connect() as connection:
        await connection.execute(insert(things).values(name="a"))
        before = len(trips)
    assert len(trips) == before + 1  # the write's transaction is rolled back
    async with engine.connect() as connection:
        assert (await connection.execute(select(things))).all() == []
