"""Each vướng mắc becomes a thread Phòng Nội vụ answers; both directions are events."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts.intake import DIFFICULTY_ANSWERED, DIFFICULTY_RAISED
from tests.integration.intake.conftest import ward_body
from tests.support.http import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIRST = "Chưa có hướng dẫn chấm điểm mô hình Dân vận khéo."
SECOND = "Kinh phí tổ chức đối thoại còn hạn chế."


async def test_difficulties_are_raised_once_answered_and_seen_by_their_unit(stack):
    unit = stack.unit("18115")
    created = await stack.http.post(
        "/v1/reports", json=ward_body(vuong_mac=[FIRST, FIRST]), headers=unit
    )
    assert created.status_code == 201, created.text
    await stack.http.post(
        "/v1/reports", json=ward_body(vuong_mac=["Khác"]), headers=stack.unit("18118")
    )
    report_id = created.json()["report_id"]
    amended = await stack.http.put(
        f"/v1/reports/{report_id}", json=ward_body(vuong_mac=[FIRST, SECOND]), headers=unit
    )
    assert amended.status_code == 200, amended.text

    own = (await stack.http.get("/v1/difficulties", headers=unit)).json()
    assert [(d["text"], d["raised_in_version"]) for d in own] == [(FIRST, 1), (SECOND, 2)]
    everyone = (await stack.http.get("/v1/difficulties", headers=stack.reviewer())).json()
    assert len(everyone) == 3

    target = own[0]["difficulty_id"]
    refused = await stack.http.post(
        f"/v1/difficulties/{target}/answer", json={"answer": "Tự trả lời"}, headers=unit
    )
    assert refused.status_code == 403
    empty = await stack.http.post(
        f"/v1/difficulties/{target}/answer", json={"answer": " "}, headers=stack.reviewer()
    )
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "answer_required"
    missing = await stack.http.post(
        "/v1/difficulties/khong-co/answer", json={"answer": "x"}, headers=stack.reviewer()
    )
    assert missing.status_code == 404

    answer = "Áp dụng Hướng dẫn số 12-HD/BDVTU của Ban Dân vận Thị ủy."
    answered = await stack.http.post(
        f"/v1/difficulties/{target}/answer", json={"answer": answer}, headers=stack.reviewer()
    )
    assert answered.status_code == 200, answered.text
    seen = (await stack.http.get("/v1/difficulties?answered=true", headers=unit)).json()
    assert [(d["answer"], d["answered_by"]) for d in seen] == [(answer, "pnv")]

    raised = await eventually(lambda: _count(stack, DIFFICULTY_RAISED, 3))
    assert sorted(e["payload"]["text"] for e in raised) == sorted([FIRST, SECOND, "Khác"])
    answers = await eventually(lambda: _count(stack, DIFFICULTY_ANSWERED, 1))
    assert answers[0]["payload"]["answer"] == answer
    assert answers[0]["payload"]["difficulty_id"] == target


async def _count(stack, subject: str, count: int) -> list[dict[str, Any]] | None:
    events = await stack.intake_events(subject)
    return events if len(events) >= count else None
