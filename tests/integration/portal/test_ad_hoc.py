"""Ad-hoc requests (báo cáo đột xuất): created by Phòng Nội vụ, answered by the units;
deadlines extended and periods closed from the dashboard."""

from __future__ import annotations

import html as html_lib

import httpx

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem, error

PAGE = "/yeu-cau-dot-xuat"


async def _create(browser: Browser, **overrides: object) -> tuple[str, httpx.Response]:
    page = (await browser.page(PAGE)).text
    data: dict[str, object] = {
        "csrf_token": Browser.hidden(page, "csrf_token"),
        "idempotency_key": Browser.hidden(page, "idempotency_key"),
        "title": "Kết quả tiếp xúc, đối thoại quý II",
        "content": "Báo cáo số cuộc đối thoại với Nhân dân và kiến nghị chưa giải quyết.",
        "due_date": "2023-06-20",
        "due_time": "17:00",
        "scope": "units",
        "units": ["18115", "18118"],
    }
    data.update(overrides)
    response = await browser.client.post(PAGE, data=data)
    return page, response


async def test_the_reviewer_creates_a_request_for_chosen_units_with_a_local_deadline(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page, created = await _create(browser)
    assert 'name="units" value="PVHTT"' in page  # units to choose come from the registry
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/theo-doi/2023-DX-01"
    (sent,) = system.sent("POST", "/v1/periods")
    assert sent.body == {
        "title": "Kết quả tiếp xúc, đối thoại quý II",
        "content": "Báo cáo số cuộc đối thoại với Nhân dân và kiến nghị chưa giải quyết.",
        "due_at": "2023-06-20T17:00:00+07:00",
        "scope": {"units": ["18115", "18118"]},
    }
    assert sent.headers["idempotency-key"] == Browser.hidden(page, "idempotency_key")
    dashboard = (await browser.page(created.headers["location"])).text
    assert "Đã tạo yêu cầu báo cáo đột xuất «Kết quả tiếp xúc, đối thoại quý II»" in (
        html_lib.unescape(dashboard)
    )
    assert "giao cho 2 đơn vị" in dashboard
    assert "trước 17:00 ngày 20/06/2023" in dashboard
    overview = (await browser.page("/theo-doi")).text
    assert 'href="/theo-doi/2023-DX-01"' in overview
    listing = (await browser.page(PAGE)).text
    assert "2023-DX-01" in listing and "Đang mở" in listing


async def test_a_ward_in_scope_answers_the_request_with_the_ad_hoc_form(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    await _create(browser)
    browser.client.cookies.clear()
    await browser.login("PVHTT")  # not chosen: does not see it
    assert "Kết quả tiếp xúc" not in (await browser.page("/")).text
    browser.client.cookies.clear()
    await browser.login("18115")
    home = (await browser.page("/")).text
    assert "Kết quả tiếp xúc, đối thoại quý II" in home and "Báo cáo đột xuất" in home
    assert 'href="/ky/2023-DX-01/bao-cao"' in home
    form = (await browser.page("/ky/2023-DX-01/bao-cao")).text
    assert "Nội dung yêu cầu:</strong> Báo cáo số cuộc đối thoại" in form
    assert 'name="noi_dung"' in form and 'name="vuong_mac"' in form
    assert 'id="sections.1"' not in form
    sent = await browser.client.post(
        "/ky/2023-DX-01/bao-cao",
        data={
            "csrf_token": Browser.hidden(form, "csrf_token"),
            "idempotency_key": Browser.hidden(form, "idempotency_key"),
            "report_id": Browser.hidden(form, "report_id"),
            "form_context": html_lib.unescape(Browser.hidden(form, "form_context")),
            "noi_dung": "Tổ chức 3 cuộc đối thoại; còn 2 kiến nghị đang giải quyết.",
            "vuong_mac": ["Chưa rõ mẫu biên bản đối thoại.", ""],
        },
    )
    assert sent.status_code == 303, sent.text
    (body,) = [r.body for r in system.sent("POST", "/v1/reports")]
    assert body == {
        "period_id": "2023-DX-01",
        "noi_dung": "Tổ chức 3 cuộc đối thoại; còn 2 kiến nghị đang giải quyết.",
        "vuong_mac": ["Chưa rõ mẫu biên bản đối thoại."],
    }
    receipt = (await browser.page(sent.headers["location"])).text
    assert "Tổ chức 3 cuộc đối thoại" in receipt


async def test_an_incomplete_request_is_shown_again_with_its_errors_and_not_sent(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    _, refused = await _create(browser, title="", due_date="01/06/2023", units=[])
    assert refused.status_code == 422
    text = html_lib.unescape(refused.text)
    assert "cần sửa 3 mục" in text
    assert "Vui lòng nhập tên yêu cầu báo cáo." in text
    assert "Hạn gửi phải sau thời điểm hiện tại." in text
    assert "Chọn ít nhất một đơn vị phải báo cáo." in text
    assert "Báo cáo số cuộc đối thoại" in text  # what was typed is kept
    assert 'value="01/06/2023"' in text
    assert not system.sent("POST", "/v1/periods")


async def test_ticking_units_without_choosing_the_scope_still_sends_those_units(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    _, created = await _create(browser, scope="all")
    assert created.status_code == 303, created.text
    (sent,) = system.sent("POST", "/v1/periods")
    assert sent.body["scope"] == {"units": ["18115", "18118"]}
    _, refused = await _create(browser, scope="all", kinds=["ward"])
    assert refused.status_code == 422
    assert 'id="scope-error"' in refused.text and "Đã đánh dấu cả loại đơn vị" in refused.text
    assert len(system.sent("POST", "/v1/periods")) == 1


async def test_the_registrys_refusal_is_shown_at_its_field(
    browser: Browser, system: FakeSystem
) -> None:
    system.refusals[("POST", "/v1/periods")] = error(
        422,
        "empty_scope",
        "Không có đơn vị nào phải báo cáo theo phạm vi đã chọn.",
        details={
            "field": "scope",
            "problems": [
                {
                    "field": "scope",
                    "code": "empty_scope",
                    "message": "Không có đơn vị nào phải báo cáo theo phạm vi đã chọn.",
                }
            ],
        },
    )
    await browser.login("pnv")
    _, refused = await _create(browser)
    assert refused.status_code == 422
    assert 'id="scope-error"' in refused.text
    assert "Không có đơn vị nào phải báo cáo theo phạm vi đã chọn." in refused.text


async def test_the_deadline_form_speaks_trước_ngày_and_confirms_in_the_same_words(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page = (await browser.page("/theo-doi/2023-H1")).text
    # "trước ngày 10/06/2023" is 10/06 00:00: shown as that day with no time, not "00:00".
    assert 'name="due_date" value="2023-06-10"' in page
    assert 'name="due_time" value=""' in page and 'value="00:00"' not in page
    assert "Đổi hạn gửi</button>" in page and "ngày cuối gửi đúng hạn: 09/06/2023" in page
    csrf = Browser.hidden(page, "csrf_token")
    by_day = await browser.client.post(
        "/theo-doi/2023-H1/han-nop",
        data={"csrf_token": csrf, "due_date": "2023-06-20", "due_time": ""},
    )
    assert system.sent("PATCH", "/v1/periods/2023-H1")[-1].body == {
        "due_at": "2023-06-20T00:00:00+07:00"
    }
    after = (await browser.page(by_day.headers["location"])).text
    assert "Đã đổi hạn gửi thành trước ngày 20/06/2023." in after
    assert 'name="due_date" value="2023-06-20"' in after and 'name="due_time" value=""' in after
    extended = await browser.client.post(
        "/theo-doi/2023-H1/han-nop",
        data={"csrf_token": csrf, "due_date": "2023-06-16", "due_time": "17:00"},
    )
    assert system.sent("PATCH", "/v1/periods/2023-H1")[-1].body == {
        "due_at": "2023-06-16T17:00:00+07:00"
    }
    after = (await browser.page(extended.headers["location"])).text
    assert "Đã đổi hạn gửi thành trước 17:00 ngày 16/06/2023." in after
    assert 'name="due_time" value="17:00"' in after
    assert "Hạn gửi trước 17:00 ngày 16/06/2023" in after


async def test_the_ad_hoc_list_words_deadlines_like_every_other_page(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    await _create(browser)
    await _create(browser, title="Theo ngày", due_time="", due_date="2023-06-21")
    listing = (await browser.page(PAGE)).text
    assert "trước 17:00 ngày 20/06/2023" in listing
    assert "trước ngày 21/06/2023" in listing


async def test_closing_a_period_asks_for_confirmation_first(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page = (await browser.page("/theo-doi/2023-H1")).text
    assert 'href="/theo-doi/2023-H1/khoa-so"' in page
    assert 'name="status" value="closed"' not in page  # no one-click close
    confirm = await browser.page("/theo-doi/2023-H1/khoa-so")
    assert confirm.status_code == 200
    text = html_lib.unescape(confirm.text)
    assert "không gửi, sửa hay rút báo cáo" in text and "Mở lại kỳ báo cáo" in text
    assert not system.sent("PATCH", "/v1/periods/2023-H1")
    closed = await browser.client.post(
        "/theo-doi/2023-H1/trang-thai",
        data={"csrf_token": Browser.hidden(confirm.text, "csrf_token"), "status": "closed"},
    )
    assert system.sent("PATCH", "/v1/periods/2023-H1")[-1].body == {"status": "closed"}
    after = (await browser.page(closed.headers["location"])).text
    assert "Đã khóa sổ kỳ báo cáo" in after and "Mở lại kỳ báo cáo" in after
    # A closed period has nothing to confirm: the page sends the reviewer back.
    again = await browser.page("/theo-doi/2023-H1/khoa-so")
    assert again.status_code == 303 and again.headers["location"] == "/theo-doi/2023-H1"


async def test_a_refused_deadline_change_shows_the_registrys_message(
    browser: Browser, system: FakeSystem
) -> None:
    system.refusals[("PATCH", "/v1/periods/2023-H1")] = error(
        422, "due_in_past", "Hạn gửi phải sau thời điểm hiện tại."
    )
    await browser.login("pnv")
    page = (await browser.page("/theo-doi/2023-H1")).text
    csrf = Browser.hidden(page, "csrf_token")
    refused = await browser.client.post(
        "/theo-doi/2023-H1/han-nop",
        data={"csrf_token": csrf, "due_date": "2023-06-01", "due_time": "08:00"},
    )
    after = (await browser.page(refused.headers["location"])).text
    assert "Hạn gửi phải sau thời điểm hiện tại." in after
    typo = await browser.client.post(
        "/theo-doi/2023-H1/han-nop", data={"csrf_token": csrf, "due_date": "mai"}
    )
    assert "Ngày hạn gửi không hợp lệ" in (await browser.page(typo.headers["location"])).text
    assert len(system.sent("PATCH", "/v1/periods/2023-H1")) == 1


async def test_leaders_and_units_cannot_create_requests_nor_change_periods(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("lanhdao")
    page = (await browser.page("/theo-doi/2023-H1")).text
    assert "/han-nop" not in page and "/trang-thai" not in page
    assert "yeu-cau-dot-xuat" not in page
    assert (await browser.page(PAGE)).status_code == 403
    csrf = Browser.hidden(page, "csrf_token")
    for path, data in (
        (PAGE, {"title": "x", "due_date": "2023-06-20"}),
        ("/theo-doi/2023-H1/trang-thai", {"status": "closed"}),
    ):
        refused = await browser.client.post(path, data={"csrf_token": csrf, **data})
        assert refused.status_code == 403
    assert not system.sent("POST", "/v1/periods")
    assert not system.sent("PATCH", "/v1/periods/2023-H1")


BASIS = {
    "basis_document_type": "Công văn",
    "basis_number": "125/SNV-XDCQ",
    "basis_issued_on": "02/06/2023",  # typed dd/mm/yyyy; a date input sends 2023-06-02
    "basis_issuer": "Sở Nội vụ",
    "basis_subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
}


async def test_the_request_records_the_document_that_asked_for_it(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page, created = await _create(browser, **BASIS)
    for label in ("Loại văn bản", "Số văn bản", "Ngày văn bản", "Cơ quan ban hành", "Trích yếu"):
        assert f">{label}</label>" in page
    assert created.status_code == 303, created.text
    (sent,) = system.sent("POST", "/v1/periods")
    assert sent.body["basis"] == {
        "document_type": "Công văn",
        "number": "125/SNV-XDCQ",
        "issued_on": "2023-06-02",
        "issuer": "Sở Nội vụ",
        "subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
    }
    dashboard = html_lib.unescape((await browser.page(created.headers["location"])).text)
    assert (
        "<strong>Căn cứ:</strong> Công văn số 125/SNV-XDCQ ngày 02/06/2023 của Sở Nội vụ về việc "
        "báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg" in dashboard
    )


async def test_a_request_without_a_basis_sends_none_and_shows_none(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    _, created = await _create(browser, basis_document_type=" ", basis_number="")
    assert created.status_code == 303, created.text
    (sent,) = system.sent("POST", "/v1/periods")
    assert "basis" not in sent.body
    dashboard = (await browser.page(created.headers["location"])).text
    assert "Căn cứ:" not in dashboard


async def test_a_basis_date_that_does_not_read_is_refused_at_its_field(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    _, refused = await _create(browser, **{**BASIS, "basis_issued_on": "31/02/2023"})
    assert refused.status_code == 422
    assert 'id="basis_issued_on-error"' in refused.text
    assert "Ngày văn bản không hợp lệ; nhập theo dạng dd/mm/yyyy." in refused.text
    assert 'value="125/SNV-XDCQ"' in refused.text  # what was typed is kept
    assert system.sent("POST", "/v1/periods") == []


async def test_the_registrys_refusal_of_the_basis_is_shown_at_its_field(
    browser: Browser, system: FakeSystem
) -> None:
    message = "Ngày văn bản 02/06/2024 chưa đến."
    system.refusals[("POST", "/v1/periods")] = error(
        422,
        "issued_in_future",
        message,
        details={
            "field": "basis.issued_on",
            "problems": [
                {"field": "basis.issued_on", "code": "issued_in_future", "message": message}
            ],
        },
    )
    await browser.login("pnv")
    _, refused = await _create(browser, **{**BASIS, "basis_issued_on": "2024-06-02"})
    assert refused.status_code == 422
    assert '<p class="error-message" id="basis_issued_on-error">' in refused.text
    assert message in refused.text
    assert 'id="basis_issued_on" name="basis_issued_on" value="2024-06-02"' in refused.text
