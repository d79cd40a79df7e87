"""Reviewers urge now, read the delivery log and download the urging letter."""

from __future__ import annotations

import io

from docx import Document

from shared.clock import ManualClock
from tests.integration.reminders.support import (
    PERIOD,
    Contact,
    publish,
    reminder_stack,
    sent_pairs,
    set_contacts,
    submitted,
    vn,
    wait_for_projection,
)

BAC_HONG = Contact(leader_email="lanhdao@bachong.test", emails=("vanphong@bachong.test",))
NAM_HONG = Contact(emails=("vanphong@namhong.test",))


async def test_reviewer_urges_now_reads_the_log_and_downloads_the_urging_letter(
    nats_server, databases, mint
):
    clock = ManualClock(vn(2023, 6, 12, 10))
    reviewer = mint.headers("reviewer", username="pnv")
    async with reminder_stack(nats_server, databases, clock, mint) as (
        smtp,
        registry_http,
        js,
        service,
    ):
        await set_contacts(registry_http, js, {"18115": BAC_HONG, "18118": NAM_HONG})
        await publish(js, submitted("18121", vn(2023, 6, 8, 10)))
        await wait_for_projection(service, reviewer, contacts=["18115", "18118"], missing=19)
        dispatcher = service.app.state.context.dispatcher
        remind = f"/v1/periods/{PERIOD}/remind"

        urged = await service.http.post(
            remind, json={"units": ["18115", "18121"]}, headers=reviewer
        )
        assert urged.status_code == 202, urged.text
        body = urged.json()
        assert body["queued"] == ["18115"]
        assert body["skipped"] == [{"unit_code": "18121", "reason": "already_reported"}]
        await dispatcher.idle()
        mails = smtp.take()
        rule = f"manual:{body['request_id']}"
        assert sent_pairs(mails) == [
            (f"{PERIOD}/18115/{rule}", "lanhdao@bachong.test"),
            (f"{PERIOD}/18115/{rule}", "vanphong@bachong.test"),
        ]
        assert "Đôn đốc gửi báo cáo" in mails[0].subject and "quá hạn 3 ngày" in mails[0].subject

        # The same request (same Idempotency-Key) is not sent twice.
        again = await service.http.post(
            remind, json={"units": ["18115"]}, headers={**reviewer, "Idempotency-Key": "dot-1"}
        )
        repeat = await service.http.post(
            remind, json={"units": ["18115"]}, headers={**reviewer, "Idempotency-Key": "dot-1"}
        )
        assert again.json()["queued"] == ["18115"]
        assert repeat.json() == {
            "request_id": "dot-1",
            "queued": [],
            "skipped": [{"unit_code": "18115", "reason": "already_requested"}],
        }
        await dispatcher.idle()
        assert len(smtp.take()) == 2

        everyone = await service.http.post(remind, headers=reviewer)
        assert everyone.status_code == 202
        assert len(everyone.json()["queued"]) == 19 and "18121" not in everyone.json()["queued"]
        await dispatcher.idle()
        assert {m.recipient for m in smtp.take()} == {
            "lanhdao@bachong.test",
            "vanphong@bachong.test",
            "vanphong@namhong.test",
        }

        log = await service.http.get(
            "/v1/reminders", params={"period_id": PERIOD, "unit_code": "18115"}, headers=reviewer
        )
        assert log.status_code == 200
        first = log.json()[-1]
        assert first["rule_id"] == rule and first["rule"] == "manual"
        assert (first["channel"], first["outcome"], first["requested_by"]) == (
            "email",
            "sent",
            "pnv",
        )
        assert first["unit_name"] == "UBND phường Bắc Hồng"
        assert first["at_local"] == "10:00 12/06/2023"

        for method, path, payload, status, code in (
            ("post", remind, {"units": ["KHONG-CO"]}, 422, "unit_not_expected"),
            ("post", remind, {"units": "18115"}, 422, None),
            ("post", "/v1/periods/2031-H1/remind", None, 404, "period_not_found"),
            ("get", "/v1/reminders?period_id=2031-H1", None, 404, "period_not_found"),
            ("get", "/v1/reminders", None, 422, None),
            ("get", "/v1/periods/2031-H1/urging-letter.docx", None, 404, "period_not_found"),
        ):
            response = await service.http.request(method, path, json=payload, headers=reviewer)
            assert response.status_code == status, response.text
            if code:
                assert response.json()["error"]["code"] == code
        unit_headers = mint.headers("unit", "18115")
        assert (await service.http.post(remind, headers=unit_headers)).status_code == 403
        forbidden_log = await service.http.get(
            "/v1/reminders", params={"period_id": PERIOD}, headers=mint.headers("leader")
        )
        assert forbidden_log.status_code == 403

        letter = await service.http.get(
            f"/v1/periods/{PERIOD}/urging-letter.docx", headers=mint.headers("leader")
        )
        assert letter.status_code == 200
        assert letter.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        document = Document(io.BytesIO(letter.content))
        table = next(t for t in document.tables if t.rows[0].cells[1].text == "Cơ quan, đơn vị")
        listed = [row.cells[1].text for row in table.rows[1:]]
        # 20 expected, 18121 reported; Phòng Nội vụ drafts the letter and is not listed.
        assert len(listed) == 18
        assert listed[:2] == ["UBND phường Bắc Hồng", "UBND phường Nam Hồng"]
        assert "UBND phường Trung Lương" not in listed  # 18121 reported
        assert "Phòng Nội vụ" not in listed and "Phòng Tư pháp" in listed
        text = "\n".join(p.text for p in document.paragraphs)
        assert "quá hạn 3 ngày" in text and "18/19" in text
        assert "Thủ trưởng các phòng, ban, đơn vị thuộc UBND thị xã" in text
        assert "Chủ tịch UBND các phường, xã" in text
        assert "Kế hoạch số …/KH-UBND ngày … tháng 02 năm 2023 của UBND thị xã" in text
        assert "http://cong.honglinh.test" in text
