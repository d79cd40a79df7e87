"""After-commit work, one mechanism for every service: a marked transaction calls the hooks of
its topic once it has committed, never when it rolls back, and a savepoint waits for the
outermost commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, Table

from shared.db import Database, hand_over_on_commit, notify_on_commit, shared

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True))


async def settled() -> None:
    # Hooks are scheduled with call_soon after the commit returns: one loop turn runs them.
    await asyncio.sleep(0)


@pytest.fixture
async def database(databases):
    db = Database(await databases.url("hooks"))
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()


async def test_hooks_of_a_topic_run_after_the_commit_that_asked_for_them(database) -> None:
    calls: list[str] = []
    database.on_commit("outbox", lambda: calls.append("outbox"))
    database.on_commit("notices", lambda: calls.append("notices"))
    async with database.sessions() as session, session.begin():
        await session.execute(rows.insert().values(id=1))
        notify_on_commit(session, "outbox")
        await settled()
        assert calls == []  # not before the commit
    await settled()
    assert calls == ["outbox"]

    async with database.sessions() as session, session.begin():
        await session.execute(rows.insert().values(id=2))
    await settled()
    assert calls == ["outbox"]  # an unmarked commit calls nothing


async def test_a_rolled_back_transaction_calls_nothing_even_if_the_session_commits_later(
    database,
) -> None:
    calls: list[str] = []
    database.on_commit("outbox", lambda: calls.append("outbox"))
    async with database.sessions() as session:
        async with session.begin():
            notify_on_commit(session, "outbox")
            await session.rollback()
        async with session.begin():
            await session.execute(rows.insert().values(id=3))
    await settled()
    assert calls == []


async def test_a_savepoint_waits_for_the_outermost_commit(database) -> None:
    calls: list[str] = []

    async def visible() -> bool:
        async with database.engine.connect() as connection:
            found = await connection.execute(rows.select().where(rows.c.id == 4))
            return found.first() is not None

    database.on_commit("outbox", lambda: calls.append("outbox"))
    async with database.sessions() as session, session.begin():
        async with session.begin_nested():
            await session.execute(rows.insert().values(id=4))
            notify_on_commit(session, "outbox")
        await settled()
        assert calls == []  # the savepoint was released, the transaction is still open
    await settled()
    assert calls == ["outbox"] and await visible()


async def test_handed_over_items_go_to_the_items_hooks_after_the_commit(database) -> None:
    plain: list[str] = []
    handed: list[list[int]] = []
    database.on_commit("outbox", lambda: plain.append("outbox"))
    database.on_commit_items("outbox", handed.append)
    async with database.sessions() as session, session.begin():
        await session.execute(rows.insert().values(id=5))
        hand_over_on_commit(session, "outbox", [5])
        await session.execute(rows.insert().values(id=6))
        hand_over_on_commit(session, "outbox", [6])
        await settled()
        assert handed == []
    await settled()
    assert handed == [[5, 6]] and plain == []  # handed over: no plain wake-up

    async with database.sessions() as session, session.begin():
        hand_over_on_commit(session, "outbox", [7])
        await session.rollback()
    await settled()
    assert handed == [[5, 6]] and plain == []


async def test_a_rolled_back_savepoint_hands_nothing_over_and_wakes_the_plain_hooks(
    database,
) -> None:
    # The savepoint's item was never committed: no item is handed over (which of them it
    # undid is not tracked); the plain hooks run, and the queue's poller finds the others.
    plain: list[str] = []
    handed: list[list[int]] = []
    database.on_commit("outbox", lambda: plain.append("outbox"))
    database.on_commit_items("outbox", handed.append)
    async with database.sessions() as session, session.begin():
        await session.execute(rows.insert().values(id=8))
        hand_over_on_commit(session, "outbox", [8])
        nested = await session.begin_nested()
        await session.execute(rows.insert().values(id=9))
        hand_over_on_commit(session, "outbox", [9])
        await nested.rollback()
    await settled()
    assert handed == [] and plain == ["outbox"]


async def test_what_a_database_shares_is_reachable_from_its_sessions(database) -> None:
    async with database.sessions() as session:
        assert shared(session, "claim") is None
    database.share("claim", "relay-1")  # after the factory was made: still reachable
    async with database.sessions() as session:
        assert shared(session, "claim") == "relay-1"
