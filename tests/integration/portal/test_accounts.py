"""The admins' "Tài khoản" page and the "Kích hoạt tài khoản" page (issue 11.11 with the
activation codes of issue 9.1), against the fake registry."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

from shared.formatting import vn_datetime
from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem

PAGE = "/tai-khoan"
CODE = re.compile(r'<code id="ma-kich-hoat-moi">([^<]+)</code>')


async def _post(browser: Browser, path: str, page: str, **data: str) -> tuple[int, str]:
    response = await browser.client.post(
        path, data={"csrf_token": Browser.hidden(page, "csrf_token"), **data}
    )
    return response.status_code, html_lib.unescape(response.text)


async def _create(browser: Browser, **fields: str) -> tuple[int, str]:
    page = (await browser.page(PAGE)).text
    return await _post(browser, PAGE, page, **fields)


async def test_an_admin_lists_accounts_with_role_unit_and_state(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    home = (await browser.page("/theo-doi")).text
    assert 'href="/tai-khoan">Tài khoản</a>' in home
    system.accounts.accounts["PVHTT"] = system.accounts.accounts["PVHTT"].model_copy(
        update={"active": False}
    )
    response = await browser.page(PAGE)
    assert response.status_code == 200
    text = html_lib.unescape(response.text)
    row = text[text.index('id="tk-18115"') :]
    row = row[: row.index("</tr>")]
    assert "UBND phường Bắc Hồng" in row and "Cán bộ đơn vị" in row and "Đang hoạt động" in row
    pvhtt = text[text.index('id="tk-PVHTT"') :]
    assert "Đã khóa" in pvhtt[: pvhtt.index("</tr>")]
    assert "Mở lại tài khoản" in pvhtt[: pvhtt.index("</tr>")]
    pnv = text[text.index('id="tk-pnv"') :]
    assert "Phòng Nội vụ" in pnv[: pnv.index("</tr>")]


async def test_other_roles_do_not_see_the_accounts_page(browser: Browser) -> None:
    for username in ("pnv", "18115", "lanhdao"):
        await browser.login(username)
        assert 'href="/tai-khoan">Tài khoản</a>' not in (await browser.page("/")).text
        refused = await browser.page(PAGE)
        assert refused.status_code == 403
        browser.client.cookies.clear()


async def test_a_new_account_shows_its_code_once_and_waits_for_activation(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    status, text = await _create(
        browser,
        username="18118-vt",
        display_name="Nguyễn Thị Văn Thư",
        role="unit",
        unit_code="18118",
    )
    assert status == 201
    match = CODE.search(text)
    assert match
    code = match.group(1)
    assert system.accounts.codes["18118-vt"].code == code
    expiry = vn_datetime(system.accounts.codes["18118-vt"].expires_at)
    assert f"<dt>Hiệu lực đến</dt><dd>{expiry}</dd>" in text
    assert "Mã này chỉ hiển thị một lần" in text and "In mã kích hoạt" in text
    assert system.sent("POST", "/v1/accounts")[-1].body == {
        "username": "18118-vt",
        "display_name": "Nguyễn Thị Văn Thư",
        "role": "unit",
        "unit_code": "18118",
    }
    again = html_lib.unescape((await browser.page(PAGE)).text)
    assert code not in again  # shown on the answer to the click only
    row = again[again.index('id="tk-18118-vt"') :]
    assert "Chờ kích hoạt" in row[: row.index("</tr>")]


async def test_the_registry_refusal_goes_on_the_field_and_keeps_what_was_typed(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    status, text = await _create(
        browser, username="pnv", display_name="Trùng tên", role="reviewer", unit_code=""
    )
    assert status == 409
    assert 'id="loi-moi-username"' in text and "Tài khoản «pnv» đã có." in text
    assert 'value="Trùng tên"' in text
    status, text = await _create(
        browser, username="moi", display_name="Cán bộ mới", role="unit", unit_code=""
    )
    assert status == 422
    assert "Tài khoản cán bộ đơn vị phải thuộc một đơn vị." in text
    assert "moi" not in system.accounts.accounts


async def test_deactivate_reactivate_and_change_role_and_unit(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    page = (await browser.page(PAGE)).text
    response = await browser.client.post(
        f"{PAGE}/18115/trang-thai",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "active": "false"},
    )
    assert response.status_code == 303
    assert system.accounts.accounts["18115"].active is False
    shown = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Đã khóa tài khoản 18115" in shown
    await browser.client.post(
        f"{PAGE}/18115/trang-thai",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "active": "true"},
    )
    assert system.accounts.accounts["18115"].active is True
    response = await browser.client.post(
        f"{PAGE}/18115/sua",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "display_name": "UBND phường Bắc Hồng",
            "role": "unit",
            "unit_code": "18118",
        },
    )
    assert response.status_code == 303
    assert system.accounts.accounts["18115"].unit_code == "18118"
    await browser.client.post(
        f"{PAGE}/pnv/sua",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "display_name": "Phòng Nội vụ",
            "role": "leader",
            "unit_code": "18115",
        },
    )
    # Only a unit account belongs to a unit.
    assert system.accounts.accounts["pnv"].role == "leader"
    assert system.accounts.accounts["pnv"].unit_code is None
    assert system.sent("PATCH", "/v1/accounts/pnv")[-1].body == {
        "role": "leader",
        "unit_code": None,
        "display_name": "Phòng Nội vụ",
    }


async def test_a_reset_gives_a_new_code_and_the_handover_sheet_downloads(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("qtv")
    page = (await browser.page(PAGE)).text
    status, text = await _post(browser, f"{PAGE}/18115/kich-hoat", page)
    assert status == 200
    match = CODE.search(text)
    assert match and system.accounts.codes["18115"].code == match.group(1)
    assert system.accounts.accounts["18115"].password_set is False
    sheet = await browser.client.post(
        f"{PAGE}/ban-giao",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "unit_code": "18115"},
    )
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    assert 'filename="ban-giao-18115.csv"' in sheet.headers["content-disposition"]
    assert system.accounts.codes["18115"].code in sheet.content.decode("utf-8-sig")
    assert system.accounts.handovers == ["18115"]


async def _activate(browser: Browser, **data: str) -> tuple[int, str, str]:
    page = (await browser.page("/kich-hoat")).text
    response = await browser.client.post(
        "/kich-hoat", data={"csrf_token": Browser.hidden(page, "csrf_token"), **data}
    )
    return (
        response.status_code,
        html_lib.unescape(response.text),
        response.headers.get("location", ""),
    )


async def _new_account(browser: Browser) -> str:
    await browser.login("qtv")
    _, text = await _create(
        browser, username="vanthu", display_name="Văn thư", role="reviewer", unit_code=""
    )
    match = CODE.search(text)
    assert match
    browser.client.cookies.clear()
    return match.group(1)


async def test_the_sign_in_page_links_to_activation_and_it_sets_the_password(
    browser: Browser, system: FakeSystem
) -> None:
    code = await _new_account(browser)
    login = (await browser.page("/dang-nhap")).text
    assert 'href="/kich-hoat">Kích hoạt tài khoản</a>' in login
    page = (await browser.page("/kich-hoat")).text
    assert "Mã kích hoạt" in page and "Nhập lại mật khẩu mới" in page
    status, _, location = await _activate(
        browser,
        username="vanthu",
        code=code,
        new_password="mot-mat-khau-dai-2026",
        new_password_again="mot-mat-khau-dai-2026",
    )
    assert status == 303 and location == "/dang-nhap"
    assert system.accounts.passwords["vanthu"] == "mot-mat-khau-dai-2026"
    notice = html_lib.unescape((await browser.page("/dang-nhap")).text)
    assert "Đã kích hoạt tài khoản vanthu. Vui lòng đăng nhập bằng mật khẩu vừa đặt." in notice
    # Used once: the same code is refused, on the code field.
    status, text, _ = await _activate(
        browser,
        username="vanthu",
        code=code,
        new_password="mat-khau-khac-2026",
        new_password_again="mat-khau-khac-2026",
    )
    assert status == 401
    assert 'id="loi-code"' in text and "Mã kích hoạt không đúng hoặc đã được dùng." in text
    assert 'value="vanthu"' in text


async def test_each_refusal_is_shown_on_its_field_and_changes_nothing(
    browser: Browser, system: FakeSystem
) -> None:
    code = await _new_account(browser)
    status, text, _ = await _activate(
        browser, username="vanthu", code=code, new_password="ngan", new_password_again="ngan"
    )
    assert status == 422
    assert 'id="loi-new_password"' in text and "Mật khẩu phải có ít nhất 10 ký tự." in text
    status, text, _ = await _activate(
        browser,
        username="vanthu",
        code=code,
        new_password="mot-mat-khau-dai-2026",
        new_password_again="mot-mat-khau-dai-2027",
    )
    assert status == 422
    assert 'id="loi-new_password_again"' in text
    assert "Hai lần nhập mật khẩu mới không giống nhau." in text
    system.clock.advance(timedelta(hours=73))
    status, text, _ = await _activate(
        browser,
        username="vanthu",
        code=code,
        new_password="mot-mat-khau-dai-2026",
        new_password_again="mot-mat-khau-dai-2026",
    )
    assert status == 409
    assert 'id="loi-code"' in text and "Mã kích hoạt đã hết hạn" in text
    assert "vanthu" not in system.accounts.passwords
    assert system.accounts.codes["vanthu"].code == code
