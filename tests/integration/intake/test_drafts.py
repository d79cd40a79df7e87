"""Drafts: saved as they are with their problems, kept across restarts, seen by nobody but
their unit, never a submission; and a head start from last period's report."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.intake import db
from services.intake.app import create_app
from shared.clock import VN_TZ
from shared.contracts.registry import PeriodChanged, PeriodState
from tests.integration.intake.conftest import intake_settings, ward_body
from tests.support.http import serve_app
from tests.support.reports import full_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

DRAFT = "/v1/periods/2023-Y/draft"
PARTIAL: dict[str, Any] = {
    "sections": {
        "1": {"narrative": "Đã ban hành kế hoạch.", "indicators": {"van_ban_ban_hanh": "ba"}},
        "7": {"narrative": "Giải quyết hồ sơ\x00", "indicators": {}},
    },
    "vuong_mac": ["Chưa rõ cách tính số hội nghị đối thoại."],
}


def _codes(draft: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["path"], i["code"]) for i in draft["issues"]}


async def test_a_draft_is_saved_with_its_problems_and_survives_a_restart(stack):
    unit = stack.unit("18115")

    def app() -> Any:
        settings = intake_settings(stack.database_url, stack.nats_url)
        return create_app(settings, clock=stack.clock, key_source=stack.mint.key_source())

    async with serve_app(app()) as base, httpx.AsyncClient(base_url=base) as first:
        saved = await first.put(DRAFT, json=PARTIAL, headers=unit)
        assert saved.status_code == 200, saved.text
        draft = saved.json()
    assert draft["content"] == PARTIAL  # kept as written, invalid parts included
    assert (draft["period_id"], draft["unit_code"], draft["revision"]) == ("2023-Y", "18115", 1)
    assert draft["ready"] is False and draft["report_id"] is None
    assert {
        ("sections.1.indicators.van_ban_ban_hanh", "wrong_type"),
        ("sections.7.narrative", "control_character"),
        ("sections.2.narrative", "required"),
        ("sections.8.lanh_dao_phu_trach", "required"),
        ("phuong_huong", "required"),
    } <= _codes(draft)
    assert all(i["message"] and not i["message"].isascii() for i in draft["issues"])

    # A new intake process on the same database finds the draft as it was saved.
    async with serve_app(app()) as base, httpx.AsyncClient(base_url=base) as second:
        again = await second.get(DRAFT, headers=unit)
        assert again.status_code == 200, again.text
        assert again.json() == draft
        fixed = {**PARTIAL, "sections": {"1": {"narrative": "Đã ban hành kế hoạch."}}}
        resaved = (await second.put(DRAFT, json=fixed, headers=unit)).json()
    assert resaved["revision"] == 2 and resaved["content"] == fixed
    assert ("sections.1.indicators.van_ban_ban_hanh", "wrong_type") not in _codes(resaved)


async def test_a_draft_is_not_a_submission_and_only_its_unit_reaches_it(stack):
    unit = stack.unit("18118")
    before = await stack.counts()
    stream_before = (await stack.js.stream_info("DANVAN_INTAKE")).state.last_seq
    draft = await stack.http.put(DRAFT, json=PARTIAL, headers=unit)
    assert draft.status_code == 200, draft.text
    # No report, version, vướng mắc, audit line or event: completeness, reminders and
    # reviewers, who all learn from intake's events and reports, have nothing to see.
    assert await stack.counts() == {**before, "drafts": before["drafts"] + 1}
    assert await stack.count(db.drafts, unit_code="18118") == 1
    assert (await stack.js.stream_info("DANVAN_INTAKE")).state.last_seq == stream_before
    listed = await stack.http.get("/v1/reports?period_id=2023-Y", headers=stack.reviewer())
    assert "18118" not in {r["unit_code"] for r in listed.json()}
    threads = await stack.http.get("/v1/difficulties?unit_code=18118", headers=stack.reviewer())
    assert threads.json() == []

    # Reviewers do not read drafts; another unit reaches only its own (it has none).
    assert (await stack.http.get(DRAFT, headers=stack.reviewer())).status_code == 403
    other = await stack.http.get(DRAFT, headers=stack.unit("18121"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "draft_not_found"
    assert "bản nháp" in other.json()["error"]["message"]

    # Sending the report removes the draft; so does sending a new version.
    sent = await stack.http.post("/v1/reports", json=full_report("2023-Y"), headers=unit)
    assert sent.status_code == 201, sent.text
    assert (await stack.http.get(DRAFT, headers=unit)).status_code == 404
    redraft = (await stack.http.put(DRAFT, json=PARTIAL, headers=unit)).json()
    assert redraft["report_id"] == sent.json()["report_id"]
    amended = await stack.http.put(
        f"/v1/reports/{redraft['report_id']}", json=full_report("2023-Y"), headers=unit
    )
    assert amended.status_code == 200, amended.text
    assert await stack.count(db.drafts, unit_code="18118") == 0


async def test_bad_drafts_get_clear_errors_and_change_nothing(stack):
    unit = stack.unit("18124")

    async def refused(status: int, code: str, **request: Any) -> None:
        path = request.pop("path", DRAFT)
        method = request.pop("method", "PUT")
        answer = await stack.http.request(method, path, **request)
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["code"] == code and not error["message"].isascii()
        assert await stack.count(db.drafts, unit_code="18124") == 0

    huge = {"sections": {"1": {"narrative": "x" * 1_100_000}}}
    await refused(413, "payload_too_large", json=huge, headers=unit)
    chunked = json.dumps(huge).encode()

    async def chunks():
        for start in range(0, len(chunked), 65536):
            yield chunked[start : start + 65536]

    headers = {**unit, "Content-Type": "application/json"}
    await refused(413, "payload_too_large", content=chunks(), headers=headers)
    await refused(422, "invalid_request", json=["không phải bản nháp"], headers=unit)
    await refused(400, "malformed_json", content=b'{"sections":', headers=headers)
    await refused(404, "period_not_found", path="/v1/periods/2031-Y/draft", json={}, headers=unit)
    await refused(403, "unit_not_expected", json={}, headers=stack.unit("CATX"))
    await refused(403, "forbidden", json={}, headers=stack.reviewer())
    await refused(401, "missing_token", json={})


async def test_prefill_copies_last_periods_narratives_but_no_figures(stack):
    unit = stack.unit("18127")
    missing = await stack.http.post(f"{DRAFT}/prefill", headers=unit)
    assert missing.status_code == 404, missing.text
    error = missing.json()["error"]
    assert error["code"] == "no_earlier_report"
    assert error["message"] == (
        "Đơn vị chưa có báo cáo định kỳ nào của kỳ trước để dùng làm bản nháp."
    )

    h1 = ward_body(ton_tai_han_che="Một số hồ sơ còn quá hạn.", vuong_mac=["Câu hỏi kỳ trước."])
    sent = await stack.http.post("/v1/reports", json=h1, headers=unit)
    assert sent.status_code == 201, sent.text
    # The clerk already wrote section 1 of the annual report: it stays.
    await stack.http.put(
        DRAFT,
        json={"sections": {"1": {"narrative": "Đã viết.", "indicators": {"van_ban_ban_hanh": 7}}}},
        headers=unit,
    )
    answer = await stack.http.post(f"{DRAFT}/prefill", headers=unit)
    assert answer.status_code == 200, answer.text
    draft = answer.json()
    sections = draft["content"]["sections"]
    assert sections["1"] == {"narrative": "Đã viết.", "indicators": {"van_ban_ban_hanh": 7}}
    # 2023.1's section 4 (cải cách hành chính) is 2023.2's section 7; its figures stay empty.
    assert sections["7"] == {"narrative": h1["sections"]["4"]["narrative"], "indicators": {}}
    assert sections["2"]["narrative"] == h1["sections"]["2"]["narrative"]
    assert all(part["indicators"] == {} for key, part in sections.items() if key != "1")
    assert "3" not in sections and "5" not in sections  # 2023.2's new task areas: nothing to copy
    assert draft["content"]["ton_tai_han_che"] == "Một số hồ sơ còn quá hạn."
    assert "vuong_mac" not in draft["content"]
    source = draft["prefilled_from"]
    assert (source["report_id"], source["period_id"], source["version"]) == (
        sent.json()["report_id"],
        "2023-H1",
        1,
    )
    assert (
        "sections.7.narrative" in source["filled"]
        and "sections.1.narrative" not in source["filled"]
    )
    assert ("sections.3.narrative", "required") in _codes(draft)
    kept = (await stack.http.get(DRAFT, headers=unit)).json()
    assert kept["content"] == draft["content"] and kept["prefilled_from"] == source


async def test_an_ad_hoc_period_has_no_head_start(stack):
    period = PeriodState(
        period_id="2023-DX09",
        kind="ad_hoc",
        year=2023,
        title="Báo cáo đột xuất về tiếp công dân",
        form_id="dvcq-dot-xuat",
        form_version="2023.1",
        due_at=datetime(2023, 7, 1, tzinfo=VN_TZ),
        status="open",
        expected_units=[{"code": "18130", "name": "UBND xã Thuận Lộc", "kind": "commune"}],
        version=1,
    )
    await stack.publish(PeriodChanged.new(period, producer="registry"))
    await stack.wait_period("2023-DX09")
    answer = await stack.http.post(
        "/v1/periods/2023-DX09/draft/prefill", headers=stack.unit("18130")
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "prefill_not_periodic"
    saved = await stack.http.put(
        "/v1/periods/2023-DX09/draft",
        json={"noi_dung": "Đang tổng hợp."},
        headers=stack.unit("18130"),
    )
    assert saved.status_code == 200 and saved.json()["ready"] is True
