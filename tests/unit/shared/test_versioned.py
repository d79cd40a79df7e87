"""The cache of values parsed from versioned rows: per database, key and version."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.versioned import VersionedCache

metadata = MetaData()
periods = Table(
    "periods",
    metadata,
    Column("period_id", String(8), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("units", JSON, nullable=False),
)


async def database() -> AsyncEngine:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(periods),
            [
                {"period_id": "A", "version": 1, "units": [1]},
                {"period_id": "B", "version": 1, "units": [2]},
            ],
        )
    return engine


@pytest.fixture
async def engines() -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = await database(), await database()
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_a_value_is_kept_per_database_key_and_version(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    cache: VersionedCache[str] = VersionedCache(size=2)
    first, second = engines
    async with AsyncSession(first) as one, AsyncSession(second) as other:
        cache.put(one, "A", 1, "a1")
        assert cache.get(one, "A", 1) == "a1"
        assert cache.get(one, "A", 2) is None  # a newer version is another entry
        assert cache.get(other, "A", 1) is None  # another database never shares it
        cache.put(one, "B", 1, "b1")
        assert cache.get(one, "A", 1) == "a1"  # used last: B is now the oldest
        cache.put(one, "C", 1, "c1")
        assert (cache.get(one, "A", 1), cache.get(one, "B", 1)) == ("a1", None)


async def test_a_cached_rows_value_is_not_read_again(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    cache: VersionedCache[list[int]] = VersionedCache()
    sessions = async_sessionmaker(engines[0])

    async def units() -> dict[str, object]:
        async with sessions() as session:
            column = cache.unless_cached(
                session, periods.c.period_id, periods.c.version, periods.c.units
            )
            query = select(periods.c.period_id, column).order_by(periods.c.period_id)
            return {row.period_id: row.units for row in (await session.execute(query)).all()}

    assert await units() == {"A": [1], "B": [2]}
    async with sessions() as session:
        cache.put(session, "A", 1, [1])
    assert await units() == {"A": None, "B": [2]}
    async with sessions() as session, session.begin():
        await session.execute(
            update(periods).where(periods.c.period_id == "A").values(version=2, units=[3])
        )
    assert await units() == {"A": [3], "B": [2]}  # a newer version is read again
    async with sessions() as session:
        cache.put(session, "A", 2, [3])
        cache.put(session, "B", 1, [2])
        only_b = cache.unless_cached(
            session, periods.c.period_id, periods.c.version, periods.c.units, keys=("B",)
        )
        query = select(periods.c.period_id, only_b).order_by(periods.c.period_id)
        rows = {row.period_id: row.units for row in (await session.execute(query)).all()}
    assert rows == {"A": [3], "B": None}  # only the keys asked about are left out
