"""Claims and deliveries on SQLite with a recording channel: once, re-checked, resumed."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from services.reminders import db, projections
from services.reminders.channels import OutgoingMessage
from services.reminders.dispatch import DeliveryOptions, Dispatcher
from services.reminders.domain import ReminderPolicy, TemplateRenderer, due_reminders
from services.reminders.domain.plan import PeriodPlan
from services.reminders.metrics import RemindersMetrics
from services.reminders.store import RemindersStore, load_plan, period_row
from shared.clock import ManualClock

from .clock import WEEKDAYS_ONLY, vn
from .events import period, report, unit


class Recording:
    name = "email"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: OutgoingMessage) -> None:
        self.sent.append((message.dedupe_key, message.recipient))


def dispatcher(
    store: RemindersStore, clock: ManualClock, channel: Any, **options: Any
) -> Dispatcher:
    return Dispatcher(
        store=store,
        policy=ReminderPolicy(calendar=WEEKDAYS_ONLY),
        renderer=TemplateRenderer(),
        channels={"email": channel},
        options=DeliveryOptions(portal_url="http://cong.test", **options),
        clock=clock,
        metrics=RemindersMetrics(CollectorRegistry()),
    )


async def opened_period(store: RemindersStore) -> PeriodPlan:
    async with store.transaction() as session:
        await projections.period_changed(session, period(1), vn(2023, 5, 2, 9))
        await projections.unit_changed(session, unit(1, "lanhdao@bachong.test"))
    async with store.reading() as session:
        return await load_plan(session, await period_row(session, "2023-H1"))


async def reminder_count(store: RemindersStore) -> int:
    async with store.reading() as session:
        count = (await session.execute(select(func.count()).select_from(db.reminders))).scalar()
        return int(count or 0)


async def test_a_reminder_is_claimed_once_and_delivered_once(store) -> None:
    clock = ManualClock(vn(2023, 5, 2, 9))
    channel = Recording()
    plan = await opened_period(store)
    [planned] = due_reminders(
        ReminderPolicy(calendar=WEEKDAYS_ONLY),
        plan.period,
        plan.states["18115"],
        clock.now(),
        set(),
    )
    first, second = dispatcher(store, clock, channel), dispatcher(store, clock, channel)

    claims = [
        await first.claim(planned, trigger="schedule"),
        await second.claim(planned, trigger="schedule"),
    ]
    await first.deliver_all(claims[0].pending)
    await first.deliver_all(claims[0].pending)

    assert [c.claimed for c in claims] == [True, False]
    assert channel.sent == [("2023-H1/18115/opened", "lanhdao@bachong.test")]


async def test_claim_is_dropped_when_the_unit_reported_after_the_plan_was_read(store) -> None:
    clock = ManualClock(vn(2023, 5, 2, 9))
    plan = await opened_period(store)
    [planned] = due_reminders(
        ReminderPolicy(calendar=WEEKDAYS_ONLY),
        plan.period,
        plan.states["18115"],
        clock.now(),
        set(),
    )
    async with store.transaction() as session:
        await projections.report_submitted(session, report(1, vn(2023, 5, 2, 8)))

    claim = await dispatcher(store, clock, Recording()).claim(planned, trigger="schedule")

    assert not claim.claimed
    assert await reminder_count(store) == 0  # rolled back: a later rule can still be sent


async def test_delivery_left_pending_by_a_crashed_process_is_resumed_exactly_once(store) -> None:
    clock = ManualClock(vn(2023, 5, 2, 9))
    channel = Recording()
    plan = await opened_period(store)
    [planned] = due_reminders(
        ReminderPolicy(calendar=WEEKDAYS_ONLY),
        plan.period,
        plan.states["18115"],
        clock.now(),
        set(),
    )
    crashed = dispatcher(store, clock, channel, lease_seconds=0.001)
    claim = await crashed.claim(planned, trigger="schedule")
    assert claim.pending and channel.sent == []  # claimed, then the process died

    survivor = dispatcher(store, clock, channel)
    resumed = await survivor.resume_orphans()
    await survivor.deliver_all(resumed)

    assert resumed == list(claim.pending)
    assert channel.sent == [("2023-H1/18115/opened", "lanhdao@bachong.test")]
    assert await survivor.resume_orphans() == []


async def test_lease_that_has_not_expired_is_left_to_its_owner(store) -> None:
    clock = ManualClock(vn(2023, 5, 2, 9))
    plan = await opened_period(store)
    [planned] = due_reminders(
        ReminderPolicy(calendar=WEEKDAYS_ONLY),
        plan.period,
        plan.states["18115"],
        clock.now(),
        set(),
    )
    await dispatcher(store, clock, Recording()).claim(planned, trigger="schedule")

    assert await dispatcher(store, clock, Recording()).resume_orphans() == []
