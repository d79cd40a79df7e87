"""Submitting a report: 201 with a receipt, stored once, published with its full content."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.contracts.intake import DIFFICULTY_RAISED, REPORT_SUBMITTED
from shared.forms import content_sha256
from tests.integration.intake.conftest import ward_body
from tests.support.http import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_submission_is_stored_answered_with_a_receipt_and_published_in_full(stack):
    body = ward_body()
    answer = await stack.http.post("/v1/reports", json=body, headers=stack.unit("18115"))

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["version"] == 1 and created["on_time"] is True
    assert created["period_id"] == "2023-H1" and created["unit_code"] == "18115"
    assert answer.headers["location"] == f"/v1/reports/{created['report_id']}"
    receipt = created["receipt"]
    assert receipt["unit_name"] == "UBND phường Bắc Hồng"
    assert receipt["period_title"] == "6 tháng đầu năm 2023"
    assert "đúng hạn" in receipt["text"] and "09:30 05/06/2023" in receipt["text"]
    assert [w["field"] for w in created["warnings"]] == ["sai_pham_xu_ly"]

    report = (
        await stack.http.get(f"/v1/reports/{created['report_id']}", headers=stack.unit("18115"))
    ).json()
    assert report["status"] == "submitted"
    assert report["content"]["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == "125.5"
    assert report["content"]["sections"]["1"]["indicators"]["luot_nguoi_quan_triet"] is None
    assert report["content"]["sections"]["7"]["indicators"]["don_thu_tiep_nhan"] == 0
    assert content_sha256(report["content"]) == created["content_sha256"]

    async def published():
        events = await stack.intake_events(REPORT_SUBMITTED)
        return [e for e in events if e["payload"]["report_id"] == created["report_id"]]

    events = await eventually(published)
    assert len(events) == 1
    payload = events[0]["payload"]
    assert payload["report_id"] == created["report_id"]
    assert payload["content"] == report["content"]
    assert payload["content_sha256"] == created["content_sha256"]
    assert payload["on_time"] is True and payload["version"] == 1
    assert payload["warnings"][0]["code"] == "rule_violation"

    async def raised_here():
        events = await stack.intake_events(DIFFICULTY_RAISED)
        return [e for e in events if e["payload"]["report_id"] == created["report_id"]]

    raised = await eventually(raised_here)
    assert [e["payload"]["text"] for e in raised] == body["vuong_mac"]


async def test_first_submission_after_the_deadline_is_late(stack):
    stack.clock.advance(timedelta(days=30))
    answer = await stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit("18118"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["on_time"] is False
    assert "gửi muộn" in answer.json()["receipt"]["text"]
    metrics = (await stack.http.get("/metrics")).text
    assert 'danvan_reports_submitted_total{period_id="2023-H1",timeliness="late"} 1.0' in metrics
