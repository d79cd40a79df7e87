"""A unit raises a difficulty outside any report and gets Phòng Nội vụ's answer by mail: the
real intake, registry and reminders over one nats-server, and a real SMTP server."""

from __future__ import annotations

from typing import Any

import httpx

from services.intake.app import create_app as create_intake
from shared.clock import ManualClock
from shared.contracts.intake import DIFFICULTY_ANSWERED
from tests.integration.intake.conftest import intake_settings
from tests.integration.reminders.support import (
    Contact,
    Received,
    reminder_stack,
    set_contacts,
    vn,
    wait_for_projection,
)
from tests.support.http import eventually, serve_app

BAC_HONG = "vanphong@bachong.test"
QUESTION = "Đơn vị có tính các buổi đối thoại trực tuyến vào mục dân chủ ở cơ sở không?"
ANSWER = "Có. Ghi số buổi đối thoại trực tuyến vào phần Kết quả thực hiện của mục đó."


def _answered(messages: list[Received]) -> list[Received]:
    return [m for m in messages if "/answered:" in m.key]


async def test_a_unit_raises_a_difficulty_outside_any_report_and_gets_the_answer_by_mail(
    nats_server, databases, mint, tmp_path
):
    clock = ManualClock(vn(2023, 5, 4, 10, 15))  # a Thursday morning, inside the sending hours
    reviewer = mint.headers("reviewer", username="pnv")
    ward = mint.headers("unit", "18115")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        reminders,
    ):
        settings = intake_settings(
            await databases.url("intake"), nats_server.url, data_dir=tmp_path / "intake"
        )
        intake_app = create_intake(settings, clock=clock, key_source=mint.key_source())
        async with (
            serve_app(intake_app) as base,
            httpx.AsyncClient(base_url=base, timeout=20) as intake,
        ):
            await set_contacts(registry_http, js, {"18115": Contact(emails=(BAC_HONG,))})
            await wait_for_projection(reminders, reviewer, contacts=["18115"])

            async def period_known() -> bool:
                return (await intake.get("/v1/periods/2023-H1/form", headers=ward)).is_success

            await eventually(period_known, timeout=20)

            raised = await intake.post("/v1/difficulties", json={"text": QUESTION}, headers=ward)
            assert raised.status_code == 201, raised.text
            thread: dict[str, Any] = raised.json()
            assert thread["report_id"] is None and thread["period_id"] == "2023-H1"
            clock.set(vn(2023, 5, 4, 14, 30))
            answered = await intake.post(
                f"/v1/difficulties/{thread['difficulty_id']}/messages",
                json={"text": ANSWER},
                headers=reviewer,
            )
            assert answered.status_code == 201, answered.text

            async def mailed() -> list[Received]:
                return _answered(smtp.messages)

            [mail] = await eventually(mailed, timeout=30)
            assert mail.recipient == BAC_HONG
            assert mail.key == (
                f"2023-H1/18115/answered:{thread['difficulty_id']}:20230504T073000.000000Z"
            )
            assert "Phòng Nội vụ đã trả lời vướng mắc" in mail.subject
            assert QUESTION in mail.body and ANSWER in mail.body
            assert "(lúc 14:30 04/05/2023)" in mail.body and "pnv" not in mail.body

            # A follow-up and a second answer: a second mail with the new answer.
            smtp.take()
            followed = await intake.post(
                f"/v1/difficulties/{thread['difficulty_id']}/messages",
                json={"text": "Cả buổi đối thoại qua mạng xã hội?"},
                headers=ward,
            )
            assert followed.status_code == 201, followed.text
            clock.set(vn(2023, 5, 4, 15, 0))
            again = await intake.post(
                f"/v1/difficulties/{thread['difficulty_id']}/messages",
                json={"text": "Không; chỉ buổi đối thoại có biên bản."},
                headers=reviewer,
            )
            assert again.status_code == 201, again.text
            [second] = await eventually(mailed, timeout=30)
            assert "Không; chỉ buổi đối thoại có biên bản." in second.body
            assert second.key != mail.key

            processed = reminders.app.state.runtime.registry.get_sample_value(
                "danvan_events_processed_total",
                {"service": "reminders", "subject": DIFFICULTY_ANSWERED, "outcome": "processed"},
            )
            assert processed == 2.0
