"""Forms served to clients, the form cut to the calling unit, and ad-hoc reports."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.clock import VN_TZ
from shared.contracts.registry import PeriodChanged, PeriodState
from tests.support.reports import full_report

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_form_definition_is_served_for_any_client(stack):
    form = (await stack.http.get("/v1/forms/dvcq-dinh-ky/2023.1")).json()
    assert form["form_id"] == "dvcq-dinh-ky" and len(form["sections"]) == 9
    first = form["sections"][0]["indicators"][0]
    assert first["code"] == "van_ban_ban_hanh" and first["type"] == "count"
    missing = await stack.http.get("/v1/forms/dvcq-dinh-ky/1999.1")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "form_not_found"


async def test_the_period_form_leaves_out_what_does_not_apply_to_the_unit(stack):
    ward = (await stack.http.get("/v1/periods/2023-H1/form", headers=stack.unit("18115"))).json()
    assert ward["unit"]["kind"] == "ward"
    assert ward["period"]["due_text"] == "Trước ngày 10/06/2023"
    assert [s["number"] for s in ward["form"]["sections"]] == [1, 2, 3, 4, 5, 6, 7, 8]

    centre = (await stack.http.get("/v1/periods/2023-H1/form", headers=stack.unit("TTVHTT"))).json()
    sections = {s["number"]: s for s in centre["form"]["sections"]}
    assert 9 in sections  # culture/communication units report broadcasts
    assert "nhan_dan_dong_gop" not in {i["code"] for i in sections[6]["indicators"]}

    stranger = await stack.http.get("/v1/periods/2023-H1/form", headers=stack.unit("CATX"))
    assert stranger.status_code == 403
    unknown = await stack.http.get("/v1/periods/2099-H1/form", headers=stack.unit("18115"))
    assert unknown.json()["error"]["code"] == "period_not_found"


async def test_the_2023_y_form_asks_about_grassroots_democracy_and_religion(stack):
    ward = (await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit("18115"))).json()
    assert ward["form"]["version"] == "2023.2"
    sections = {s["title"]: s for s in ward["form"]["sections"]}
    democracy = {i["code"]: i["label"] for i in sections["Thực hiện dân chủ ở cơ sở"]["indicators"]}
    assert democracy["dan_chu_hoi_nghi_doi_thoai"] == (
        "Số hội nghị đối thoại giữa Chủ tịch Ủy ban nhân dân với Nhân dân"
    )
    religion = sections["Công tác tín ngưỡng, tôn giáo"]
    assert "ton_giao_co_so" in {i["code"] for i in religion["indicators"]}
    # A department reports on its own staff and has no religion section.
    department = await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit("PTP"))
    titles = {s["title"]: s for s in department.json()["form"]["sections"]}
    assert "Công tác tín ngưỡng, tôn giáo" not in titles
    staff = {i["code"] for i in titles["Thực hiện dân chủ ở cơ sở"]["indicators"]}
    assert "dan_chu_hoi_nghi_can_bo" in staff and "dan_chu_hoi_nghi_doi_thoai" not in staff
    # 2023-H1 keeps the form it was opened with.
    h1 = (await stack.http.get("/v1/periods/2023-H1/form", headers=stack.unit("18115"))).json()
    assert h1["form"]["version"] == "2023.1"


async def test_carried_over_tthc_files_are_accepted_with_a_warning(stack):
    body = full_report("2023-Y")
    body["sections"]["7"]["indicators"] = {
        "ho_so_tthc_tiep_nhan": 200,
        "ho_so_tthc_dung_han": 190,
        "ho_so_tthc_qua_han": 25,  # 15 files came from the previous period
    }
    answer = await stack.http.post("/v1/reports", json=body, headers=stack.unit("18127"))
    assert answer.status_code == 201, answer.text
    (warning,) = answer.json()["warnings"]
    assert warning["path"] == "sections.7.indicators.ho_so_tthc_qua_han"
    assert "tồn kỳ trước chuyển sang" in warning["message"]


async def test_an_ad_hoc_report_has_its_own_body(stack):
    period = PeriodState(
        period_id="2023-DX01",
        kind="ad_hoc",
        year=2023,
        title="Báo cáo đột xuất về tiếp công dân",
        form_id="dvcq-dot-xuat",
        form_version="2023.1",
        due_at=datetime(2023, 7, 1, tzinfo=VN_TZ),
        status="open",
        content="Báo cáo tình hình tiếp công dân quý II.",
        expected_units=[{"code": "18115", "name": "UBND phường Bắc Hồng", "kind": "ward"}],
        version=1,
    )
    await stack.publish(PeriodChanged.new(period, producer="registry"))
    await stack.wait_period("2023-DX01")
    unit = stack.unit("18115")

    wrong = await stack.http.post(
        "/v1/reports",
        json={"period_id": "2023-DX01", "sections": {}, "noi_dung": "x"},
        headers=unit,
    )
    assert wrong.status_code == 422
    assert [i["code"] for i in wrong.json()["error"]["issues"]] == ["unknown_field"]

    body = {
        "period_id": "2023-DX01",
        "noi_dung": "Đã tiếp 45 lượt công dân.",
        "vuong_mac": ["Thiếu cán bộ tiếp dân."],
    }
    answer = await stack.http.post("/v1/reports", json=body, headers=unit)
    assert answer.status_code == 201, answer.text
    report = (await stack.http.get(answer.headers["location"], headers=unit)).json()
    assert report["form_id"] == "dvcq-dot-xuat"
    assert report["content"] == {
        "noi_dung": "Đã tiếp 45 lượt công dân.",
        "vuong_mac": body["vuong_mac"],
    }
