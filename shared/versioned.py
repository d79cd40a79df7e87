"""A process-local cache of values parsed from versioned projection rows.

A consumer's projection of the registry keeps a period's expected units (up to ~10,000 of
them) in one JSON column; decoding and parsing it on every request or reminder made each of
them cost O(units). A row with the same key and version always holds the same value (the
registry's versions are authoritative, and `shared.db.upsert_newer` only replaces a row with a
newer version), so the parsed value can be kept per database, key and version: a newer
version is simply another entry, and the oldest entries are dropped beyond `size`.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Collection, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, case, false, null, or_
from sqlalchemy.ext.asyncio import AsyncSession

V = TypeVar("V")


class VersionedCache(Generic[V]):
    """Values by (database, key, version), the `size` most recently used per database."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._lock = threading.Lock()
        # Keyed by the engine: two databases (two tests, two services in one process) never
        # share an entry, and an engine that is disposed of takes its entries with it.
        self._entries: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Hashable, int], V]]
        self._entries = weakref.WeakKeyDictionary()

    @staticmethod
    def _database(session: AsyncSession) -> Any:
        return session.sync_session.get_bind()

    def get(self, session: AsyncSession, key: Hashable, version: int) -> V | None:
        """The value stored for this key and version, or None."""
        with self._lock:
            entries = self._entries.get(self._database(session))
            if entries is None:
                return None
            value = entries.get((key, version))
            if value is not None:
                entries.move_to_end((key, version))
            return value

    def unless_cached(
        self,
        session: AsyncSession,
        key: ColumnElement[Any],
        version: ColumnElement[Any],
        value: ColumnElement[Any],
        *,
        keys: Collection[Hashable] | None = None,
    ) -> ColumnElement[Any]:
        """`value`, or NULL for a row whose key and version are cached (of `keys` only,
        when given): the query that reads the row's other columns reads the value only when
        it has to be parsed, in the same statement."""
        return self.unless_in(self.cached(session, keys=keys), key, version, value)

    def cached(
        self, session: AsyncSession, *, keys: Collection[Hashable] | None = None
    ) -> frozenset[tuple[Hashable, int]]:
        """The (key, version) pairs cached for the session's database (of `keys` only, when
        given): what `unless_in` makes NULL. A caller may keep the statement it built for a
        set and use it again while the set is the same."""
        with self._lock:
            held = self._entries.get(self._database(session))
            return frozenset(k for k in held or () if keys is None or k[0] in keys)

    @staticmethod
    def unless_in(
        known: Collection[tuple[Hashable, int]],
        key: ColumnElement[Any],
        version: ColumnElement[Any],
        value: ColumnElement[Any],
    ) -> ColumnElement[Any]:
        """`value`, or NULL for a row whose (key, version) is one of `known`."""
        if not known:
            return value.label(value.key)
        pairs = sorted(known, key=repr)
        cached = or_(false(), *(and_(key == k, version == v) for k, v in pairs))
        return case((cached, null()), else_=value).label(value.key)

    def put(self, session: AsyncSession, key: Hashable, version: int, value: V) -> None:
        """Keep the value for this key and version."""
        with self._lock:
            entries = self._entries.setdefault(self._database(session), OrderedDict())
            entries[(key, version)] = value
            entries.move_to_end((key, version))
            while len(entries) > self._size:
                entries.popitem(last=False)
