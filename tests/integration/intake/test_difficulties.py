"""Each vướng mắc becomes a thread Phòng Nội vụ answers; both directions are events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.contracts.intake import DIFFICULTY_ANSWERED, DIFFICULTY_FOLLOWED_UP, DIFFICULTY_RAISED
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


async def _events(stack, subject: str, difficulty_id: str) -> list[dict[str, Any]]:
    return [
        e["payload"]
        for e in await stack.intake_events(subject)
        if e["payload"]["difficulty_id"] == difficulty_id
    ]


async def test_a_difficulty_is_raised_at_any_time_and_followed_up_by_both_sides(stack):
    unit = stack.unit("18121")
    question = "Đơn vị có phải báo cáo riêng hội nghị đối thoại trực tuyến không?"
    created = await stack.http.post(
        "/v1/difficulties", json={"text": f"  {question} "}, headers=unit
    )
    assert created.status_code == 201, created.text
    thread = created.json()
    assert created.headers["location"] == f"/v1/difficulties/{thread['difficulty_id']}"
    # Outside any report, filed under the unit's period due next.
    assert (thread["report_id"], thread["raised_in_version"], thread["period_id"]) == (
        None,
        None,
        "2023-H1",
    )
    assert (thread["text"], thread["open"], thread["answered"], thread["age_days"]) == (
        question,
        True,
        False,
        0,
    )
    assert [(m["side"], m["text"]) for m in thread["messages"]] == [("unit", question)]
    named = await stack.http.post(
        "/v1/difficulties",
        json={"period_id": "2023-Y", "text": "Câu hỏi cho kỳ năm."},
        headers=unit,
    )
    assert named.status_code == 201 and named.json()["period_id"] == "2023-Y"

    # The dashboard's list: open threads and how long they have waited.
    stack.clock.advance(timedelta(days=3, hours=2))
    waiting = await stack.http.get("/v1/difficulties?open=true", headers=stack.reviewer())
    ages = {t["difficulty_id"]: t["age_days"] for t in waiting.json()}
    assert ages[thread["difficulty_id"]] == 3

    target = f"/v1/difficulties/{thread['difficulty_id']}"
    answered = await stack.http.post(
        f"{target}/messages", json={"text": "Có, ghi ở mục 5."}, headers=stack.reviewer()
    )
    assert answered.status_code == 201, answered.text
    assert (answered.json()["open"], answered.json()["answered"]) == (False, True)
    assert answered.json()["age_days"] is None
    followed = await stack.http.post(
        f"{target}/messages", json={"text": "Cả đối thoại qua Zalo?"}, headers=unit
    )
    assert followed.status_code == 201, followed.text
    assert followed.json()["open"] is True and followed.json()["answer"] == "Có, ghi ở mục 5."
    again = await stack.http.post(
        f"{target}/answer",
        json={"answer": "Không, chỉ đối thoại trực tiếp."},
        headers=stack.reviewer(),
    )
    assert again.status_code == 200, again.text
    read = (await stack.http.get(target, headers=unit)).json()
    assert [(m["side"], m["text"]) for m in read["messages"]] == [
        ("unit", question),
        ("office", "Có, ghi ở mục 5."),
        ("unit", "Cả đối thoại qua Zalo?"),
        ("office", "Không, chỉ đối thoại trực tiếp."),
    ]
    assert read["open"] is False and read["answer"] == "Không, chỉ đối thoại trực tiếp."
    not_waiting = await stack.http.get("/v1/difficulties?open=false", headers=unit)
    assert thread["difficulty_id"] in {t["difficulty_id"] for t in not_waiting.json()}

    raised = await eventually(
        lambda: _events(stack, DIFFICULTY_RAISED, thread["difficulty_id"]), timeout=15
    )
    assert raised[0]["report_id"] is None and raised[0]["period_id"] == "2023-H1"
    answers = await eventually(
        lambda: _count_for(stack, DIFFICULTY_ANSWERED, thread["difficulty_id"], 2), timeout=15
    )
    assert [a["answer"] for a in answers] == ["Có, ghi ở mục 5.", "Không, chỉ đối thoại trực tiếp."]
    [follow_up] = await eventually(
        lambda: _events(stack, DIFFICULTY_FOLLOWED_UP, thread["difficulty_id"]), timeout=15
    )
    assert follow_up["text"] == "Cả đối thoại qua Zalo?" and follow_up["unit_code"] == "18121"


async def _count_for(stack, subject: str, difficulty_id: str, count: int):
    found = await _events(stack, subject, difficulty_id)
    return found if len(found) >= count else None


async def test_bad_difficulties_get_clear_errors_and_change_nothing(stack):
    unit = stack.unit("18127")
    mine = await stack.http.post("/v1/difficulties", json={"text": "Của Đậu Liêu."}, headers=unit)
    assert mine.status_code == 201
    theirs = mine.json()["difficulty_id"]
    other = stack.unit("18130")

    async def refused(status: int, code: str, path: str, body: Any, headers: dict[str, str]):
        before = await stack.counts()
        answer = await stack.http.post(path, json=body, headers=headers)
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["code"] == code and not error["message"].isascii(), error
        assert await stack.counts() == before

    messages = f"/v1/difficulties/{theirs}/messages"
    await refused(404, "difficulty_not_found", messages, {"text": "Xen vào."}, other)
    assert (await stack.http.get(f"/v1/difficulties/{theirs}", headers=other)).status_code == 404
    for path, cap in (("/v1/difficulties", 10_000), (messages, 40_000)):
        await refused(422, "text_required", path, {"text": " \n "}, unit)
        await refused(422, "too_long", path, {"text": "x" * 5001}, unit)
        await refused(422, "invalid_request", path, {"text": "x" * (cap + 1)}, unit)
        await refused(422, "control_character", path, {"text": "Chuông\x07"}, unit)
        await refused(422, "invalid_request", path, {"text": 5}, unit)
        await refused(422, "invalid_request", path, {"text": "x", "la_gi": 1}, unit)
    await refused(
        404, "period_not_found", "/v1/difficulties", {"period_id": "2031-H1", "text": "x"}, unit
    )
    agency = stack.unit("CATX")  # outside the reporting duty: no period expects it
    named = {"period_id": "2023-H1", "text": "x"}
    await refused(403, "unit_not_expected", "/v1/difficulties", named, agency)
    await refused(409, "no_period_for_unit", "/v1/difficulties", {"text": "x"}, agency)
    await refused(403, "forbidden", "/v1/difficulties", {"text": "x"}, stack.reviewer())
    await refused(403, "forbidden", messages, {"text": "x"}, stack.mint.headers("leader"))
    await refused(422, "text_required", messages, {"text": ""}, stack.reviewer())


async def test_a_retried_difficulty_is_raised_once(stack):
    unit = {**stack.unit("18124"), "Idempotency-Key": "vuong-mac-1"}
    body = {"text": "Hỏi một lần."}
    first = await stack.http.post("/v1/difficulties", json=body, headers=unit)
    second = await stack.http.post("/v1/difficulties", json=body, headers=unit)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    reused = await stack.http.post("/v1/difficulties", json={"text": "Khác."}, headers=unit)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    mine = await stack.http.get("/v1/difficulties?unit_code=18124", headers=stack.reviewer())
    assert [t["text"] for t in mine.json()] == ["Hỏi một lần."]
