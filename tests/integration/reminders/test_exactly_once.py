"""Never twice, never a burst: restarts, two instances on one database, a four-day outage."""

from __future__ import annotations

import asyncio
from collections import Counter

from shared.clock import ManualClock
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    Reminders,
    jetstream,
    move_deadline,
    publish,
    registry,
    reminders,
    reminders_settings,
    sent_pairs,
    set_contacts,
    smtp_server,
    submitted,
    vn,
    wait_for_projection,
)
from tests.support.http import eventually

CONTACTS = {
    "18115": Contact(leader_email="lanhdao@bachong.test", emails=("vanphong@bachong.test",)),
    "18118": Contact(emails=("vanphong@namhong.test",)),
}


def keys(rule: str) -> list[tuple[str, str]]:
    return sorted(
        [
            (f"{PERIOD}/18115/{rule}", "lanhdao@bachong.test"),
            (f"{PERIOD}/18115/{rule}", "vanphong@bachong.test"),
            (f"{PERIOD}/18118/{rule}", "vanphong@namhong.test"),
        ]
    )


async def test_restarts_and_two_instances_on_one_database_send_nothing_twice(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 5, 4, 9))  # Thursday, after the 29/04–03/05 holidays
    reviewer = mint.headers("reviewer")
    database = await databases.url("reminders")
    async with (
        smtp_server() as (smtp, smtp_port),
        registry(nats_server.url, await databases.url("registry")) as registry_http,
        jetstream(nats_server.url) as js,
    ):
        settings = reminders_settings(database, nats_server.url, smtp_port)
        async with reminders(settings, clock, mint) as first:
            await set_contacts(registry_http, js, CONTACTS)
            await wait_for_projection(first, reviewer, contacts=CONTACTS, missing=20)
            await first.run_once()
            assert sent_pairs(smtp.take()) == keys("opened")

        async with reminders(settings, clock, mint) as restarted:
            result = await restarted.run_once()
            assert result.active and result.claimed == 0
            assert smtp.take() == []

        clock.set(vn(2023, 6, 2, 8))
        async with (
            reminders(settings, clock, mint) as one,
            reminders(settings, clock, mint) as two,
        ):
            results = await asyncio.gather(*(one.run_once() for _ in range(3)), two.run_once())
            assert sum(r.claimed for r in results) == 20  # one before_7d per missing unit
            assert sent_pairs(smtp.take()) == keys("before_7d")
            one_active, two_active = any(r.active for r in results[:3]), results[3].active
            if databases.backend == "postgresql":
                assert one_active != two_active  # the advisory lock admits one scheduler
            else:
                assert one_active and two_active  # only the dedupe keys protect SQLite

            # Both instances keep serving the API; the delivery log has each key once.
            log = (
                await two.http.get("/v1/reminders", params={"period_id": PERIOD}, headers=reviewer)
            ).json()
            counted = Counter((r["dedupe_key"], r["recipient"]) for r in log)
            assert max(counted.values()) == 1

            # The deadline moves a week later: the schedule follows, sent ones are not repeated.
            await move_deadline(registry_http, js, PERIOD, vn(2023, 6, 17))

            async def moved() -> bool:
                return bool((await one.missing(reviewer))["deadline"] == "17/06/2023")

            await eventually(moved)
            for at, rule in (
                (vn(2023, 6, 9, 8), None),  # the new before_7d day: already sent
                (vn(2023, 6, 13, 8), "before_3d"),
            ):
                clock.set(at)
                await asyncio.gather(one.run_once(), two.run_once())
                assert sent_pairs(smtp.take()) == (keys(rule) if rule else []), at


async def test_service_down_for_four_days_sends_only_the_latest_reminder_on_start(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 5, 4, 9))  # Thursday, after the 29/04–03/05 holidays
    reviewer = mint.headers("reviewer")
    database = await databases.url("reminders")
    async with (
        smtp_server() as (smtp, smtp_port),
        registry(nats_server.url, await databases.url("registry")) as registry_http,
        jetstream(nats_server.url) as js,
    ):
        settings = reminders_settings(database, nats_server.url, smtp_port)
        async with reminders(settings, clock, mint) as service:
            await set_contacts(registry_http, js, CONTACTS)
            await wait_for_projection(service, reviewer, contacts=CONTACTS, missing=20)
            clock.set(vn(2023, 6, 6, 9))
            await service.run_once()
            # Catching up from the opening: the latest rule only, not opened and before_7d.
            assert sent_pairs(smtp.take()) == keys("before_3d")

        # Down from Tuesday 06/06 to Saturday 10/06: before_1d and due_day fell due meanwhile.
        clock.set(vn(2023, 6, 10, 9))
        looping = settings.model_copy(update={"scheduler_enabled": True, "tick_seconds": 3600})
        async with reminders(looping, clock, mint) as restarted:
            # The loop runs a pass at start by itself; weekends are skipped, so it waits.
            await eventually(lambda: passes(restarted, "quiet"), timeout=20)
            assert smtp.messages == []

            # Monday 07:00, the first sending moment: the latest reminder only.
            clock.set(vn(2023, 6, 12, 7))
            restarted.app.state.context.scheduler.poke()
            await eventually(lambda: passes(restarted, "active"), timeout=20)
        assert sent_pairs(smtp.take()) == keys("due_day")

        # Down again until Tuesday 13/06 09:00; Bắc Hồng reported while nobody was listening.
        # The pass at start waits until that event is applied, so only Nam Hồng is urged.
        await publish(js, submitted("18115", vn(2023, 6, 12, 15)))
        clock.set(vn(2023, 6, 13, 9))
        async with reminders(looping, clock, mint) as again:
            await eventually(lambda: passes(again, "active"), timeout=20)
        mails = smtp.take()
        assert sent_pairs([m for m in mails if "/escalation" not in m.key]) == [
            (f"{PERIOD}/18118/overdue_1", "vanphong@namhong.test")
        ]
        assert not [m for m in mails if "/18115/" in m.key]


async def passes(service: Reminders, result: str) -> bool:
    """Whether the service's scheduler has finished one pass with this result."""
    metrics = (await service.http.get("/metrics")).text
    return f'danvan_reminders_scheduler_runs_total{{result="{result}"}} 1.0' in metrics
