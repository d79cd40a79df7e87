"""Pages for what was API-only (issue 11.11): the unit import (check, then apply, all or
nothing), the reporting years, one's own password."""

from __future__ import annotations

import html as html_lib

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import PASSWORD, FakeSystem, error

IMPORT = "/don-vi/nhap"
GOOD = "code,name,kind\n18115,UBND phường Bắc Hồng (mới),ward\nPKT,Phòng Kinh tế,department\n"
BAD = "code,name,kind\n,Không mã,ward\nPKT,Phòng Kinh tế,phong\n"


async def _check(browser: Browser, content: str, name: str = "don-vi.csv") -> str:
    page = (await browser.page(IMPORT)).text
    checked = await browser.client.post(
        f"{IMPORT}/kiem-tra",
        data={"csrf_token": Browser.hidden(page, "csrf_token")},
        files={"file": (name, content.encode(), "text/csv")},
    )
    return html_lib.unescape(checked.text) if checked.status_code == 200 else checked.text


async def test_an_admin_checks_a_file_then_applies_it_as_checked(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    units = (await browser.page("/don-vi")).text
    assert 'href="/don-vi/nhap"' in units
    checked = await _check(browser, GOOD)
    assert "Kết quả kiểm tra tệp «don-vi.csv»: không có lỗi" in checked
    assert "sẽ tạo mới 1, cập nhật 1" in checked and "Chưa ghi gì." in checked
    assert "PKT@2023-01-01" in checked
    assert system.pages.imports == [("don-vi.csv", True)]
    assert "PKT" not in system.units  # a check writes nothing
    applied = await browser.client.post(
        f"{IMPORT}/ap-dung",
        data={
            "csrf_token": Browser.hidden(checked, "csrf_token"),
            "filename": Browser.hidden(checked, "filename"),
            "payload": Browser.hidden(checked, "payload"),
            "digest": Browser.hidden(checked, "digest"),
        },
    )
    assert applied.status_code == 200
    text = html_lib.unescape(applied.text)
    assert "Đã nhập tệp «don-vi.csv»" in text and "tạo mới 1, cập nhật 1" in text
    assert system.pages.imports[-1] == ("don-vi.csv", False)
    assert system.units["PKT"]["name"] == "Phòng Kinh tế"
    assert system.units["18115"]["name"] == "UBND phường Bắc Hồng (mới)"


async def test_a_file_with_errors_lists_each_row_and_column_and_offers_no_apply(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    page = await _check(browser, BAD)
    text = html_lib.unescape(page)
    assert "có 2 lỗi; chưa ghi đơn vị nào" in text
    assert "Dòng 2, cột «Mã đơn vị»: Thiếu mã đơn vị." in text
    assert "Dòng 3, cột «Loại đơn vị»: Loại «phong» không có." in text
    assert 'action="/don-vi/nhap/ap-dung"' not in page
    assert "PKT" not in system.units


async def test_an_altered_payload_is_refused_without_calling_the_registry(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    checked = await _check(browser, GOOD)
    refused = await browser.client.post(
        f"{IMPORT}/ap-dung",
        data={
            "csrf_token": Browser.hidden(checked, "csrf_token"),
            "filename": "don-vi.csv",
            "payload": Browser.hidden(checked, "payload"),
            "digest": "0" * 64,
        },
    )
    assert refused.status_code == 422
    assert "chọn lại tệp và kiểm tra lại" in html_lib.unescape(refused.text)
    assert system.pages.imports == [("don-vi.csv", True)]


async def test_only_admins_import_and_the_template_downloads(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    assert (await browser.page(IMPORT)).status_code == 403
    browser.client.cookies.clear()
    await browser.login("qtv")
    template = await browser.client.get(f"{IMPORT}/mau.csv")
    assert template.status_code == 200 and template.text.startswith("code,name,kind")
    assert "mau-danh-muc-don-vi.csv" in template.headers["content-disposition"]


async def test_the_office_creates_a_reporting_year(browser: Browser, system: FakeSystem) -> None:
    await browser.login("pnv")
    page = (await browser.page("/ky-bao-cao/nam")).text
    assert '<a href="/ky-bao-cao/nam">Năm báo cáo</a>' in page
    assert 'value="2024"' in page  # the year after the last one
    made = await browser.client.post(
        "/ky-bao-cao/nam", data={"csrf_token": Browser.hidden(page, "csrf_token"), "year": "2024"}
    )
    assert made.status_code == 303
    after = html_lib.unescape((await browser.page("/ky-bao-cao/nam")).text)
    assert "Đã tạo 2 kỳ báo cáo năm 2024: 6 tháng đầu năm 2024; năm 2024." in after
    again = await browser.client.post(
        "/ky-bao-cao/nam", data={"csrf_token": Browser.hidden(after, "csrf_token"), "year": "2024"}
    )
    assert "đã có từ trước" in html_lib.unescape(
        (await browser.page(again.headers["location"])).text
    )
    bad = await browser.client.post(
        "/ky-bao-cao/nam", data={"csrf_token": Browser.hidden(after, "csrf_token"), "year": "hai"}
    )
    assert "Năm báo cáo phải là một năm" in html_lib.unescape(
        (await browser.page(bad.headers["location"])).text
    )


async def test_a_clerk_changes_its_own_password(browser: Browser, system: FakeSystem) -> None:
    await browser.login("18115")
    page = (await browser.page("/tai-khoan/mat-khau")).text
    assert 'href="/tai-khoan/mat-khau"' in page
    token = Browser.hidden(page, "csrf_token")
    mismatch = await browser.client.post(
        "/tai-khoan/mat-khau",
        data={
            "csrf_token": token,
            "old_password": PASSWORD,
            "new_password": "mat-khau-moi-dai",
            "new_password_again": "khac",
        },
    )
    assert mismatch.status_code == 422
    assert "Hai lần nhập mật khẩu mới không giống nhau." in html_lib.unescape(mismatch.text)
    assert not system.sent("POST", "/v1/accounts/me/password")
    wrong = await browser.client.post(
        "/tai-khoan/mat-khau",
        data={
            "csrf_token": token,
            "old_password": "sai",
            "new_password": "mat-khau-moi-dai",
            "new_password_again": "mat-khau-moi-dai",
        },
    )
    assert wrong.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in html_lib.unescape(wrong.text)
    done = await browser.client.post(
        "/tai-khoan/mat-khau",
        data={
            "csrf_token": token,
            "old_password": PASSWORD,
            "new_password": " mat-khau-moi-dai ",
            "new_password_again": " mat-khau-moi-dai ",
        },
    )
    assert done.status_code == 303
    assert system.pages.passwords["18115"] == " mat-khau-moi-dai "  # taken exactly as typed


async def test_the_office_edits_an_ad_hoc_request(browser: Browser, system: FakeSystem) -> None:
    from tests.integration.portal.fakes import PERIODS

    ad_hoc = {
        **PERIODS[1],
        "period_id": "2023-DX-01",
        "kind": "ad_hoc",
        "title": "Báo cáo nhanh tiếp dân",
        "form_id": "dvcq-dot-xuat",
        "content": "Nội dung cũ.",
        "window_start": None,
        "window_end": None,
        "scope": {"all": True},
    }
    system.periods.insert(0, ad_hoc)
    await browser.login("pnv")
    dashboard = (await browser.page("/theo-doi/2023-DX-01")).text
    assert 'href="/theo-doi/2023-DX-01/sua"' in dashboard
    assert 'href="/theo-doi/2023-H1/sua"' not in (await browser.page("/theo-doi/2023-H1")).text
    page = (await browser.page("/theo-doi/2023-DX-01/sua")).text
    assert 'value="Báo cáo nhanh tiếp dân"' in page and ">Nội dung cũ.</textarea>" in page
    saved = await browser.client.post(
        "/theo-doi/2023-DX-01/sua",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "title": "Báo cáo nhanh tiếp công dân",
            "content": "Nội dung mới.",
            "window_start": "2023-01-01",
            "window_end": "",
        },
    )
    assert saved.status_code == 303
    [patch] = system.sent("PATCH", "/v1/periods/2023-DX-01")
    assert patch.body == {
        "title": "Báo cáo nhanh tiếp công dân",
        "content": "Nội dung mới.",
        "window_start": "2023-01-01",
    }
    empty = await browser.client.post(
        "/theo-doi/2023-DX-01/sua",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "title": " "},
    )
    assert empty.status_code == 422
    assert "Tên yêu cầu báo cáo không được để trống." in html_lib.unescape(empty.text)


async def test_the_office_records_and_removes_the_basis_of_an_ad_hoc_request(
    browser: Browser, system: FakeSystem
) -> None:
    from tests.integration.portal.fakes import PERIODS

    system.periods.insert(
        0,
        {
            **PERIODS[1],
            "period_id": "2023-DX-01",
            "kind": "ad_hoc",
            "title": "Báo cáo kết quả 01 năm thực hiện Chỉ thị 33",
            "form_id": "dvcq-dot-xuat",
            "scope": {"all": True},
        },
    )
    await browser.login("pnv")
    url = "/theo-doi/2023-DX-01/sua"
    page = (await browser.page(url)).text
    assert 'name="basis_number" value=""' in page
    before = {name: Browser.hidden(page, name) for name in ("title", "window_start", "window_end")}
    form = {
        "csrf_token": Browser.hidden(page, "csrf_token"),
        **before,
        "content": html_lib.unescape(page.split('name="content" rows="6">')[1].split("<")[0]),
        "basis_document_type": "Công văn",
        "basis_number": "125/SNV-XDCQ",
        "basis_issued_on": "2023-06-02",
        "basis_issuer": "Sở Nội vụ",
        "basis_subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
    }
    saved = await browser.client.post(url, data=form)
    assert saved.status_code == 303, saved.text
    [patch] = system.sent("PATCH", "/v1/periods/2023-DX-01")
    assert patch.body == {
        "basis": {
            "document_type": "Công văn",
            "number": "125/SNV-XDCQ",
            "issued_on": "2023-06-02",
            "issuer": "Sở Nội vụ",
            "subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
        }
    }
    dashboard = html_lib.unescape((await browser.page("/theo-doi/2023-DX-01")).text)
    assert "<strong>Căn cứ:</strong> Công văn số 125/SNV-XDCQ ngày 02/06/2023 của Sở Nội vụ" in (
        dashboard
    )
    # The page shows what was recorded; saving it unchanged sends nothing.
    again = html_lib.unescape((await browser.page(url)).text)
    assert 'name="basis_number" value="125/SNV-XDCQ"' in again
    assert 'name="basis_issued_on" value="2023-06-02"' in again
    assert ">về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg</textarea>" in again
    unchanged = await browser.client.post(url, data={**form, "basis_issued_on": "02/06/2023"})
    assert unchanged.status_code == 303
    assert len(system.sent("PATCH", "/v1/periods/2023-DX-01")) == 1
    # The registry's message comes back at its field.
    message = "Số văn bản dài quá 100 ký tự."
    system.refusals[("PATCH", "/v1/periods/2023-DX-01")] = error(
        422,
        "too_long",
        message,
        details={
            "field": "basis.number",
            "problems": [{"field": "basis.number", "code": "too_long", "message": message}],
        },
    )
    refused = await browser.client.post(url, data={**form, "basis_number": "1" * 101})
    assert refused.status_code == 422
    assert '<p class="error-message" id="basis_number-error">' in refused.text
    assert message in html_lib.unescape(refused.text) and 'id="loi-sua"' not in refused.text
    del system.refusals[("PATCH", "/v1/periods/2023-DX-01")]
    # Emptying every field removes the basis.
    cleared = {name: "" for name in form if name.startswith("basis_")}
    removed = await browser.client.post(url, data={**form, **cleared})
    assert removed.status_code == 303
    assert system.sent("PATCH", "/v1/periods/2023-DX-01")[-1].body == {"basis": None}
    assert "Căn cứ:" not in (await browser.page("/theo-doi/2023-DX-01")).text
