"""A period of more expected units than one event carries reaches intake, reminders and
consolidation in parts over a real nats-server: the registry publishes parts and header, no
message over 1 MB; each consumer applies the version once, only when header and every part
are in (any order, redelivered), refuses a set whose digest does not match (dead-lettered),
and keeps applying small periods inline and v1 events (issue 14.5)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
from fastapi import FastAPI
from sqlalchemy import text

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.registry import store as registry_store
from services.registry.app import create_app as create_registry
from services.registry.domain import Scope
from services.registry.settings import RegistrySettings
from services.reminders.app import create_app as create_reminders
from shared.contracts.envelope import Envelope
from shared.contracts.registry import (
    PERIOD_CHANGED,
    PERIOD_CHANGED_V2,
    PERIOD_EXPECTED_UNITS,
    ExpectedUnit,
    ExpectedUnitsPart,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    PeriodState,
    split_period,
)
from shared.contracts.streams import DEAD_LETTERS, REGISTRY
from shared.db import create_engine
from tests.integration.reminders.support import reminders_settings
from tests.integration.revocation_town import PASSWORD, caught_up
from tests.support.http import eventually, serve_app
from tests.support.nats import free_port

CONSUMERS = ("intake", "reminders", "consolidation")
ONE_MEGABYTE = 1024 * 1024  # nats-server's default max_payload


@dataclass
class System:
    nats_url: str
    registry_app: FastAPI
    database_urls: dict[str, str]

    async def held(self, service: str, period_id: str) -> tuple[int, int] | None:
        """(version, number of expected units) of the period as the service holds it."""
        engine = create_engine(self.database_urls[service])
        try:
            async with engine.connect() as connection:
                row = (
                    await connection.execute(
                        text("SELECT version, expected_units FROM periods WHERE period_id = :p"),
                        {"p": period_id},
                    )
                ).first()
        finally:
            await engine.dispose()
        if row is None:
            return None
        units = json.loads(row[1]) if isinstance(row[1], str) else row[1]
        return int(row[0]), len(units)

    async def revision(self, period_id: str) -> int:
        """How many completeness snapshots consolidation published for the period."""
        engine = create_engine(self.database_urls["consolidation"])
        try:
            async with engine.connect() as connection:
                return int(
                    (
                        await connection.execute(
                            text("SELECT revision FROM period_progress WHERE period_id = :p"),
                            {"p": period_id},
                        )
                    ).scalar_one()
                )
        finally:
            await engine.dispose()

    async def everywhere(self, period_id: str, version: int, units: int) -> None:
        async def arrived() -> bool:
            return all([await self.held(s, period_id) == (version, units) for s in CONSUMERS])

        await eventually(arrived, timeout=60, interval=0.2)


@contextlib.asynccontextmanager
async def system(nats_server: Any, databases: Any, tmp_path: Any) -> AsyncIterator[System]:
    """The real registry and the three consumers of its periods, quick to dead-letter."""
    common: dict[str, Any] = {
        "nats_url": nats_server.url,
        "env": "test",
        "outbox_poll_seconds": 0.2,
    }
    quick: dict[str, Any] = {"consumer_max_deliver": 2, "consumer_backoff_seconds": 0.1}
    urls = {name: await databases.url(name) for name in ("registry", *CONSUMERS)}
    registry_app = create_registry(
        RegistrySettings(database_url=urls["registry"], demo_password=PASSWORD, **common)
    )
    async with contextlib.AsyncExitStack() as stack:
        registry = await stack.enter_async_context(serve_app(registry_app))
        jwks_url = f"{registry}/.well-known/jwks.json"
        apps = [
            create_intake(
                IntakeSettings(
                    database_url=urls["intake"],
                    jwks_url=jwks_url,
                    data_dir=tmp_path / "intake",
                    **common,
                    **quick,
                )
            ),
            create_reminders(
                reminders_settings(
                    urls["reminders"], nats_server.url, free_port(), jwks_url=jwks_url, **quick
                )
            ),
            create_consolidation(
                ConsolidationSettings(
                    database_url=urls["consolidation"], jwks_url=jwks_url, **common, **quick
                )
            ),
        ]
        for app in apps:
            await stack.enter_async_context(serve_app(app))
        await caught_up(nats_server.url)
        yield System(nats_server.url, registry_app, urls)


def period(period_id: str, version: int, units: int) -> PeriodState:
    return PeriodState(
        period_id=period_id,
        kind="ad_hoc",
        year=2031,
        title=f"Báo cáo chuyên đề {period_id}",
        form_id="dv-6thang",
        form_version="1",
        due_at=datetime(2031, 6, 10, 3, tzinfo=UTC),
        status="open",
        expected_units=tuple(
            ExpectedUnit(
                code=f"T{i:05d}",
                name=f"Xã Thử Nghiệm Số {i}",
                kind="commune",
                tags=("tinh-thu-nghiem",),
                display_order=i,
            )
            for i in range(units)
        ),
        version=version,
    )


async def registry_messages(nats_url: str) -> list[tuple[str, bytes]]:
    """Every (subject, data) in the registry's stream."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(REGISTRY.name)
        found = []
        for seq in range(int(info.state.first_seq) or 1, int(info.state.last_seq) + 1):
            msg = await js.get_msg(REGISTRY.name, seq)
            found.append((str(msg.subject), bytes(msg.data or b"")))
        return found
    finally:
        await connection.close()


async def publish(nats_url: str, events: list[Envelope[Any]], *, copy: bool = False) -> None:
    """Publish as the registry's relay does (`copy`: a second delivery of the same event,
    under another message id so that the stream keeps it)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        for event in events:
            msg_id = f"{event.event_id}{':copy' if copy else ''}"
            await js.publish(event.subject, event.to_json(), headers={"Nats-Msg-Id": msg_id})
    finally:
        await connection.close()


async def test_the_registry_publishes_a_large_period_in_parts_and_every_consumer_gets_it(
    nats_server, databases, tmp_path
) -> None:
    async with system(nats_server, databases, tmp_path) as town:
        large = period("2031-CD1", 1, 4500)
        context = town.registry_app.state.context
        async with context.store.transaction() as session:
            scope = Scope(units=tuple(u.code for u in large.expected_units))
            await registry_store.save_period(session, None, large, scope, now=datetime.now(UTC))
        await town.everywhere("2031-CD1", 1, 4500)

        messages = await registry_messages(town.nats_url)
        assert all(len(data) < ONE_MEGABYTE for _, data in messages)
        assert not [s for s, _ in messages if s == PERIOD_CHANGED]  # v1 is no longer sent
        ours = [
            (s, json.loads(data)["payload"])
            for s, data in messages
            if json.loads(data)["payload"].get("period_id") == "2031-CD1"
        ]
        # The three parts first (2,000 + 2,000 + 500 units), then the header.
        assert [s for s, _ in ours] == [PERIOD_EXPECTED_UNITS] * 3 + [PERIOD_CHANGED_V2]
        assert [len(p["units"]) for _, p in ours[:3]] == [2000, 2000, 500]
        assert [p["part"] for _, p in ours[:3]] == [1, 2, 3]
        header = ours[3][1]
        assert header["expected_units"] == [] and header["expected_parts"] == 3
        assert header["expected_count"] == 4500
        # A small period still travels whole in its header (the seed's periods).
        seed_headers = [json.loads(d)["payload"] for s, d in messages if s == PERIOD_CHANGED_V2]
        small = [h for h in seed_headers if h["period_id"] != "2031-CD1"]
        assert small and all(h["expected_parts"] == 0 for h in small)
        assert all(len(h["expected_units"]) == h["expected_count"] > 0 for h in small)


async def test_parts_in_any_order_and_redelivered_apply_once_and_only_when_complete(
    nats_server, databases, tmp_path
) -> None:
    async with system(nats_server, databases, tmp_path) as town:
        # Version 1, small: inline in its header.
        first_header, no_parts = split_period(period("2031-CD2", 1, 5))
        assert no_parts == ()
        await publish(town.nats_url, [PeriodChangedV2.new(first_header, producer="registry")])
        await town.everywhere("2031-CD2", 1, 5)
        revision = await town.revision("2031-CD2")

        # Version 2, 4,500 units: the header first, parts 3 and 1 (part 1 twice).
        header, parts = split_period(period("2031-CD2", 2, 4500))
        header_event = PeriodChangedV2.new(header, producer="registry")
        part_events = [PeriodExpectedUnits.new(p, producer="registry") for p in parts]
        await publish(town.nats_url, [header_event, part_events[2], part_events[0]])
        await publish(town.nats_url, [part_events[0]], copy=True)
        await caught_up(town.nats_url)
        for service in CONSUMERS:  # incomplete: version 1 stays in force
            assert await town.held(service, "2031-CD2") == (1, 5), service

        await publish(town.nats_url, [part_events[1]])
        await town.everywhere("2031-CD2", 2, 4500)
        # Everything once more after it was applied: nothing changes again.
        await publish(town.nats_url, [header_event, *part_events], copy=True)
        await caught_up(town.nats_url)
        assert await town.revision("2031-CD2") == revision + 1
        for service in CONSUMERS:
            assert await town.held(service, "2031-CD2") == (2, 4500), service

        # A v1 event (from before v2, still in the stream) is still applied.
        v1 = period("2031-CD2", 3, 7)
        await publish(town.nats_url, [PeriodChanged.new(v1, producer="registry")])
        await town.everywhere("2031-CD2", 3, 7)


async def test_a_set_that_does_not_match_its_digest_is_not_applied_and_is_dead_lettered(
    nats_server, databases, tmp_path
) -> None:
    async with system(nats_server, databases, tmp_path) as town:
        first_header, _ = split_period(period("2031-CD3", 1, 5))
        await publish(town.nats_url, [PeriodChangedV2.new(first_header, producer="registry")])
        await town.everywhere("2031-CD3", 1, 5)

        header, parts = split_period(period("2031-CD3", 2, 4500))
        units = list(parts[1].units)
        units[7] = units[7].model_copy(update={"name": "Xã Bị Sửa"})
        forged = ExpectedUnitsPart(period_id="2031-CD3", version=2, part=2, units=tuple(units))
        events: list[Envelope[Any]] = [
            PeriodExpectedUnits.new(parts[0], producer="registry"),
            PeriodExpectedUnits.new(forged, producer="registry"),
            PeriodExpectedUnits.new(parts[2], producer="registry"),
            PeriodChangedV2.new(header, producer="registry"),
        ]
        await publish(town.nats_url, events)

        connection = await nats.connect(town.nats_url)
        try:
            js = connection.jetstream()

            async def dead_lettered_by_each() -> bool:
                try:
                    info = await js.stream_info(
                        DEAD_LETTERS.name, subjects_filter=f"{DEAD_LETTERS.subjects[0]}"
                    )
                except Exception:
                    return False
                subjects = set(info.state.subjects or {})
                return all(
                    any(s.startswith(f"danvan.dlq.{service}__") for s in subjects)
                    for service in CONSUMERS
                )

            await eventually(dead_lettered_by_each, timeout=60, interval=0.2)
        finally:
            await connection.close()
        await caught_up(town.nats_url)
        for service in CONSUMERS:
            assert await town.held(service, "2031-CD3") == (1, 5), service
