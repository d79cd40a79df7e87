"""Answers to difficulties and accepted reports reach the unit by mail, once, quiet hours aside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import nats.errors
from sqlalchemy import select

from services.reminders import db
from shared.clock import ManualClock
from shared.contracts.envelope import Envelope
from shared.contracts.intake import (
    DIFFICULTY_ANSWERED,
    REPORT_REVIEWED,
    Difficulty,
    DifficultyAnswered,
    ReportReview,
    ReportReviewed,
)
from shared.contracts.reminders import REMINDER_SENT, ReminderSent
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    Received,
    Reminders,
    publish,
    reminder_stack,
    returned,
    set_contacts,
    submitted,
    vn,
    wait_for_projection,
)
from tests.support.http import eventually

BAC_HONG = "vanphong@bachong.test"
NAM_HONG = "vanphong@namhong.test"
CONTACTS = {"18115": Contact(emails=(BAC_HONG,)), "18118": Contact(emails=(NAM_HONG,))}
QUESTION = "Đơn vị chưa rõ có tính các cuộc đối thoại trực tuyến vào mục II.3 không?"


def answer(
    text: str, at: datetime, *, unit: str = "18115", difficulty_id: str = "vm-1"
) -> DifficultyAnswered:
    """Phòng Nội vụ's answer (or corrected answer) to a unit's difficulty."""
    return DifficultyAnswered.new(
        Difficulty(
            difficulty_id=difficulty_id,
            report_id=None,
            period_id=PERIOD,
            unit_code=unit,
            text=QUESTION,
            raised_at=vn(2023, 5, 3, 9),
            answer=text,
            answered_by="nguyenvana",
            answered_at=at,
        ),
        producer="intake",
    )


def accepted(unit: str, at: datetime, *, version: int = 1) -> ReportReviewed:
    """A ReportReviewed event accepting a unit's report."""
    return ReportReviewed.new(
        ReportReview(
            report_id=f"r-{unit}",
            period_id=PERIOD,
            unit_code=unit,
            version=version,
            decision="accepted",
            reviewed_by="pnv",
            reviewed_at=at,
        ),
        producer="intake",
    )


def republished(event: Envelope[Any]) -> Envelope[Any]:
    """The same fact under a new event id, as a producer replaying its outbox might send it."""
    return type(event).new(event.payload, producer=event.producer)


async def redeliver(js: Any, event: Envelope[Any]) -> None:
    """The same event (same id) once more, past the stream's own duplicate window."""
    await js.publish(
        event.subject, event.to_json(), headers={"Nats-Msg-Id": f"{event.event_id}-again"}
    )


def notices(messages: list[Received], family: str) -> list[Received]:
    return [m for m in messages if f"/{family}:" in m.key]


async def handled(service: Reminders, subject: str, count: int) -> None:
    """Wait until the service has handled `count` events of a subject, then for its sending."""
    registry_ = service.app.state.runtime.registry

    async def done() -> bool:
        total = sum(
            registry_.get_sample_value(
                "danvan_events_processed_total",
                {"service": "reminders", "subject": subject, "outcome": outcome},
            )
            or 0.0
            for outcome in ("processed", "duplicate")
        )
        return total >= count

    await eventually(done, timeout=20)
    await service.app.state.context.dispatcher.idle()


async def test_an_answer_is_mailed_once_and_a_corrected_answer_again(nats_server, databases, mint):
    clock = ManualClock(vn(2023, 5, 4, 10, 15))  # a Thursday morning
    reviewer = mint.headers("reviewer")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, CONTACTS)
        await wait_for_projection(service, reviewer, contacts=CONTACTS)

        first = answer("Có. Đơn vị tính cả các cuộc đối thoại trực tuyến.", vn(2023, 5, 4, 10, 5))
        await publish(js, first)

        async def mailed() -> list[Received]:
            return notices(smtp.messages, "answered")

        [mail] = await eventually(mailed, timeout=20)
        smtp.take()
        assert mail.recipient == BAC_HONG
        assert "Phòng Nội vụ đã trả lời vướng mắc" in mail.subject
        assert "6 tháng đầu năm 2023" in mail.subject
        assert QUESTION in mail.body
        assert "Có. Đơn vị tính cả các cuộc đối thoại trực tuyến." in mail.body
        assert "Trả lời của Phòng Nội vụ (lúc 10:05 04/05/2023)" in mail.body
        assert "http://cong.honglinh.test" in mail.body
        assert "nguyenvana" not in mail.body

        # The same event redelivered, and the same answer republished: nothing more.
        await redeliver(js, first)
        await publish(js, republished(first))
        await handled(service, DIFFICULTY_ANSWERED, 3)
        assert notices(smtp.take(), "answered") == []

        corrected = answer("Không. Chỉ tính đối thoại trực tiếp.", vn(2023, 5, 4, 11, 20))
        clock.set(vn(2023, 5, 4, 11, 20))
        await publish(js, corrected)
        [again] = await eventually(mailed, timeout=20)
        assert again.recipient == BAC_HONG and again.key != mail.key
        assert "Không. Chỉ tính đối thoại trực tiếp." in again.body
        assert "(lúc 11:20 04/05/2023)" in again.body

        # A unit the registry gave no contact is recorded undeliverable, not silently skipped.
        await publish(js, answer("Được.", vn(2023, 5, 4, 11, 30), unit="18121", difficulty_id="x"))

        async def undeliverable() -> list[dict[str, Any]]:
            response = await service.http.get(
                "/v1/reminders",
                params={"period_id": PERIOD, "unit_code": "18121"},
                headers=reviewer,
            )
            return [r for r in response.json() if r["rule"] == "answered"]

        [entry] = await eventually(undeliverable, timeout=20)
        assert (entry["outcome"], entry["reason_code"], entry["trigger"]) == (
            "undeliverable",
            "no_contact",
            "event",
        )

        log = (
            await service.http.get(
                "/v1/reminders",
                params={"period_id": PERIOD, "unit_code": "18115"},
                headers=reviewer,
            )
        ).json()
        assert sorted((r["rule"], r["outcome"]) for r in log) == [
            ("answered", "sent"),
            ("answered", "sent"),
        ]
        metrics = (await service.http.get("/metrics")).text
        assert 'danvan_reminders_total{channel="email",outcome="sent"} 2.0' in metrics


async def test_an_accepted_report_is_mailed_to_its_unit_once(nats_server, databases, mint):
    clock = ManualClock(vn(2023, 6, 2, 9))
    reviewer = mint.headers("reviewer")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, CONTACTS)
        await wait_for_projection(service, reviewer, contacts=CONTACTS)
        sent_events = await js.pull_subscribe(REMINDER_SENT, durable="test-notice-sent")

        await publish(js, submitted("18118", vn(2023, 6, 1, 15)))
        await publish(js, returned("18115", vn(2023, 6, 2, 8), "Thiếu số liệu mục II.3"))
        review = accepted("18118", vn(2023, 6, 2, 8, 45))
        await publish(js, review)

        async def mailed() -> list[Received]:
            return notices(smtp.messages, "accepted")

        [mail] = await eventually(mailed, timeout=20)
        assert (mail.key, mail.recipient) == (f"{PERIOD}/18118/accepted:r-18118:v1", NAM_HONG)
        assert mail.subject.startswith("Báo cáo đã được chấp nhận (phiên bản 1)")
        assert "chấp nhận lúc 08:45 02/06/2023" in mail.body

        await redeliver(js, review)
        await publish(js, republished(review))
        await handled(service, REPORT_REVIEWED, 4)
        assert [m.key for m in smtp.take()] == [mail.key]  # nothing for the returned report

        async def sent() -> list[ReminderSent]:
            try:
                messages = await sent_events.fetch(100, timeout=1)
            except nats.errors.TimeoutError:
                messages = []
            for message in messages:
                await message.ack()
            events.extend(ReminderSent.model_validate_json(m.data) for m in messages)
            return [e for e in events if e.payload.dedupe_key == mail.key]

        events: list[ReminderSent] = []
        [event] = await eventually(sent, timeout=20)
        assert (event.payload.rule_id, event.payload.recipient) == ("accepted:r-18118:v1", NAM_HONG)


async def test_an_answer_given_in_quiet_hours_is_mailed_when_they_end(nats_server, databases, mint):
    clock = ManualClock(vn(2023, 5, 4, 22, 10))  # Thursday night
    reviewer = mint.headers("reviewer")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, CONTACTS)
        await wait_for_projection(service, reviewer, contacts=CONTACTS)

        await publish(js, answer("Có, tính cả trực tuyến.", vn(2023, 5, 4, 22, 5)))
        await handled(service, DIFFICULTY_ANSWERED, 1)

        async def queued() -> list[Any]:
            async with service.app.state.context.store.reading() as session:
                table = db.notifications
                rows = await session.execute(select(table.c.status, table.c.not_before))
                return list(rows)

        [(status, not_before)] = await queued()
        assert (status, not_before) == ("pending", vn(2023, 5, 5, 7))
        result = await service.run_once()
        assert result.outside_sending_window
        assert notices(smtp.take(), "answered") == []

        clock.set(vn(2023, 5, 5, 7))
        result = await service.run_once()

        [mail] = notices(smtp.take(), "answered")
        assert mail.recipient == BAC_HONG and "Có, tính cả trực tuyến." in mail.body
        assert "(lúc 22:05 04/05/2023)" in mail.body
        assert result.notice_deliveries == 1
        assert [status for status, _ in await queued()] == ["claimed"]
