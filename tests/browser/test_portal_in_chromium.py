"""The portal in a real Chromium, in front of the real registry, intake and consolidation.

A ward clerk signs in on the login page, writes the 2023-H1 report, is refused with the
Vietnamese message next to the wrong figure and everything typed kept, corrects it and
gets the receipt; Phòng Nội vụ sees the ward counted on the dashboard and returns the
report with a reason, which the clerk then reads, also on a phone-sized screen where the
form must fit the width. Reminders is left out (nobody listens on its port).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.portal.app import create_app as create_portal
from services.portal.settings import PortalSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.browser.conftest import ACTION_TIMEOUT_MS
from tests.support.http import eventually, serve_app
from tests.support.nats import free_port

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Locator, Page, ViewportSize

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-thu"
WARD = "18115"
FORM_PATH = "/ky/2023-H1/bao-cao"
TIEP_NHAN = "sections.4.indicators.ho_so_tthc_tiep_nhan"
DUNG_HAN = "sections.4.indicators.ho_so_tthc_dung_han"
QUA_HAN = "sections.4.indicators.ho_so_tthc_qua_han"
DONG_GOP = "sections.6.indicators.nhan_dan_dong_gop"
LUOT_NGUOI = "sections.1.indicators.luot_nguoi_quan_triet"
RETURN_REASON = "Đề nghị bổ sung số liệu mục 7 (tiếp công dân) và ký, đóng dấu bản scan."
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def _settings(database_url: str, nats_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "nats_url": nats_url,
        "env": "test",
        "outbox_poll_seconds": 0.2,
        "consumer_backoff_seconds": 0.1,
        **extra,
    }


@contextlib.asynccontextmanager
async def running_system(nats_url: str, databases: Any, data_dir: Path) -> AsyncIterator[str]:
    """Registry, intake, consolidation and the portal over real HTTP; yields the portal URL."""
    registry = create_registry(
        RegistrySettings(
            **_settings(await databases.url("registry"), nats_url), demo_password=PASSWORD
        )
    )
    async with serve_app(registry) as registry_url:
        jwks = f"{registry_url}/.well-known/jwks.json"
        intake = create_intake(
            IntakeSettings(
                **_settings(await databases.url("intake"), nats_url),
                data_dir=data_dir / "intake",
                jwks_url=jwks,
            )
        )
        consolidation = create_consolidation(
            ConsolidationSettings(
                **_settings(await databases.url("consolidation"), nats_url),
                data_dir=data_dir / "consolidation",
                jwks_url=jwks,
            )
        )
        async with serve_app(intake) as intake_url, serve_app(consolidation) as consolidation_url:
            portal = create_portal(
                PortalSettings(
                    env="test",
                    registry_url=registry_url,
                    intake_url=intake_url,
                    consolidation_url=consolidation_url,
                    reminders_url=f"http://127.0.0.1:{free_port()}",  # nobody listens
                    session_secret="s" * 40,
                )
            )
            async with serve_app(portal) as portal_url:
                yield portal_url


def field(page: Page, path: str) -> Locator:
    """The input whose id is the dotted issue path (ids with dots defeat '#' selectors)."""
    return page.locator(f'[id="{path}"]')


def error_of(page: Page, path: str) -> Locator:
    """The first error message the form shows for the input."""
    return page.locator(f'[id="{path}-error-1"]')


async def has_no_horizontal_scroll(page: Page) -> bool:
    """True when the page fits the viewport's width (nothing to scroll sideways)."""
    fits = await page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    return bool(fits)


async def new_page(browser: Browser, base_url: str, viewport: ViewportSize) -> Page:
    """A page in a fresh context: its own cookies, so each user signs in separately."""
    context: BrowserContext = await browser.new_context(
        base_url=base_url, viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return await context.new_page()


async def sign_in(page: Page, username: str) -> None:
    """Type the credentials into the login page and send them."""
    await page.goto("/dang-nhap")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(lambda url: "/dang-nhap" not in url)


async def open_report_form(page: Page) -> None:
    """From the unit's home page to the 2023-H1 form, once intake has heard of the period."""
    from playwright.async_api import expect

    await expect(page.get_by_role("heading", name="Báo cáo của đơn vị")).to_be_visible()
    await page.locator(f'a[href="{FORM_PATH}"]').first.click()

    async def form_shown() -> bool:
        # Intake learns the periods from the registry's events; until then the page
        # says the period is unknown, and the clerk would reload.
        if await page.locator("form#bieu-mau").count():
            return True
        await page.reload()
        return False

    await eventually(form_shown, timeout=20, interval=0.3)


async def test_a_clerk_reports_and_the_reviewer_returns_it_in_a_real_browser(
    chromium: Browser, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = tmp_path / "screenshots"
    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        clerk = await new_page(chromium, portal_url, DESKTOP)

        # The clerk signs in and writes the report.
        await sign_in(clerk, WARD)
        await open_report_form(clerk)
        await expect(clerk.get_by_role("heading", level=1)).to_contain_text(
            "Báo cáo kết quả thực hiện công tác dân vận chính quyền"
        )
        narratives = clerk.locator('textarea[name$=".narrative"]')
        assert await narratives.count() == 8  # sections 1–8; a ward has no section 9
        for index in range(8):
            await narratives.nth(index).fill("Không phát sinh")
        await field(clerk, "sections.1.narrative").fill(
            "Ban hành 3 kế hoạch; tổ chức hội nghị quán triệt tại 100% tổ dân phố."
        )
        await field(clerk, "sections.4.narrative").fill(
            "Bộ phận một cửa tiếp nhận và giải quyết hồ sơ đúng quy trình."
        )
        await field(clerk, LUOT_NGUOI).fill("350")
        await field(clerk, TIEP_NHAN).fill("120")
        await field(clerk, DUNG_HAN).fill("115")
        await field(clerk, QUA_HAN).fill("9")  # 115 + 9 > 120 received: refused
        await field(clerk, DONG_GOP).fill("12,5")
        await clerk.get_by_label("Có", exact=True).check()
        await clerk.get_by_label("Tồn tại, hạn chế và nguyên nhân").fill(
            "Một số tổ dân phố gửi số liệu chậm."
        )
        await clerk.get_by_label("Phương hướng, nhiệm vụ thời gian tới").fill(
            "Tiếp tục thực hiện Kế hoạch của Ban Thường vụ Thị ủy."
        )
        await clerk.get_by_role("button", name="Gửi báo cáo").click()

        # Refused: the Vietnamese message sits next to the figure, the values are kept.
        await expect(clerk.locator(".error-summary")).to_contain_text("Báo cáo chưa gửi được")
        wrong = field(clerk, QUA_HAN)
        await expect(wrong).to_have_attribute("aria-invalid", "true")
        message = error_of(clerk, QUA_HAN)
        await expect(message).to_be_visible()
        await expect(message).to_contain_text(
            "là 124, lớn hơn số hồ sơ thủ tục hành chính tiếp nhận"
        )
        beside = clerk.locator(".field", has=wrong)
        await expect(beside.locator(".error-message")).to_have_text(await message.inner_text())
        await expect(wrong).to_have_value("9")
        await expect(field(clerk, TIEP_NHAN)).to_have_value("120")
        await expect(field(clerk, DONG_GOP)).to_have_value("12,5")
        await expect(field(clerk, LUOT_NGUOI)).to_have_value("350")
        await expect(field(clerk, "sections.1.narrative")).to_have_value(
            "Ban hành 3 kế hoạch; tổ chức hội nghị quán triệt tại 100% tổ dân phố."
        )
        await expect(clerk.get_by_label("Có", exact=True)).to_be_checked()
        await clerk.locator('[id="sections.4"]').screenshot(path=shots / "1-refused.png")

        # Corrected and sent: the receipt.
        await clerk.locator(".error-summary a").first.click()
        await expect(wrong).to_be_focused()
        await wrong.fill("5")
        await clerk.get_by_role("button", name="Gửi báo cáo").click()
        await expect(clerk.get_by_role("heading", name="Đã nhận báo cáo")).to_be_visible()
        await expect(clerk.locator(".receipt-facts")).to_contain_text("Gửi muộn")
        await expect(clerk.locator(".receipt-facts")).to_contain_text("SHA-256")
        await expect(clerk.locator("code.hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        await expect(clerk.locator("table.figures").first).to_be_visible()
        await expect(clerk.get_by_role("cell", name="12,5", exact=True)).to_be_visible()
        await clerk.screenshot(path=shots / "2-receipt.png")

        # The reviewer sees the ward counted and returns the report with a reason.
        reviewer = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(reviewer, "pnv")
        await reviewer.goto("/theo-doi/2023-H1")
        missing_heading = reviewer.locator("#chua-gui")

        async def ward_counted() -> bool:
            # Consolidation hears of the report through NATS, a moment after the receipt.
            if "(19)" in await missing_heading.inner_text():
                return True
            await reviewer.reload()
            return False

        await eventually(ward_counted, timeout=20, interval=0.3)
        missing = reviewer.locator("section", has=missing_heading)
        await expect(missing).to_contain_text("UBND phường Nam Hồng (18118)")
        await expect(missing).not_to_contain_text(f"({WARD})")
        row = reviewer.locator("#tung-don-vi ~ table tr", has_text=f"({WARD})")
        await expect(row).to_contain_text("Gửi muộn")
        assert await has_no_horizontal_scroll(reviewer)
        await reviewer.screenshot(path=shots / "3-dashboard.png", full_page=True)
        await row.get_by_role("link", name=re.compile("Xem và xét duyệt")).click()
        await expect(reviewer.get_by_role("heading", name="Xét duyệt báo cáo")).to_be_visible()
        await reviewer.get_by_label("Lý do trả lại (đơn vị sẽ thấy)").fill(RETURN_REASON)
        await reviewer.get_by_role("button", name="Trả lại để bổ sung").click()
        await expect(reviewer.locator(".notice").first).to_contain_text("Đã trả lại báo cáo")

        # The clerk sees the reason, on a phone as well, and the form fits the screen.
        await clerk.goto("/")
        await expect(clerk.locator(".return-reason")).to_contain_text(RETURN_REASON)
        phone = await new_page(chromium, portal_url, PHONE)
        await sign_in(phone, WARD)
        await expect(phone.locator(".return-reason")).to_contain_text(RETURN_REASON)
        await phone.get_by_role("link", name="Bổ sung theo yêu cầu").click()
        await expect(phone.locator(".notice-warning")).to_contain_text(RETURN_REASON)
        await expect(field(phone, QUA_HAN)).to_have_value("5")  # the sent version, to amend
        assert await has_no_horizontal_scroll(phone)
        await field(phone, LUOT_NGUOI).fill("-3")
        await phone.get_by_role("button", name="Bổ sung theo yêu cầu").click()
        await expect(error_of(phone, LUOT_NGUOI)).to_contain_text(
            "phải nằm trong khoảng từ 0 đến 1.000.000"
        )
        await expect(field(phone, LUOT_NGUOI)).to_have_value("-3")
        assert await has_no_horizontal_scroll(phone)
        await phone.screenshot(path=shots / "4-phone-refused.png", full_page=False)


async def test_a_scan_upload_a_vuong_mac_answer_and_an_ad_hoc_request_in_a_real_browser(
    chromium: Browser, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    """Chromium's own multipart upload, date and time inputs and checkboxes reach the
    backends; the new pages fit a phone's width."""
    from playwright.async_api import expect

    scan = tmp_path / "bao-cao-da-ky.pdf"
    scan.write_bytes(b"%PDF-1.7\n%signed scan\n")
    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        clerk = await new_page(chromium, portal_url, PHONE)
        await sign_in(clerk, WARD)
        await open_report_form(clerk)
        narratives = clerk.locator('textarea[name$=".narrative"]')
        for index in range(await narratives.count()):
            await narratives.nth(index).fill("Không phát sinh")
        await clerk.get_by_label("Tồn tại, hạn chế và nguyên nhân").fill("Không có.")
        await clerk.get_by_label("Phương hướng, nhiệm vụ thời gian tới").fill("Tiếp tục.")
        await clerk.locator('[name="vuong_mac"]').first.fill("Xin hướng dẫn mẫu biên bản.")
        await clerk.get_by_role("button", name="Gửi báo cáo").click()
        await expect(clerk.get_by_role("heading", name="Đã nhận báo cáo")).to_be_visible()

        await clerk.get_by_label("Đính kèm bản quét báo cáo đã ký, đóng dấu").set_input_files(scan)
        await clerk.get_by_role("button", name="Tải tệp lên").click()
        await expect(clerk.locator(".notice-success")).to_contain_text("bao-cao-da-ky.pdf")
        await expect(clerk.locator(".attachments a")).to_have_text("bao-cao-da-ky.pdf")
        await expect(clerk.locator("#lich-su ~ table")).to_contain_text(WARD)
        assert await has_no_horizontal_scroll(clerk)

        reviewer = await new_page(chromium, portal_url, PHONE)
        await sign_in(reviewer, "pnv")
        await reviewer.get_by_role("link", name="Khó khăn, vướng mắc").click()
        await expect(reviewer.locator("#chua-tra-loi")).to_have_text("Chưa trả lời (1)")
        await reviewer.get_by_label("Trả lời, hướng dẫn đơn vị").fill("Dùng mẫu số 02.")
        await reviewer.get_by_role("button", name="Gửi trả lời").click()
        await expect(reviewer.locator("#da-tra-loi")).to_have_text("Đã trả lời (1)")
        assert await has_no_horizontal_scroll(reviewer)

        await reviewer.get_by_role("link", name="Yêu cầu báo cáo đột xuất").click()
        assert await has_no_horizontal_scroll(reviewer)
        await reviewer.get_by_label("Tên yêu cầu báo cáo").fill("Báo cáo nhanh tiếp dân")
        # Next year's 30/12: the registry refuses deadlines more than five years ahead.
        due = date(date.today().year + 1, 12, 30)
        await reviewer.get_by_label("ngày", exact=True).fill(due.isoformat())
        await reviewer.get_by_label("Trước giờ (không bắt buộc)", exact=True).fill("16:30")
        await reviewer.get_by_label("Chỉ các đơn vị được chọn").check()
        await reviewer.get_by_label("UBND phường Bắc Hồng").check()
        # The document that asked for the report (căn cứ), recorded with the request.
        asked_on = date.today() - timedelta(days=3)
        await reviewer.get_by_label("Loại văn bản").fill("Công văn")
        await reviewer.get_by_label("Số văn bản").fill("125/SNV-XDCQ")
        await reviewer.get_by_label("Ngày văn bản").fill(asked_on.isoformat())
        await reviewer.get_by_label("Cơ quan ban hành").fill("Sở Nội vụ")
        await reviewer.get_by_label("Trích yếu").fill("về việc báo cáo nhanh công tác tiếp dân")
        assert await has_no_horizontal_scroll(reviewer)
        await reviewer.get_by_role("button", name="Gửi yêu cầu báo cáo").click()
        await expect(reviewer.locator(".notice-success")).to_contain_text("giao cho 1 đơn vị")
        await expect(reviewer.locator(".lead")).to_contain_text(f"trước 16:30 ngày {due:%d/%m/%Y}")
        await expect(reviewer.locator("#can-cu")).to_have_text(
            f"Căn cứ: Công văn số 125/SNV-XDCQ ngày {asked_on:%d/%m/%Y} của Sở Nội vụ về việc "
            "báo cáo nhanh công tác tiếp dân"
        )

        await clerk.goto("/vuong-mac")
        await expect(clerk.locator(".difficulty-answer")).to_contain_text("Dùng mẫu số 02.")
        await clerk.goto("/")
        await expect(clerk.get_by_text("Báo cáo nhanh tiếp dân")).to_be_visible()
        assert await has_no_horizontal_scroll(clerk)
