"""Units and their leaders in charge (plan II.5): seen by reviewers and leaders, changed by
admins through the registry's PATCH /v1/units/{code}."""

from __future__ import annotations

import html as html_lib

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem, error


async def test_the_list_shows_leaders_contacts_and_warns_about_unreachable_units(
    browser: Browser,
) -> None:
    await browser.login("pnv")
    home = (await browser.page("/theo-doi")).text
    assert 'href="/don-vi"' in home
    page = html_lib.unescape((await browser.page("/don-vi")).text)
    assert "Đơn vị và lãnh đạo phụ trách" in page
    assert "Nguyễn Văn An, Phó Chủ tịch UBND phường" in page
    assert "0912345678" in page and "bachong@hatinh.gov.vn" in page
    assert "Có 1 đơn vị phải báo cáo còn thiếu" in page
    assert "Chưa có lãnh đạo phụ trách công tác dân vận" in page
    assert "thư đôn đốc không đến được đơn vị" in page
    current, past = page.split("Đơn vị đã kết thúc hoạt động")
    assert "UBND xã Thuận Lộc (cũ)" not in current
    assert "UBND xã Thuận Lộc (cũ)" in past and "đến 31/12/2019" in past
    assert "từ 01/01/2020" in current


async def test_a_leader_sees_names_but_no_personal_data_and_no_form(browser: Browser) -> None:
    await browser.login("lanhdao")
    page = html_lib.unescape((await browser.page("/don-vi")).text)
    assert "Nguyễn Văn An, Phó Chủ tịch UBND phường" in page
    assert "0912345678" not in page and "bachong@hatinh.gov.vn" not in page
    unit = (await browser.page("/don-vi/18115")).text
    assert 'method="post"' not in unit.replace('action="/dang-xuat"', "").split("<main")[1]


async def test_a_unit_account_may_not_open_the_page(browser: Browser) -> None:
    await browser.login("18115")
    assert (await browser.page("/don-vi")).status_code == 403


async def test_the_admin_changes_the_leader_with_the_exact_patch_body(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    page = (await browser.page("/don-vi/18118")).text
    response = await browser.client.post(
        "/don-vi/18118",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "leader_full_name": "Phạm Thị Dung",
            "leader_title": "Phó Chủ tịch UBND phường",
            "leader_phone": "0987654321",
            "leader_email": "dung.pt@hatinh.gov.vn",
            "contact_emails": "namhong@hatinh.gov.vn\nvanphong.namhong@hatinh.gov.vn",
            "contact_phone": "02393 123456",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/don-vi/18118"
    (sent,) = system.sent("PATCH", "/v1/units/18118")
    assert sent.body == {
        "leader": {
            "full_name": "Phạm Thị Dung",
            "title": "Phó Chủ tịch UBND phường",
            "phone": "0987654321",
            "email": "dung.pt@hatinh.gov.vn",
        },
        "contacts": {
            "emails": ["namhong@hatinh.gov.vn", "vanphong.namhong@hatinh.gov.vn"],
            "phone": "02393 123456",
        },
    }
    after = html_lib.unescape((await browser.page("/don-vi/18118")).text)
    assert "Đã cập nhật lãnh đạo phụ trách và liên hệ của UBND phường Nam Hồng." in after
    assert "Phạm Thị Dung" in after and "05/06/2023" in after  # in the history since today
    listing = html_lib.unescape((await browser.page("/don-vi")).text)
    assert "Chưa có lãnh đạo phụ trách công tác dân vận" not in listing


async def test_blank_leader_fields_remove_the_leader(browser: Browser, system: FakeSystem) -> None:
    await browser.login("qtv")
    page = (await browser.page("/don-vi/PVHTT")).text
    await browser.client.post(
        "/don-vi/PVHTT",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "contact_emails": "a@b.vn"},
    )
    (sent,) = system.sent("PATCH", "/v1/units/PVHTT")
    assert sent.body == {"leader": None, "contacts": {"emails": ["a@b.vn"], "phone": ""}}


async def test_the_registry_field_error_is_shown_at_the_field_with_typed_values_kept(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    page = (await browser.page("/don-vi/18115")).text
    system.refusals[("PATCH", "/v1/units/18115")] = error(
        422,
        "validation_failed",
        "Địa chỉ thư điện tử «an@» không hợp lệ.",
        details={
            "field": "leader.email",
            "problems": [
                {
                    "field": "leader.email",
                    "code": "invalid_email",
                    "message": "Địa chỉ thư điện tử «an@» không hợp lệ.",
                }
            ],
        },
    )
    response = await browser.client.post(
        "/don-vi/18115",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "leader_full_name": "Nguyễn Văn Ánh",
            "leader_title": "Chủ tịch",
            "leader_email": "an@",
            "contact_emails": "bachong@hatinh.gov.vn",
        },
    )
    assert response.status_code == 422
    text = html_lib.unescape(response.text)
    assert (
        '<p class="error-message" id="leader_email-error"><span class="visually-hidden">'
        "Lỗi: </span>Địa chỉ thư điện tử «an@» không hợp lệ.</p>"
    ) in text
    assert 'id="leader_email" name="leader_email" value="an@"' in text
    assert 'value="Nguyễn Văn Ánh"' in text
    assert system.units["18115"]["leader"]["full_name"] == "Nguyễn Văn An"


async def test_a_reviewer_sees_the_unit_but_may_not_post(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page = (await browser.page("/don-vi/18115")).text
    assert "Chỉ quản trị hệ thống mới sửa được thông tin này." in page
    assert "Lê Văn Cũ" in page and "15/03/2022" in page  # the previous leader, with dates
    response = await browser.client.post(
        "/don-vi/18115",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "leader_full_name": "X"},
    )
    assert response.status_code == 403
    assert system.sent("PATCH", "/v1/units/18115") == []


async def test_a_post_without_the_csrf_token_is_refused(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    response = await browser.client.post(
        "/don-vi/18115",
        data={"csrf_token": "sai", "leader_full_name": "X"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 403
    assert "Biểu mẫu đã hết hiệu lực" in response.text
    assert system.sent("PATCH", "/v1/units/18115") == []
