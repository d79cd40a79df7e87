"""The reminders service against the real registry, NATS and a real SMTP server, time moved."""

from __future__ import annotations

from shared.clock import ManualClock
from tests.integration.reminders.support import (
    PERIOD,
    REVIEWER_EMAIL,
    Contact,
    publish,
    reminder_stack,
    returned,
    sent_pairs,
    set_contacts,
    submitted,
    vn,
    wait_for_projection,
    withdrawn,
)
from tests.support.http import eventually

BAC_HONG = Contact(leader_email="lanhdao@bachong.test", emails=("vanphong@bachong.test",))
NAM_HONG = Contact(emails=("vanphong@namhong.test",))
TU_PHAP = Contact(emails=("tuphap@honglinh.test",))
CONTACTS = {"18115": BAC_HONG, "18118": NAM_HONG, "PTP": TU_PHAP}


def to_unit(rule: str, unit: str, contact: Contact) -> list[tuple[str, str]]:
    """The (dedupe key, recipient) pairs of one rule for a unit's own reminder."""
    recipients = [contact.leader_email, *contact.emails]
    return [(f"{PERIOD}/{unit}/{rule}", r) for r in recipients if r]


async def test_missing_units_follow_report_events_and_need_a_reviewer_role(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 6, 12, 9))
    reviewer = mint.headers("reviewer")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        view = await wait_for_projection(service, reviewer, missing=20)
        assert view["expected"] == 20 and view["deadline"] == "10/06/2023"
        assert {"code": "18115", "name": "UBND phường Bắc Hồng"}.items() <= view["missing"][
            0
        ].items()
        assert "CATX" not in {u["code"] for u in view["missing"]}

        await publish(js, submitted("18115", vn(2023, 6, 5, 10)))
        await publish(js, submitted("18118", vn(2023, 6, 5, 11)))
        view = await wait_for_projection(service, reviewer, missing=18)
        assert {"18115", "18118"}.isdisjoint(u["code"] for u in view["missing"])

        # Withdrawn and returned reports count as not reported; events may arrive out of order.
        await publish(js, withdrawn("18115", vn(2023, 6, 6, 8), version=1))
        await publish(js, returned("18118", vn(2023, 6, 6, 9), "Thiếu số liệu mục II.3"))
        await publish(js, submitted("18118", vn(2023, 6, 5, 11)))  # a replayed old version
        view = await wait_for_projection(service, reviewer, missing=20)
        states = {u["code"]: (u["state"], u["reason"]) for u in view["missing"]}
        assert states["18115"] == ("withdrawn", None)
        assert states["18118"] == ("returned", "Thiếu số liệu mục II.3")
        assert states["18121"] == ("not_submitted", None)

        # The returned unit gets its own reminder quoting the reason, once contacts are known.
        await set_contacts(registry_http, js, {"18118": NAM_HONG})
        await wait_for_projection(service, reviewer, contacts=["18118"])
        await service.run_once()
        mails = [m for m in smtp.take() if "/returned:" in m.key]
        assert [m.recipient for m in mails] == ["vanphong@namhong.test"]
        assert "Lý do: Thiếu số liệu mục II.3" in mails[0].body

        for headers, status in (
            (mint.headers("unit", "18115"), 403),
            ({}, 401),
            (mint.headers("leader"), 200),
        ):
            response = await service.http.get(f"/v1/periods/{PERIOD}/missing", headers=headers)
            assert response.status_code == status
        unknown = await service.http.get("/v1/periods/2031-H1/missing", headers=reviewer)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "period_not_found"


async def test_default_schedule_for_2023_h1_reaches_exactly_the_units_that_have_not_reported(
    nats_server, databases, mint
):
    # Thursday 04/05: 29/04–03/05/2023 were public holidays; the period opens now.
    clock = ManualClock(vn(2023, 5, 4, 9))
    reviewer = mint.headers("reviewer")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, CONTACTS)
        await wait_for_projection(service, reviewer, contacts=CONTACTS, missing=20)

        async def step(at, *, expect, annual=()):
            clock.set(at)
            await service.run_once()
            mails = smtp.take()
            assert sent_pairs(mails) == sorted(expect), at
            # 2023-Y opened at the same time; its first warning is due in November.
            assert sent_pairs(mails, "2023-Y") == sorted(annual), at

        opened = [
            *to_unit("opened", "18115", BAC_HONG),
            *to_unit("opened", "18118", NAM_HONG),
            *to_unit("opened", "PTP", TU_PHAP),
        ]
        await step(
            vn(2023, 5, 4, 9),
            expect=opened,
            annual=[(k.replace(PERIOD, "2023-Y"), r) for k, r in opened],
        )
        await step(vn(2023, 5, 4, 9, 30), expect=[])  # a second pass sends nothing again

        await publish(js, submitted("18118", vn(2023, 5, 5, 10)))
        await wait_for_projection(service, reviewer, missing=19)

        await step(vn(2023, 6, 2, 7, 59), expect=[])
        await step(
            vn(2023, 6, 2, 8),
            expect=[
                *to_unit("before_7d", "18115", BAC_HONG),
                *to_unit("before_7d", "PTP", TU_PHAP),
            ],
        )
        await step(vn(2023, 6, 2, 22), expect=[])
        await step(vn(2023, 6, 5, 12), expect=[])
        await step(
            vn(2023, 6, 6, 8),
            expect=[
                *to_unit("before_3d", "18115", BAC_HONG),
                *to_unit("before_3d", "PTP", TU_PHAP),
            ],
        )

        # Phòng Tư pháp reports between two reminders and hears nothing more.
        await publish(js, submitted("PTP", vn(2023, 6, 7, 10)))
        await wait_for_projection(service, reviewer, missing=18)

        await step(vn(2023, 6, 8, 8), expect=to_unit("before_1d", "18115", BAC_HONG))
        await step(vn(2023, 6, 9, 8), expect=to_unit("due_day", "18115", BAC_HONG))
        await step(vn(2023, 6, 12, 8), expect=[])  # Monday: first overdue reminder is Tuesday

        clock.set(vn(2023, 6, 13, 8))
        await service.run_once()
        mails = [m for m in smtp.take() if m.key.startswith(f"{PERIOD}/")]
        own = [(m.key, m.recipient) for m in mails if "/escalation" not in m.key]
        assert sorted(own) == to_unit("overdue_1", "18115", BAC_HONG)
        escalations = [(m.key, m.recipient) for m in mails if "/escalation" in m.key]
        missing_codes = {u["code"] for u in (await service.missing(reviewer))["missing"]}
        assert len(missing_codes) == 18
        # Escalations go to the reviewers for every late unit, and to 18115's leader.
        assert sorted(escalations) == sorted(
            [(f"{PERIOD}/{code}/escalation", REVIEWER_EMAIL) for code in missing_codes]
            + [(f"{PERIOD}/18115/escalation", BAC_HONG.leader_email)]
        )
        overdue = next(m for m in mails if m.key.endswith("/overdue_1"))
        assert "quá hạn 4 ngày" in overdue.subject and "http://cong.honglinh.test" in overdue.body

        await step(vn(2023, 6, 15, 8), expect=to_unit("overdue_2", "18115", BAC_HONG))

        # Units without any contact are recorded as undeliverable, not raised.
        log = await service.http.get(
            "/v1/reminders", params={"period_id": PERIOD, "unit_code": "18121"}, headers=reviewer
        )
        assert log.status_code == 200
        rules = {(r["rule_id"], r["channel"], r["outcome"]) for r in log.json()}
        assert ("opened", "none", "undeliverable") in rules
        assert all(outcome == "undeliverable" for rule, _, outcome in rules if rule != "escalation")
        assert all(r["reason"] for r in log.json() if r["outcome"] == "undeliverable")

        metrics = (await service.http.get("/metrics")).text
        assert 'danvan_reminders_total{channel="email",outcome="sent"} ' in metrics
        assert 'danvan_reminders_total{channel="none",outcome="undeliverable"} ' in metrics

        async def events_published() -> bool:
            info = await js.stream_info("DANVAN_REMINDERS")
            return bool(info.state.messages > 0)

        await eventually(events_published)
