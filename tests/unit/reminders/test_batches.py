"""Reminders consumes every subscription in batches: one transaction per fetched batch,
with the same projection as applying the events one by one (SQLite, no broker; the shared
layer's claim, order and poison handling are tested in tests/integration/messaging)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from services.reminders import db, subscribers
from services.reminders.app import projections_current
from services.reminders.domain import ReminderPolicy
from services.reminders.store import RemindersStore, load_plan, period_row
from services.reminders.webhook_addresses import WebhookAddressPolicy
from shared.clock import ManualClock
from shared.contracts.intake import ReportWithdrawal, ReportWithdrawn
from shared.db import Database
from shared.messaging.consumer import Subscription
from tests.support.batches import consecutive_batches

from .clock import vn
from .events import answered, period, report, review, unit


def subscriptions() -> dict[type[Any], Subscription]:
    found = subscribers.subscriptions(
        ManualClock(vn(2023, 6, 1, 9)), ReminderPolicy(), WebhookAddressPolicy()
    )
    return {s.contract: s for s in found}


def test_every_subscription_applies_a_fetched_batch_in_one_transaction() -> None:
    for contract, subscription in subscriptions().items():
        assert subscription.batch is not None, contract.__name__
        assert subscription.key is not None, contract.__name__
    # The order of a report's events is kept per report.
    subs = subscriptions()
    event = report(1, vn(2023, 6, 5), report_id="r7")
    key = subs[type(event)].key
    assert key is not None and key(event) == "r7"


def withdrawn(version: int, report_id: str = "r1") -> ReportWithdrawn:
    return ReportWithdrawn.new(
        ReportWithdrawal(
            report_id=report_id,
            period_id="2023-H1",
            unit_code="18115",
            version=version,
            withdrawn_at=vn(2023, 6, 8),
        ),
        producer="intake",
    )


async def _states(
    tmp_path: Path, name: str, events: Sequence[Any], *, batched: bool, seed: int
) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / name}")
    async with database.engine.begin() as connection:
        await connection.run_sync(db.metadata.create_all)
    store = RemindersStore(database)
    subs = subscriptions()
    try:
        if not batched:
            for event in events:
                async with store.transaction() as session:
                    await subs[type(event)].handler(session, event)
        else:
            for batch in consecutive_batches(events, random.Random(seed), 6):
                handler = subs[type(batch[0])].batch
                assert handler is not None
                async with store.transaction() as session:
                    await handler(session, batch)
        async with store.reading() as session:
            plan = await load_plan(session, await period_row(session, "2023-H1"))
            notices = (await session.execute(select(db.notifications.c.dedupe_key))).scalars()
        return (
            {code: (s.reported, s.returned) for code, s in plan.states.items()},
            sorted(notices),
        )
    finally:
        await database.dispose()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batches_give_the_same_projection_as_one_event_at_a_time(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    reports: list[Any] = [
        report(1, vn(2023, 6, 5)),
        review(1, vn(2023, 6, 6)),
        report(2, vn(2023, 6, 7)),
        review(2, vn(2023, 6, 7, 10), decision="accepted"),
        withdrawn(2),
        report(1, vn(2023, 6, 9), report_id="r2"),
    ]
    # Report events arrive in any order, some twice; period and unit events first.
    later = [*reports, answered("Tính theo số buổi", vn(2023, 6, 6, 11))]
    later += rng.sample(later, 3)
    rng.shuffle(later)
    history = [period(1), unit(1, "lanhdao@bachong.test"), *later]
    one_by_one = await _states(tmp_path, "one.db", history, batched=False, seed=seed)
    batched = await _states(tmp_path, "batched.db", history, batched=True, seed=seed)
    assert batched == one_by_one
    assert one_by_one[0]["18115"][0] is True  # r2 submitted after r1's withdrawal


class _JetStream:
    def __init__(self, pending: int, ack_pending: int) -> None:
        self.info = SimpleNamespace(num_pending=pending, num_ack_pending=ack_pending)

    async def consumer_info(self, stream: str, durable: str) -> Any:
        return self.info


class _Bus:
    started = True

    def __init__(self, js: _JetStream) -> None:
        self._js = js
        self.consumers = [
            SimpleNamespace(stream=SimpleNamespace(name="DANVAN_INTAKE"), durable="d")
        ]

    def jetstream(self) -> Any:
        return self._js


@pytest.mark.parametrize(
    ("pending", "ack_pending", "current"), [(0, 0, True), (1, 0, False), (0, 1, False)]
)
async def test_the_scheduler_waits_for_a_batch_fetched_but_not_yet_applied(
    pending: int, ack_pending: int, current: bool
) -> None:
    # A batched consumer holds the messages it fetched (delivered, not yet acknowledged)
    # while it gathers and applies them: the projections are not current until then.
    bus: Any = _Bus(_JetStream(pending, ack_pending))
    assert await projections_current(bus) is current
