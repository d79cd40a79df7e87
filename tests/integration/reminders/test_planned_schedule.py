"""The planned schedule (lịch đôn đốc) lists the next reminders, and the scheduler then sends
exactly those: the real registry, NATS and SMTP, the clock driven to each planned instant."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from shared.clock import ManualClock
from shared.contracts.api.reminders import DeliveryEntry, ScheduledReminder
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    publish,
    reminder_stack,
    set_contacts,
    submitted,
    vn,
    wait_for_projection,
)

BAC_HONG = Contact(leader_email="lanhdao@bachong.test", emails=("vanphong@bachong.test",))
NAM_HONG = Contact(emails=("vanphong@namhong.test",))
SCHEDULE = f"/v1/periods/{PERIOD}/schedule"
HORIZON = vn(2023, 6, 15, 10)  # 14 days after the first read


async def read_schedule(
    service: Any, headers: dict[str, str], days: int = 14
) -> list[ScheduledReminder]:
    response = await service.http.get(SCHEDULE, params={"days": days}, headers=headers)
    assert response.status_code == 200, response.text
    return [ScheduledReminder.model_validate(e) for e in response.json()]


async def read_log(service: Any, headers: dict[str, str]) -> list[DeliveryEntry]:
    response = await service.http.get(
        "/v1/reminders", params={"period_id": PERIOD, "limit": 5000}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [DeliveryEntry.model_validate(e) for e in response.json()]


def planned_by_instant(
    entries: list[ScheduledReminder],
) -> dict[datetime, set[tuple[str, str, str]]]:
    by_at: dict[datetime, set[tuple[str, str, str]]] = defaultdict(set)
    for e in entries:
        by_at[e.at].add((e.unit_code, e.rule_id, e.channel))
    return dict(by_at)


async def test_the_schedule_lists_the_next_reminders_and_the_scheduler_sends_them(
    nats_server, databases, mint
):
    # Thursday 01/06/2023 10:00: the period opens now (for this service); due before 10/06.
    clock = ManualClock(vn(2023, 6, 1, 10))
    reviewer = mint.headers("reviewer", username="pnv")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, {"18115": BAC_HONG, "18118": NAM_HONG})
        await publish(js, submitted("18121", vn(2023, 5, 30, 10)))
        await wait_for_projection(service, reviewer, contacts=["18115", "18118"], missing=19)

        # Before any pass the opening notice is owed, at once, to every unit still missing.
        owed = await read_schedule(service, reviewer)
        first = [e for e in owed if e.at == vn(2023, 6, 1, 10)]
        assert {e.rule_id for e in first} == {"opened"}
        assert len({e.unit_code for e in first}) == 19 and "18121" not in {
            e.unit_code for e in first
        }

        await service.run_once()
        smtp.take()
        schedule = await read_schedule(service, reviewer)

        # What was sent (the opening) and the unit that reported are not in the plan.
        assert schedule and all(e.rule_id != "opened" for e in schedule)
        assert "18121" not in {e.unit_code for e in schedule}
        bac_hong = [(e.rule_id, e.at, e.channel) for e in schedule if e.unit_code == "18115"]
        assert bac_hong == [
            ("before_7d", vn(2023, 6, 2, 8), "email"),
            ("before_3d", vn(2023, 6, 6, 8), "email"),
            ("before_1d", vn(2023, 6, 8, 8), "email"),
            ("due_day", vn(2023, 6, 9, 8), "email"),
            ("overdue_1", vn(2023, 6, 13, 8), "email"),
            ("escalation", vn(2023, 6, 13, 8), "email"),
            ("overdue_2", vn(2023, 6, 15, 8), "email"),
        ]
        tu_phap = {(e.rule_id, e.channel) for e in schedule if e.unit_code == "PTP"}
        assert ("before_7d", "none") in tu_phap  # no contact: the log will say so
        assert ("escalation", "email") in tu_phap  # the reviewers are told all the same
        assert schedule[0].at_local == "08:00 02/06/2023" and schedule[0].audience == "unit"
        assert [e.at for e in schedule] == sorted(e.at for e in schedule)

        # Drive the clock to each planned instant: each pass sends exactly what was planned.
        logged_before = {e.dedupe_key for e in await read_log(service, reviewer)}
        plan = planned_by_instant(schedule)
        reported_at: datetime | None = None
        for at in sorted(plan):
            if at == vn(2023, 6, 8, 8):
                # Nam Hồng reports: the plan drops its remaining reminders, and so does the
                # scheduler.
                reported_at = at
                await publish(js, submitted("18118", vn(2023, 6, 7, 16)))
                await wait_for_projection(service, reviewer, missing=18)
                remaining = planned_by_instant(await read_schedule(service, reviewer))
                assert all(unit != "18118" for items in remaining.values() for unit, _, _ in items)
                plan = {
                    when: {item for item in items if when < at or item[0] != "18118"}
                    for when, items in plan.items()
                }
                assert {when: items for when, items in remaining.items() if when <= HORIZON} == {
                    when: items for when, items in plan.items() if when >= at
                }
            clock.set(at)
            await service.run_once()
            log = await read_log(service, reviewer)
            new = [e for e in log if e.dedupe_key not in logged_before]
            logged_before |= {e.dedupe_key for e in new}
            assert {(e.unit_code, e.rule_id, e.channel) for e in new} == plan[at], at
            assert all(e.scheduled_at == at for e in new), at
            mails = [m for m in smtp.take() if m.key.startswith(f"{PERIOD}/")]
            emailed = {(m.key.split("/")[1], m.key.split("/")[2]) for m in mails}
            assert emailed == {(u, r) for u, r, c in plan[at] if c == "email"}, at
        assert reported_at is not None

        # The next pass after the last planned instant sends nothing more before overdue_3.
        clock.set(vn(2023, 6, 16, 9))
        await service.run_once()
        assert [m for m in smtp.take() if m.key.startswith(f"{PERIOD}/")] == []

        for headers, status in (
            (mint.headers("leader"), 200),
            (mint.headers("admin"), 200),
            (mint.headers("unit", "18115"), 403),
            ({}, 401),
        ):
            response = await service.http.get(SCHEDULE, headers=headers)
            assert response.status_code == status, headers
        unknown = await service.http.get("/v1/periods/2031-H1/schedule", headers=reviewer)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "period_not_found"
        too_far = await service.http.get(SCHEDULE, params={"days": 400}, headers=reviewer)
        assert too_far.status_code == 422
