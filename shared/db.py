"""Database engine and sessions: SQLite by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Dialect, Insert, Table, TypeDecorator, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from shared.sqlite_cursor import adopt as adopt_one_trip_cursor


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite files get WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, pool_size=1, max_overflow=0
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # One round trip to aiosqlite's thread per statement instead of three or four.
    adopt_one_trip_cursor(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgres(engine: AsyncEngine) -> bool:
    """Whether the engine talks to PostgreSQL (row locks with SKIP LOCKED work there)."""
    return engine.dialect.name == "postgresql"


def make_session_factory(
    engine: AsyncEngine,
    *,
    on_commit: Callable[[Session], None] | None = None,
    on_rollback: Callable[[Session, SessionTransaction], None] | None = None,
    info: dict[str, Any] | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit; `on_commit` runs after each commit
    (savepoints included), `on_rollback` after each rollback with the transaction undone;
    each session's `info` starts as a copy of `info`."""
    session_class = type("ServiceSession", (Session,), {})
    if on_commit is not None:
        event.listen(session_class, "after_commit", on_commit)
    if on_rollback is not None:
        event.listen(session_class, "after_soft_rollback", on_rollback)
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=session_class, info=info
    )


CommitHook = Callable[[], None]
ItemsHook = Callable[[list[Any]], None]
_COMMIT_TOPICS = "danvan_commit_topics"
_COMMIT_ITEMS = "danvan_commit_items"
_SHARED = "danvan_shared"


def notify_on_commit(session: AsyncSession, topic: str) -> None:
    """Ask for the hooks registered under `topic` to run once this session's transaction
    has committed (nothing runs if it rolls back). Hooks are hints to look at a queue now
    (the outbox, the notices): a call too many is harmless, the pollers cover a missed one."""
    session.info.setdefault(_COMMIT_TOPICS, set()).add(topic)


def hand_over_on_commit(session: AsyncSession, topic: str, items: list[Any]) -> None:
    """Hand `items` (what this transaction wrote, e.g. its outbox rows) to the items hooks
    of `topic` once the transaction has committed (`Database.on_commit_items`); nothing is
    handed over if it rolls back. If a savepoint of the transaction rolls back, the items
    collected so far are dropped and the topic's plain hooks run instead (a queue's poller
    then finds what was committed), so an item handed over was always committed."""
    session.info.setdefault(_COMMIT_ITEMS, {}).setdefault(topic, []).extend(items)


def shared(session: AsyncSession, key: str) -> Any:
    """What `Database.share(key, value)` made reachable from this database's sessions (None
    for a session of another factory, or before anything was shared under `key`)."""
    found: dict[str, Any] | None = session.info.get(_SHARED)
    return None if found is None else found.get(key)


class Database:
    """A service's engine and sessions, with the work to start after commits.

    One mechanism for after-commit work: a writer marks its session with a topic
    (`notify_on_commit`), and after the outermost commit every hook registered for that
    topic (`on_commit`) is called on the event loop. A writer may instead hand over what it
    wrote (`hand_over_on_commit`): the topic's items hooks (`on_commit_items`) get the
    committed items, and its plain hooks run only for the commits that did not hand over.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self._hooks: dict[str, list[CommitHook]] = {}
        self._items_hooks: dict[str, list[ItemsHook]] = {}
        # One dict shared by every session of this database (each session's `info` is a
        # shallow copy of the factory's): what `share` puts in it, `shared(session, key)` reads.
        self._shared: dict[str, Any] = {}
        self.sessions: async_sessionmaker[AsyncSession] = make_session_factory(
            self.engine,
            on_commit=self._committed,
            on_rollback=_rolled_back,
            info={_SHARED: self._shared},
        )

    @property
    def is_postgres(self) -> bool:
        """Whether this is PostgreSQL (row locks with SKIP LOCKED work there)."""
        return is_postgres(self.engine)

    def on_commit(self, topic: str, hook: CommitHook) -> None:
        """Call `hook` after every commit whose session was marked with `topic`."""
        self._hooks.setdefault(topic, []).append(hook)

    def on_commit_items(self, topic: str, hook: ItemsHook) -> None:
        """Call `hook` with the items a committed transaction handed over under `topic`."""
        self._items_hooks.setdefault(topic, []).append(hook)

    def share(self, key: str, value: Any) -> None:
        """Make `value` reachable from every session of this database (`shared`)."""
        self._shared[key] = value

    async def ping(self) -> None:
        """Raise unless the database answers."""
        await ping(self.engine)

    async def dispose(self) -> None:
        """Close the pool."""
        await self.engine.dispose()

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint: the work waits for the outermost commit
        topics: set[str] = session.info.pop(_COMMIT_TOPICS, None) or set()
        items: dict[str, list[Any]] = session.info.pop(_COMMIT_ITEMS, None) or {}
        if not topics and not items:
            return
        calls: list[Callable[[], None]] = []
        for topic, handed in sorted(items.items()):
            if topic in self._items_hooks:
                calls += [functools.partial(hook, handed) for hook in self._items_hooks[topic]]
            else:
                topics.add(topic)  # nobody takes items: the plain hooks, as for a mark
        calls += [hook for topic in sorted(topics) for hook in self._hooks.get(topic, ())]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for call in calls:
            if loop is not None:
                loop.call_soon(call)  # after the commit has fully returned
            else:
                call()


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:
        session.info.pop(_COMMIT_TOPICS, None)
        session.info.pop(_COMMIT_ITEMS, None)
    elif items := session.info.pop(_COMMIT_ITEMS, None):
        # A savepoint rolled back: which of the items it undid is not tracked, so none is
        # handed over; the plain hooks run at the commit and the poller finds the rest.
        session.info.setdefault(_COMMIT_TOPICS, set()).update(items)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite drops the offset, so reads are re-labelled UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@functools.cache
def insert_into(table: Table) -> Insert:
    """`insert(table)`, built once per table. Executed with the row as its parameters
    (`session.execute(insert_into(table), {...})`), it is the same INSERT as
    `insert(table).values(...)` without SQLAlchemy building the statement and its cache key
    again on every call (about 0.2 ms of CPU per statement: docs/BENCHMARKS.md)."""
    return insert(table)


def dialect_insert(session: AsyncSession, table: Table) -> Any:
    """An INSERT with ON CONFLICT support for the session's database (PostgreSQL or SQLite)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def upsert_newer(
    session: AsyncSession,
    table: Table,
    key: str,
    values: dict[str, Any],
    *,
    version: str = "version",
) -> bool:
    """Insert the row, or replace it only when the incoming version is newer, in one
    statement (safe between replicas); True when something was written."""
    statement = dialect_insert(session, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: statement.excluded[name] for name in values if name != key},
        where=table.c[version] < statement.excluded[version],
    ).returning(table.c[key])
    return (await session.execute(statement)).first() is not None
