"""A period version whose expected set comes in parts is whole only once its header and all
its parts are staged, in any order, each possibly more than once, and only if the set matches
the header's count and digest (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.registry import (
    ExpectedUnit,
    ExpectedUnitsPart,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    PeriodState,
    split_period,
)
from shared.db import create_engine, make_session_factory
from shared.period_parts import PeriodPartsMismatch, on_header, on_part, period_parts_table

metadata = MetaData()
table = period_parts_table(metadata)


def period(version: int, units: int, period_id: str = "2024-6T") -> PeriodState:
    return PeriodState(
        period_id=period_id,
        kind="six_month",
        year=2024,
        title="Báo cáo 6 tháng đầu năm 2024",
        form_id="dv-6thang",
        form_version="1",
        due_at=datetime(2024, 6, 10, 10, tzinfo=UTC),
        status="open",
        expected_units=tuple(
            ExpectedUnit(code=f"X{i:05d}", name=f"Xã Số {i}", kind="commune", display_order=i)
            for i in range(units)
        ),
        version=version,
    )


def events(p: PeriodState, per_part: int) -> tuple[PeriodChangedV2, list[PeriodExpectedUnits]]:
    header, parts = split_period(p, per_part)
    return (
        PeriodChangedV2.new(header, producer="registry"),
        [PeriodExpectedUnits.new(part, producer="registry") for part in parts],
    )


@pytest.fixture
async def sessions(databases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(await databases.url("period-parts"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


async def deliver(
    sessions: async_sessionmaker[AsyncSession], event: PeriodChangedV2 | PeriodExpectedUnits
) -> PeriodChanged | None:
    """One event in its own transaction, as a consumer applies it."""
    async with sessions() as session, session.begin():
        if isinstance(event, PeriodChangedV2):
            return await on_header(session, table, event)
        return await on_part(session, table, event)


async def staged_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_set_that_fits_one_part_travels_inline_and_applies_at_once(sessions) -> None:
    small = period(3, 5)
    header, parts = events(small, per_part=5)
    assert parts == [] and header.payload.expected_parts == 0
    assert len(header.payload.expected_units) == 5
    whole = await deliver(sessions, header)
    assert whole is not None and whole.payload == small
    assert whole.event_id == header.event_id and whole.occurred_at == header.occurred_at
    assert await deliver(sessions, header) is None  # a copy: applied once


@pytest.mark.parametrize(
    "order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o))
)
async def test_the_version_is_whole_once_everything_is_there_in_any_order(sessions, order) -> None:
    """Header (0) and parts 1–3 in every order, each delivered twice (the second copy of the
    first one right after it): the version comes out exactly once, when the last is in."""
    p = period(2, 7)
    header, parts = events(p, per_part=3)
    assert [len(e.payload.units) for e in parts] == [3, 3, 1]
    assert header.payload.expected_units == () and header.payload.expected_count == 7
    everything: list[PeriodChangedV2 | PeriodExpectedUnits] = [header, *parts]
    sequence = [everything[i] for i in order]
    sequence.insert(1, sequence[0])  # redelivered at once
    sequence += sequence[:2]  # and again after the version was applied
    results = [await deliver(sessions, e) for e in sequence]
    wholes = [r for r in results if r is not None]
    assert len(wholes) == 1
    assert results.index(wholes[0]) == 4  # the fourth distinct event, after one copy
    assert wholes[0].payload == p and wholes[0].event_id == header.event_id
    assert await staged_rows(sessions) == 1  # the applied version's marker, no parts


async def test_an_older_version_arriving_late_is_not_staged(sessions) -> None:
    newer_header, newer_parts = events(period(5, 4), per_part=2)
    older_header, older_parts = events(period(4, 4), per_part=2)
    newer: list[PeriodChangedV2 | PeriodExpectedUnits] = [*newer_parts, newer_header]
    older: list[PeriodChangedV2 | PeriodExpectedUnits] = [*older_parts, older_header]
    for e in newer:
        await deliver(sessions, e)
    for e in older:
        assert await deliver(sessions, e) is None
    assert await staged_rows(sessions) == 1


async def test_versions_are_staged_apart(sessions) -> None:
    """Parts of version 3 do not complete version 2, whose header came first."""
    v2_header, v2_parts = events(period(2, 4), per_part=2)
    v3_header, v3_parts = events(period(3, 4), per_part=2)
    assert await deliver(sessions, v2_header) is None
    for e in v3_parts:
        assert await deliver(sessions, e) is None
    assert await deliver(sessions, v2_parts[0]) is None
    whole = await deliver(sessions, v3_header)
    assert whole is not None and whole.payload.version == 3
    # Version 2 is now older than the one applied: it is never applied.
    assert await deliver(sessions, v2_parts[1]) is None


@pytest.mark.parametrize("last", ["header", "part"])
async def test_a_set_that_does_not_match_its_digest_is_refused(sessions, last) -> None:
    p = period(2, 4)
    header, parts = events(p, per_part=2)
    kept, changed = parts[1].payload.units
    forged = (kept, changed.model_copy(update={"name": "Xã Khác"}))
    bad = PeriodExpectedUnits.new(
        ExpectedUnitsPart(period_id=p.period_id, version=2, part=2, units=forged),
        producer="registry",
    )
    first: list[PeriodChangedV2 | PeriodExpectedUnits] = [bad, parts[0]]
    final: PeriodChangedV2 | PeriodExpectedUnits = header
    if last == "part":
        first, final = [header, parts[0]], bad
    for e in first:
        assert await deliver(sessions, e) is None
    with pytest.raises(PeriodPartsMismatch, match="digest"):
        await deliver(sessions, final)
    # Rolled back: retried, it fails the same way; never applied.
    with pytest.raises(PeriodPartsMismatch):
        await deliver(sessions, final)


async def test_a_count_that_does_not_match_is_refused_and_a_part_beyond_n_too(sessions) -> None:
    p = period(2, 4)
    header, parts = events(p, per_part=2)
    short = PeriodExpectedUnits.new(
        parts[1].payload.model_copy(update={"units": parts[1].payload.units[:1]}),
        producer="registry",
    )
    await deliver(sessions, header)
    await deliver(sessions, parts[0])
    with pytest.raises(PeriodPartsMismatch, match="3 expected units"):
        await deliver(sessions, short)
    beyond = PeriodExpectedUnits.new(
        parts[1].payload.model_copy(update={"part": 3}), producer="registry"
    )
    with pytest.raises(PeriodPartsMismatch, match="beyond"):
        await deliver(sessions, beyond)


async def test_an_inline_set_with_a_wrong_digest_is_refused(sessions) -> None:
    header, _ = events(period(2, 3), per_part=5)
    forged = PeriodChangedV2.new(
        header.payload.model_copy(update={"expected_sha256": "0" * 64}), producer="registry"
    )
    with pytest.raises(PeriodPartsMismatch):
        await deliver(sessions, forged)
    assert await staged_rows(sessions) == 0
