"""Phòng Nội vụ's dashboard: completeness, review, "Đôn đốc ngay", downloads; leaders read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import NOW, FakeSystem, error

PERIOD = "/theo-doi/2023-H1"


def submitted_report(system: FakeSystem, unit_code: str = "18115") -> dict[str, Any]:
    report: dict[str, Any] = {
        "report_id": "r-18115",
        "period_id": "2023-H1",
        "unit_code": unit_code,
        "unit_name": "UBND phường Bắc Hồng",
        "status": "submitted",
        "version": 1,
        "form_id": "dvcq-dinh-ky",
        "form_version": "2023.1",
        "first_submitted_at": NOW.isoformat(),
        "submitted_at": NOW.isoformat(),
        "on_time": True,
        "review": None,
        "withdrawn_at": None,
        "content": {"sections": {}, "ton_tai_han_che": "Còn chậm", "vuong_mac": []},
        "content_sha256": "ab" * 32,
        "warnings": [],
    }
    system.reports[report["report_id"]] = report
    return report


async def test_the_reviewer_dashboard_lists_the_missing_units(
    browser: Browser, system: FakeSystem
) -> None:
    submitted_report(system)
    response = await browser.login("pnv")
    assert response.headers["location"] == "/"
    overview = await browser.client.get("/", headers={"accept": "text/html"})
    assert overview.headers["location"] == "/theo-doi"
    cards = (await browser.page("/theo-doi")).text
    assert "Đã gửi 1/3 đơn vị" in cards
    page = (await browser.page(PERIOD)).text
    missing = page[page.index('id="chua-gui"') : page.index('id="tung-don-vi"')]
    assert "Đơn vị chưa gửi báo cáo (2)" in missing
    assert "UBND phường Nam Hồng" in missing
    assert "Phòng Văn hóa - Thông tin" in missing
    assert "UBND phường Bắc Hồng" not in missing
    assert 'href="/bao-cao/r-18115"' in page
    assert "Xem và xét duyệt" in page
    assert "Đôn đốc ngay" in page
    assert "trước ngày 10/06/2023" in page


async def test_a_withdrawn_report_shows_đã_rút_with_a_link_on_the_dashboard(
    browser: Browser, system: FakeSystem
) -> None:
    report = submitted_report(system)
    report["status"] = "withdrawn"
    report["withdrawn_at"] = NOW.isoformat()
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    row = page[page.index("UBND phường Bắc Hồng <small>(18115)</small></th>") :]
    row = row[: row.index("</tr>")]
    assert "Đã rút" in row and 'href="/bao-cao/r-18115"' in row
    assert "· đã rút báo cáo" in page  # still among the units to urge


async def test_urging_now_posts_to_reminders_with_a_request_key(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    request_id = Browser.hidden(page, "request_id")
    form = {
        "csrf_token": Browser.hidden(page, "csrf_token"),
        "request_id": request_id,
        "unit_codes": ["18118", "PVHTT"],
        "unit_names": ["UBND phường Nam Hồng", "Phòng Văn hóa - Thông tin"],
    }
    response = await browser.client.post(f"{PERIOD}/don-doc", data=form)
    assert response.status_code == 303
    [sent] = system.sent("POST", "/v1/periods/2023-H1/remind")
    assert sent.body == {}  # nobody ticked: every missing unit
    assert sent.headers["idempotency-key"] == request_id
    after = (await browser.page(response.headers["location"])).text
    assert "Đã gửi yêu cầu đôn đốc tới 2 đơn vị." in after

    form["units"] = ["18118"]
    await browser.client.post(f"{PERIOD}/don-doc", data=form)
    assert system.sent("POST", "/v1/periods/2023-H1/remind")[1].body == {"units": ["18118"]}


async def test_urging_without_csrf_is_refused(browser: Browser, system: FakeSystem) -> None:
    await browser.login("pnv")
    response = await browser.client.post(
        f"{PERIOD}/don-doc", data={"request_id": "x"}, headers={"accept": "text/html"}
    )
    assert response.status_code == 403
    assert system.sent("POST", "/v1/periods/2023-H1/remind") == []


async def test_a_reviewer_accepts_or_returns_a_report_with_a_reason(
    browser: Browser, system: FakeSystem
) -> None:
    submitted_report(system)
    await browser.login("pnv")
    page = (await browser.page("/bao-cao/r-18115")).text
    assert "Xét duyệt báo cáo" in page
    token = Browser.hidden(page, "csrf_token")
    refused = await browser.client.post(
        "/bao-cao/r-18115/xet-duyet",
        data={"csrf_token": token, "decision": "returned", "reason": " ", "version": "1"},
    )
    assert refused.status_code == 422
    assert "Vui lòng ghi lý do trả lại" in refused.text
    assert system.sent("POST", "/v1/reports/r-18115/review") == []
    response = await browser.client.post(
        "/bao-cao/r-18115/xet-duyet",
        data={
            "csrf_token": token,
            "decision": "returned",
            "reason": "Bổ sung số liệu mục 4",
            "version": "1",
        },
    )
    assert response.status_code == 303
    [sent] = system.sent("POST", "/v1/reports/r-18115/review")
    assert sent.body == {"decision": "returned", "reason": "Bổ sung số liệu mục 4", "version": 1}
    after = (await browser.page(response.headers["location"])).text
    assert "Đã trả lại báo cáo của UBND phường Bắc Hồng" in after


@pytest.mark.parametrize("reader", ["lanhdao", "tichhop"])  # a leader, a service account
async def test_a_leader_reads_the_dashboard_but_cannot_urge_or_review(
    browser: Browser, system: FakeSystem, reader: str
) -> None:
    # Reading is one permission (READ_REPORTS) in every backend and the portal alike.
    submitted_report(system)
    await browser.login(reader)
    page = (await browser.page(PERIOD)).text
    assert "UBND phường Nam Hồng" in page
    assert "Đôn đốc ngay" not in page
    assert "Xem và xét duyệt" not in page
    report = (await browser.page("/bao-cao/r-18115")).text
    assert "Xét duyệt báo cáo" not in report
    token = Browser.hidden(page, "csrf_token")
    urge = await browser.client.post(
        f"{PERIOD}/don-doc", data={"csrf_token": token}, headers={"accept": "text/html"}
    )
    assert urge.status_code == 403
    review = await browser.client.post(
        "/bao-cao/r-18115/xet-duyet",
        data={"csrf_token": token, "decision": "accepted"},
        headers={"accept": "text/html"},
    )
    assert review.status_code == 403
    # Nothing reached a backend but the leader's own sign-in.
    assert [(r.method, r.path) for r in system.requests] == [("POST", "/v1/auth/token")]


async def test_without_consolidation_the_dashboard_says_so_and_counts_nothing_itself(
    browser: Browser, system: FakeSystem
) -> None:
    # Completeness is consolidation's: the portal shows what it says, or that it cannot say,
    # never figures of its own.
    system.consolidation_ready = False
    submitted_report(system)
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    assert "Dịch vụ tổng hợp chưa trả lời nên chưa xem được số đơn vị đã gửi báo cáo" in page
    assert "Chức năng này của dịch vụ tổng hợp chưa sẵn sàng" in page  # why, as it said
    assert "6 tháng đầu năm 2023" in page and "trước ngày 10/06/2023" in page
    assert 'id="chua-gui"' not in page and 'id="tung-don-vi"' not in page
    assert "Phải báo cáo" not in page
    assert "Đổi hạn gửi" in page  # what needs no figures still works
    assert "Traceback" not in page
    cards = (await browser.page("/theo-doi")).text
    assert "Dịch vụ tổng hợp chưa trả lời" in cards
    assert 'href="/theo-doi/2023-H1"' in cards and 'href="/theo-doi/2023-Y"' in cards
    assert "Đã gửi" not in cards


async def test_a_period_consolidation_has_not_heard_of_yet_says_to_wait(
    browser: Browser, system: FakeSystem
) -> None:
    system.refusals[("GET", "/v1/periods/2023-H1/completeness")] = error(
        404, "period_not_found", "Không tìm thấy kỳ báo cáo «2023-H1»."
    )
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    assert "Dịch vụ tổng hợp chưa có số liệu của kỳ này" in page
    assert "6 tháng đầu năm 2023" in page
    assert 'id="chua-gui"' not in page


async def test_the_dashboard_shows_consolidations_labels_and_counts(
    browser: Browser, system: FakeSystem
) -> None:
    report = submitted_report(system)
    report["status"] = "returned"
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    by_kind = page[page.index('id="theo-loai"') : page.index('id="tung-don-vi"')]
    assert ">Phường</th>" in by_kind and ">Phòng, ban</th>" in by_kind
    assert by_kind.index("Phường") < by_kind.index("Phòng, ban")  # consolidation's order
    row = page[page.index("UBND phường Bắc Hồng <small>(18115)</small></th>") :]
    assert "Trả lại, chờ bổ sung" in row[: row.index("</tr>")]
    assert "Chưa gửi" in page
    assert "Số liệu từ ngày 15/12/2022 đến ngày 14/06/2023" in page  # consolidation's window


async def test_a_missing_reminders_endpoint_becomes_a_notice_not_an_error(
    browser: Browser, system: FakeSystem
) -> None:
    system.reminders_ready = False
    await browser.login("pnv")
    page = (await browser.page(PERIOD)).text
    form = {"csrf_token": Browser.hidden(page, "csrf_token"), "request_id": "abc"}
    response = await browser.client.post(f"{PERIOD}/don-doc", data=form)
    assert response.status_code == 303
    after = (await browser.page(PERIOD)).text
    assert "Chức năng này của dịch vụ đôn đốc chưa sẵn sàng" in after


async def test_documents_are_passed_through_and_a_missing_one_becomes_a_notice(
    browser: Browser,
) -> None:
    await browser.login("pnv")
    docx = await browser.client.get(f"{PERIOD}/bao-cao-tong-hop.docx")
    assert docx.status_code == 200
    assert docx.content == b"PK-fake-docx"
    assert 'filename="2023-H1.docx"' in docx.headers["content-disposition"]
    xlsx = await browser.client.get(f"{PERIOD}/bao-cao-tong-hop.xlsx")
    assert xlsx.status_code == 303  # the fake has no .xlsx: back to the dashboard
    page = (await browser.page(xlsx.headers["location"])).text
    assert re.search(r"Chức năng này của dịch vụ tổng hợp chưa sẵn sàng", page)


async def test_a_unit_account_cannot_open_the_dashboard(browser: Browser) -> None:
    await browser.login("18115")
    response = await browser.page(PERIOD)
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.text
