"""Notices of answers and accepted reports: keys, quiet hours, queue, claim, and the schedule."""

from __future__ import annotations

import unicodedata
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from services.reminders import db, projections
from services.reminders.dispatch import DeliveryOptions, Dispatcher
from services.reminders.domain import (
    NoticeContext,
    ReminderPolicy,
    TemplateRenderer,
    accepted_notice,
    answered_notice,
    answered_rule_id,
    due_reminders,
    rule_family,
)
from services.reminders.metrics import RemindersMetrics
from services.reminders.scheduler import Scheduler
from services.reminders.store import (
    LocalLock,
    RemindersStore,
    load_plan,
    next_notice_at,
    period_row,
)
from shared.clock import ManualClock

from .clock import WEEKDAYS_ONLY, vn
from .events import answered, period, report, review, unit
from .test_dispatch import Recording

POLICY = ReminderPolicy(calendar=WEEKDAYS_ONLY)
PORTAL = "http://cong.test"


def answer_notice(answer: str, answered_at: Any, now: Any) -> Any:
    return answered_notice(
        POLICY,
        difficulty_id="d1",
        period_id="2023-H1",
        unit_code="18115",
        question="Chưa rõ cách tính số cuộc đối thoại",
        answer=answer,
        answered_at=answered_at,
        now=now,
    )


def test_a_corrected_answer_has_a_new_dedupe_key_and_the_same_answer_keeps_its_key() -> None:
    first = answer_notice("Tính cả đối thoại trực tuyến", vn(2023, 5, 4, 10), vn(2023, 5, 4, 10))
    again = answer_notice("Tính cả đối thoại trực tuyến", vn(2023, 5, 4, 10), vn(2023, 5, 5, 9))
    corrected = answer_notice(
        "Chỉ tính đối thoại trực tiếp", vn(2023, 5, 4, 11), vn(2023, 5, 4, 11)
    )

    assert first is not None and again is not None and corrected is not None
    assert first.dedupe_key == again.dedupe_key
    assert corrected.dedupe_key != first.dedupe_key
    assert first.dedupe_key.startswith("2023-H1/18115/answered:d1:20230504T030000")
    assert rule_family(first.rule_id) == "answered"


def test_accepted_notice_is_keyed_by_report_and_version() -> None:
    notices_ = [
        accepted_notice(
            POLICY,
            report_id="r1",
            period_id="2023-H1",
            unit_code="18115",
            version=version,
            reviewed_at=vn(2023, 6, 2, 9),
            now=vn(2023, 6, 2, 9),
        )
        for version in (1, 1, 2)
    ]

    assert [n.dedupe_key for n in notices_] == [
        "2023-H1/18115/accepted:r1:v1",
        "2023-H1/18115/accepted:r1:v1",
        "2023-H1/18115/accepted:r1:v2",
    ]


def test_notice_queued_in_quiet_hours_waits_for_the_end_of_the_quiet_spell() -> None:
    evening = answer_notice("Được", vn(2023, 5, 4, 22, 30), vn(2023, 5, 4, 22, 30))  # Thursday
    saturday = answer_notice("Được", vn(2023, 5, 6, 10), vn(2023, 5, 6, 10))
    afternoon = answer_notice("Được", vn(2023, 5, 4, 15), vn(2023, 5, 4, 15))

    assert evening is not None and evening.not_before == vn(2023, 5, 5, 7)
    assert saturday is not None and saturday.not_before == vn(2023, 5, 8, 7)
    assert afternoon is not None and afternoon.not_before == vn(2023, 5, 4, 15)


def test_an_event_without_an_answer_is_no_notice() -> None:
    assert answer_notice("  ", vn(2023, 5, 4, 10), vn(2023, 5, 4, 10)) is None
    assert answer_notice("Được", None, vn(2023, 5, 4, 10)) is None


def test_answered_message_quotes_question_and_answer_names_the_office_not_the_person() -> None:
    notice = answer_notice(
        "Tính cả các cuộc đối thoại trực tuyến", vn(2023, 5, 4, 10, 5), vn(2023, 5, 4, 10, 5)
    )
    assert notice is not None
    decomposed = unicodedata.normalize("NFD", "UBND phường Bắc Hồng")

    message = TemplateRenderer().render_notice(
        notice.rule_id,
        NoticeContext(
            period_title="Báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023",
            unit_code="18115",
            unit_name=decomposed,
            portal_url=PORTAL,
            as_of=vn(2023, 5, 4, 10, 5),
            details=notice.details,
        ),
    )

    assert "6 tháng đầu năm 2023" in message.subject and "trả lời" in message.subject
    body = message.body
    assert "Kính gửi: UBND phường Bắc Hồng" in body
    assert "Chưa rõ cách tính số cuộc đối thoại" in body
    assert "Tính cả các cuộc đối thoại trực tuyến" in body
    assert "Trả lời của Phòng Nội vụ (lúc 10:05 04/05/2023)" in body
    assert PORTAL in body
    assert "nguyenvana" not in body
    assert unicodedata.is_normalized("NFC", body)


def test_accepted_message_names_the_version_and_the_local_time() -> None:
    notice = accepted_notice(
        POLICY,
        report_id="r1",
        period_id="2023-H1",
        unit_code="18115",
        version=2,
        reviewed_at=vn(2023, 6, 2, 14, 30),
        now=vn(2023, 6, 2, 14, 30),
    )

    message = TemplateRenderer().render_notice(
        notice.rule_id,
        NoticeContext(
            period_title="Báo cáo 6 tháng",
            unit_code="18115",
            unit_name="UBND phường Bắc Hồng",
            portal_url=PORTAL,
            as_of=vn(2023, 6, 2, 14, 30),
            details=notice.details,
        ),
    )

    assert message.subject == "Báo cáo đã được chấp nhận (phiên bản 2): Báo cáo 6 tháng"
    assert "đã được Phòng Nội vụ chấp nhận lúc 14:30 02/06/2023" in message.body


def dispatcher(store: RemindersStore, clock: ManualClock, channel: Recording) -> Dispatcher:
    return Dispatcher(
        store=store,
        policy=POLICY,
        renderer=TemplateRenderer(),
        channels={"email": channel},
        options=DeliveryOptions(portal_url=PORTAL),
        clock=clock,
        metrics=RemindersMetrics(CollectorRegistry()),
    )


async def known_period(store: RemindersStore, email: str = "") -> None:
    async with store.transaction() as session:
        await projections.period_changed(session, period(1), vn(2023, 5, 2, 9))
        if email:
            await projections.unit_changed(session, unit(1, email))


async def queue_answer(store: RemindersStore, text: str, at: Any, now: Any) -> bool:
    async with store.transaction() as session:
        return await projections.queue_answer_notice(session, answered(text, at), POLICY, now)


async def notice_states(store: RemindersStore) -> list[tuple[str, str]]:
    table = db.notifications
    async with store.reading() as session:
        rows = await session.execute(select(table.c.rule_id, table.c.status).order_by(table.c.id))
        return [(r.rule_id, r.status) for r in rows]


async def test_a_redelivered_answer_queues_nothing_and_a_newer_one_supersedes_the_waiting_one(
    store,
) -> None:
    night = vn(2023, 5, 4, 22)
    assert await queue_answer(store, "Bản đầu", vn(2023, 5, 4, 21, 30), night)
    assert not await queue_answer(store, "Bản đầu", vn(2023, 5, 4, 21, 30), night)
    assert await queue_answer(store, "Bản sửa", vn(2023, 5, 4, 21, 45), night)
    # The first answer's event arriving again after the correction changes nothing.
    assert not await queue_answer(store, "Bản đầu", vn(2023, 5, 4, 21, 30), night)

    first = answered_rule_id("d1", vn(2023, 5, 4, 21, 30))
    second = answered_rule_id("d1", vn(2023, 5, 4, 21, 45))
    assert await notice_states(store) == [(first, "superseded"), (second, "pending")]


async def test_an_older_answer_arriving_after_a_newer_one_is_dropped(store) -> None:
    now = vn(2023, 5, 4, 15)
    assert await queue_answer(store, "Bản sửa", vn(2023, 5, 4, 11), now)
    assert not await queue_answer(store, "Bản đầu", vn(2023, 5, 4, 10), now)

    assert [s for _, s in await notice_states(store)] == ["pending"]


async def test_accepted_notice_reaches_a_unit_that_has_reported_and_only_once(store) -> None:
    clock = ManualClock(vn(2023, 6, 2, 9))
    channel = Recording()
    await known_period(store, "lanhdao@bachong.test")
    async with store.transaction() as session:
        await projections.report_submitted(session, report(1, vn(2023, 6, 1, 9)))
        await projections.report_reviewed(session, review(1, vn(2023, 6, 2, 8), "accepted"))
        assert await projections.queue_acceptance_notice(
            session, review(1, vn(2023, 6, 2, 8), "accepted"), POLICY, clock.now()
        )
        assert not await projections.queue_acceptance_notice(
            session, review(1, vn(2023, 6, 2, 8), "returned"), POLICY, clock.now()
        )
    first, second = dispatcher(store, clock, channel), dispatcher(store, clock, channel)

    await first.deliver_all(await first.claim_due_notices())
    await second.deliver_all(await second.claim_due_notices())

    assert channel.sent == [("2023-H1/18115/accepted:r1:v1", "lanhdao@bachong.test")]


async def test_quiet_hours_keep_a_notice_queued_until_the_morning(store) -> None:
    clock = ManualClock(vn(2023, 5, 4, 22))
    channel = Recording()
    await known_period(store, "lanhdao@bachong.test")
    await queue_answer(store, "Được", vn(2023, 5, 4, 21, 50), clock.now())
    sender = dispatcher(store, clock, channel)

    clock.set(vn(2023, 5, 5, 6, 59))
    assert await sender.claim_due_notices() == []
    clock.set(vn(2023, 5, 5, 7))
    await sender.deliver_all(await sender.claim_due_notices())

    assert [key for key, _ in channel.sent] == [
        "2023-H1/18115/" + answered_rule_id("d1", vn(2023, 5, 4, 21, 50))
    ]


async def test_unit_not_yet_known_waits_until_the_projections_are_settled(store) -> None:
    clock = ManualClock(vn(2023, 5, 4, 10))
    await known_period(store)  # no UnitChanged for 18115 yet
    await queue_answer(store, "Được", vn(2023, 5, 4, 10), clock.now())
    sender = dispatcher(store, clock, Recording())

    assert await sender.claim_due_notices(projections_settled=False) == []
    assert [s for _, s in await notice_states(store)] == ["pending"]

    assert await sender.claim_due_notices() == []  # settled: recorded, nothing to send
    async with store.reading() as session:
        rows = (await session.execute(select(db.deliveries.c.status))).scalars().all()
    assert rows == ["undeliverable"]


async def test_notices_are_not_rules_of_the_schedule(store) -> None:
    clock = ManualClock(vn(2023, 5, 2, 9))
    channel = Recording()
    await known_period(store, "lanhdao@bachong.test")
    await queue_answer(store, "Được", vn(2023, 5, 2, 8, 30), clock.now())
    sender = dispatcher(store, clock, channel)
    scheduler = Scheduler(
        store=store,
        dispatcher=sender,
        lock=LocalLock(),
        policy=POLICY,
        clock=clock,
        metrics=RemindersMetrics(CollectorRegistry()),
        tick_seconds=60,
    )

    result = await scheduler.run_once()

    # The pass sent the notice besides the `opened` reminder, and counted it apart.
    assert (result.claimed, result.notice_deliveries, result.deliveries) == (1, 1, 2)
    assert sorted(key.rsplit("/", 1)[1].split(":")[0] for key, _ in channel.sent) == [
        "answered",
        "opened",
    ]
    # A sent notice does not stand in for the unit's next reminder.
    async with store.reading() as session:
        plan = await load_plan(session, await period_row(session, "2023-H1"))
    later = vn(2023, 6, 2, 8)
    [due] = due_reminders(POLICY, plan.period, plan.states["18115"], later, plan.sent)
    assert due.rule_id == "before_7d"


async def test_next_pass_wakes_for_a_notice_waiting_out_quiet_hours(store) -> None:
    async with store.transaction() as session:
        await projections.queue_answer_notice(
            session, answered("Được", vn(2023, 5, 4, 22)), POLICY, vn(2023, 5, 4, 22)
        )
    async with store.reading() as session:
        assert await next_notice_at(session, vn(2023, 5, 4, 22)) == vn(2023, 5, 5, 7)
        assert await next_notice_at(session, vn(2023, 5, 5, 7)) is None
