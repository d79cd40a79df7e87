"""Bad input gets a clear JSON error (status, stable code, Vietnamese text) and writes nothing."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from typing import Any

import pytest

from shared.contracts.registry import PeriodChanged, PeriodState
from tests.integration.intake.conftest import ward_body
from tests.support.reports import full_report

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _refused(stack, status: int, code: str, **request) -> dict[str, Any]:
    before = await stack.counts()
    answer = await stack.http.request(request.pop("method", "POST"), "/v1/reports", **request)
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and not error["message"].isascii()  # Vietnamese
    assert await stack.counts() == before, "a refused request wrote something"
    return error


async def test_unknown_period_is_404(stack):
    body = ward_body(period_id="2031-H1")
    await _refused(stack, 404, "period_not_found", json=body, headers=stack.unit("18115"))


async def test_malformed_json_is_400(stack):
    headers = {**stack.unit("18115"), "Content-Type": "application/json"}
    await _refused(
        stack, 400, "malformed_json", content=b'{"period_id": "2023-H1",', headers=headers
    )


async def test_wrong_types_are_422(stack):
    await _refused(stack, 422, "invalid_request", json=["2023-H1"], headers=stack.unit("18115"))
    error = await _refused(
        stack, 422, "validation_failed", json=ward_body(period_id=2023), headers=stack.unit("18115")
    )
    assert error["issues"][0]["path"] == "period_id"
    body = ward_body(sections={**ward_body()["sections"], "1": {"narrative": 5, "indicators": []}})
    error = await _refused(stack, 422, "validation_failed", json=body, headers=stack.unit("18115"))
    assert {i["code"] for i in error["issues"]} == {"wrong_type"}


async def test_missing_expired_or_forged_tokens_are_401(stack):
    await _refused(stack, 401, "missing_token", json=ward_body())
    forged = {"Authorization": "Bearer not-a-token"}
    await _refused(stack, 401, "invalid_token", json=ward_body(), headers=forged)
    expired = stack.mint.headers("unit", "18115", ttl=timedelta(seconds=-60))
    await _refused(stack, 401, "token_expired", json=ward_body(), headers=expired)


async def test_only_units_expected_in_the_period_may_submit(stack):
    await _refused(stack, 403, "unit_not_expected", json=ward_body(), headers=stack.unit("CATX"))
    await _refused(stack, 403, "forbidden", json=ward_body(), headers=stack.reviewer())


async def test_a_closed_period_takes_no_reports(stack):
    period = (await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit("18115"))).json()[
        "period"
    ]
    closed = PeriodState(
        period_id="2023-Y",
        kind="annual",
        year=2023,
        title=period["title"],
        form_id="dvcq-dinh-ky",
        form_version="2023.2",
        due_at=period["due_at"],
        status="closed",
        expected_units=[{"code": "18115", "name": "UBND phường Bắc Hồng", "kind": "ward"}],
        version=2,
    )
    await stack.publish(PeriodChanged.new(closed, producer="registry"))
    await stack.wait_period("2023-Y", version=2)
    body = full_report("2023-Y")
    await _refused(stack, 409, "period_closed", json=body, headers=stack.unit("18115"))


async def test_three_different_problems_come_back_together(stack):
    sections = ward_body()["sections"]
    sections["1"]["indicators"]["van_ban_ban_hanh"] = -1  # out of range
    sections["4"]["indicators"]["ho_so_tthc_qua_han"] = 100  # 1180 + 100 > 1200
    body = ward_body(sections=sections, phuong_huong="  ", la_gi="?")  # required; unknown
    error = await _refused(stack, 422, "validation_failed", json=body, headers=stack.unit("18115"))
    codes = sorted((i["path"], i["code"]) for i in error["issues"])
    assert codes == [
        ("la_gi", "unknown_field"),
        ("phuong_huong", "required"),
        ("sections.1.indicators.van_ban_ban_hanh", "out_of_range"),
        ("sections.4.indicators.ho_so_tthc_qua_han", "rule_violation"),
    ]
    assert all(i["label"] and i["message"] for i in error["issues"])
    assert [w["field"] for w in error["warnings"]] == ["sai_pham_xu_ly"]


async def test_control_characters_are_refused_and_nfd_text_is_stored_as_nfc(stack):
    body = ward_body(ton_tai_han_che="Còn hạn chế\x07")
    error = await _refused(stack, 422, "validation_failed", json=body, headers=stack.unit("18121"))
    assert error["issues"][0]["code"] == "control_character"

    nfd = unicodedata.normalize("NFD", "Tiếp tục đẩy mạnh cải cách hành chính.")
    mixed = "Phường " + unicodedata.normalize("NFD", "Bắc Hồng")
    answer = await stack.http.post(
        "/v1/reports",
        json=ward_body(phuong_huong=nfd, ton_tai_han_che=mixed),
        headers=stack.unit("18121"),
    )
    assert answer.status_code == 201, answer.text
    report = (await stack.http.get(answer.headers["location"], headers=stack.unit("18121"))).json()
    assert report["content"]["phuong_huong"] == unicodedata.normalize("NFC", nfd)
    assert report["content"]["ton_tai_han_che"] == "Phường Bắc Hồng"


async def test_oversized_body_is_413_whether_declared_or_streamed(stack):
    body = ward_body(ton_tai_han_che="x" * 2_000_000)
    await _refused(stack, 413, "payload_too_large", json=body, headers=stack.unit("18115"))
    raw = json.dumps(body).encode()

    async def chunks():  # no Content-Length: sent with chunked transfer encoding
        for start in range(0, len(raw), 65536):
            yield raw[start : start + 65536]

    headers = {**stack.unit("18115"), "Content-Type": "application/json"}
    await _refused(stack, 413, "payload_too_large", content=chunks(), headers=headers)


async def test_a_second_submission_is_409_pointing_to_the_first(stack):
    first = await stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit("18124"))
    assert first.status_code == 201
    error = await _refused(
        stack, 409, "report_exists", json=ward_body(), headers=stack.unit("18124")
    )
    assert error["details"]["report_id"] == first.json()["report_id"]


async def test_listing_bounds_are_422_not_a_database_error(stack):
    for path in ("/v1/reports", "/v1/difficulties"):
        for query in ("offset=9223372036854775808", "offset=-1", "limit=0", "limit=1001"):
            answer = await stack.http.get(f"{path}?{query}", headers=stack.reviewer())
            assert answer.status_code == 422, (path, query, answer.text)
            assert answer.json()["error"]["code"] == "invalid_request"
