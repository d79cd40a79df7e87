"""Accounts in a real Chromium, in front of the real registry (issue 11.11 with 9.1): the
admin creates a ward clerk's account on "Tài khoản" and reads its one-time activation code;
the clerk, not signed in, opens "Kích hoạt tài khoản" from the sign-in page, is told on the
right field what is wrong, sets a password with the code and signs in with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_portal_in_chromium import DESKTOP, new_page, running_system, sign_in

pytestmark = pytest.mark.browser

NEW_USER = "bachong-vanthu"
NEW_PASSWORD = "Hoa-sen-no-giua-dong-2026"


async def test_an_admin_creates_an_account_and_its_holder_activates_it(
    chromium: Any, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        admin = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(admin, "admin")
        await admin.get_by_role("link", name="Tài khoản", exact=True).click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Tài khoản")
        await admin.locator("#moi-username").fill(NEW_USER)
        await admin.locator("#moi-display_name").fill("Văn thư UBND phường Bắc Hồng")
        await admin.locator("#moi-role").select_option("unit")
        await admin.locator("#moi-unit_code").select_option("18115")
        await admin.get_by_role("button", name="Tạo tài khoản").click()
        box = admin.locator(".activation-code")
        await expect(box).to_contain_text(f"Mã kích hoạt của tài khoản {NEW_USER}")
        await expect(box).to_contain_text("Hiệu lực đến")
        code = (await admin.locator("#ma-kich-hoat-moi").inner_text()).strip()
        assert len(code) >= 8
        # The list shows it waiting for its holder; the code is not shown again.
        await admin.goto("/tai-khoan")
        row = admin.locator(f'[id="tk-{NEW_USER}"]')
        await expect(row).to_contain_text("Chờ kích hoạt")
        await expect(row).to_contain_text("Cán bộ đơn vị")
        await expect(admin.locator("main")).not_to_contain_text(code)

        clerk = await new_page(chromium, portal_url, DESKTOP)
        await clerk.goto("/dang-nhap")
        await clerk.get_by_role("link", name="Kích hoạt tài khoản").click()
        await expect(clerk.get_by_role("heading", level=1)).to_have_text("Kích hoạt tài khoản")
        await clerk.get_by_label("Tên đăng nhập").fill(NEW_USER)
        await clerk.get_by_label("Mã kích hoạt").fill(code)
        # A weak password: the registry's message on the new password's field.
        await clerk.get_by_label("Mật khẩu mới", exact=True).fill("ngan")
        await clerk.get_by_label("Nhập lại mật khẩu mới").fill("ngan")
        await clerk.get_by_role("button", name="Kích hoạt tài khoản").click()
        await expect(clerk.locator("#loi-new_password")).to_contain_text("ít nhất 10 ký tự")
        # A wrong code: on the code's field.
        await clerk.get_by_label("Mã kích hoạt").fill("SAI-MA-0000")
        await clerk.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
        await clerk.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        await clerk.get_by_role("button", name="Kích hoạt tài khoản").click()
        await expect(clerk.locator("#loi-code")).to_contain_text("Mã kích hoạt không đúng")
        # The right code.
        await expect(clerk.get_by_label("Tên đăng nhập")).to_have_value(NEW_USER)
        await clerk.get_by_label("Mã kích hoạt").fill(code)
        await clerk.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
        await clerk.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        await clerk.get_by_role("button", name="Kích hoạt tài khoản").click()
        await clerk.wait_for_url(lambda url: url.endswith("/dang-nhap"))
        await expect(clerk.locator(".notice")).to_contain_text(f"Đã kích hoạt tài khoản {NEW_USER}")
        await clerk.get_by_label("Tên đăng nhập").fill(NEW_USER)
        await clerk.get_by_label("Mật khẩu").fill(NEW_PASSWORD)
        await clerk.get_by_role("button", name="Đăng nhập").click()
        await clerk.wait_for_url(lambda url: "/dang-nhap" not in url)
        await expect(clerk.get_by_role("heading", name="Báo cáo của đơn vị")).to_be_visible()

        await admin.reload()
        await expect(admin.locator(f'[id="tk-{NEW_USER}"]')).to_contain_text("Đang hoạt động")
