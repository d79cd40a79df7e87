"""The pages of issues 10 and 11 in a real Chromium, in front of the real services.

A ward clerk starts the 2023-Y report (form 2023.2): "Dùng báo cáo kỳ trước" says plainly
there is no earlier report, the autosave keeps what is typed across a reload, the
six-month report once sent gives the draft its narratives, and the report goes out with the
leader check (plan II.5) answered; the receipt's link gives the unit's own .docx.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.test_portal_in_chromium import (
    DESKTOP,
    field,
    new_page,
    running_system,
    sign_in,
)
from tests.support.http import eventually

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.browser

WARD = "18115"
ANNUAL = "/ky/2023-Y/bao-cao"
SIX_MONTH = "/ky/2023-H1/bao-cao"
CHECK = "sections.8.lanh_dao_phu_trach"


async def open_form(page: Page, path: str) -> None:
    """The form at this address, once intake has heard of the period."""
    await page.goto(path)

    async def form_shown() -> bool:
        if await page.locator("form#bieu-mau").count():
            return True
        await page.reload()
        return False

    await eventually(form_shown, timeout=20, interval=0.3)


async def fill_every_narrative(page: Page, text: str) -> None:
    narratives = page.locator('textarea[name$=".narrative"]')
    for index in range(await narratives.count()):
        await narratives.nth(index).fill(text)


async def test_a_clerk_saves_a_draft_reloads_it_and_starts_from_last_period(
    chromium: Any, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    shots = tmp_path / "screenshots"
    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        clerk = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(clerk, WARD)
        await open_form(clerk, ANNUAL)
        status = clerk.locator("#trang-thai-ban-nhap")
        await expect(status).to_contain_text("Chưa lưu bản nháp")

        # No earlier report yet: a clear message, nothing lost.
        await (
            clerk.locator(".draft-bar").get_by_role("button", name="Dùng báo cáo kỳ trước").click()
        )
        await expect(clerk.locator(".notice-error").first).to_contain_text(
            "Đơn vị chưa có báo cáo định kỳ nào của kỳ trước"
        )

        # The autosave keeps what is typed, without pressing anything.
        await field(clerk, "sections.1.narrative").fill("Nháp năm: đã ban hành 2 kế hoạch.")
        await expect(status).to_contain_text("Đã lưu bản nháp lúc", timeout=10_000)
        await expect(status).to_contain_text("điểm cần hoàn thiện trước khi gửi")
        await clerk.reload()
        await expect(field(clerk, "sections.1.narrative")).to_have_value(
            "Nháp năm: đã ban hành 2 kế hoạch."
        )
        await expect(status).to_contain_text("Đã lưu bản nháp lúc")
        await expect(clerk.locator(".draft-problems summary")).to_contain_text(
            "điểm cần hoàn thiện trước khi gửi"
        )

        # The button saves too (the page comes back with the notice).
        await field(clerk, "sections.2.narrative").fill("Mục 2 viết bằng nút lưu.")
        await clerk.get_by_role("button", name="Lưu bản nháp").click()
        await expect(clerk.locator(".notice-success").first).to_contain_text("Đã lưu bản nháp lúc")
        await expect(field(clerk, "sections.2.narrative")).to_have_value("Mục 2 viết bằng nút lưu.")

        # The six-month report, sent: the annual draft can start from it.
        await open_form(clerk, SIX_MONTH)
        await fill_every_narrative(clerk, "Kết quả 6 tháng.")
        await clerk.get_by_label("Tồn tại, hạn chế và nguyên nhân").fill("Hạn chế 6 tháng.")
        await clerk.get_by_label("Phương hướng, nhiệm vụ thời gian tới").fill(
            "Phương hướng 6 tháng."
        )
        await clerk.get_by_role("button", name="Gửi báo cáo").click()
        await expect(clerk.get_by_role("heading", name="Đã nhận báo cáo")).to_be_visible()

        await open_form(clerk, ANNUAL)
        await (
            clerk.locator(".form-actions")
            .get_by_role("button", name="Dùng báo cáo kỳ trước")
            .click()
        )
        await expect(clerk.locator(".notice-success").first).to_contain_text(
            "từ báo cáo 6 tháng đầu năm 2023"
        )
        await expect(field(clerk, "sections.1.narrative")).to_have_value(
            "Nháp năm: đã ban hành 2 kế hoạch."  # what was written stays
        )
        await expect(field(clerk, "sections.4.narrative")).to_have_value("Kết quả 6 tháng.")
        await expect(clerk.get_by_label("Phương hướng, nhiệm vụ thời gian tới")).to_have_value(
            "Phương hướng 6 tháng."
        )
        await clerk.screenshot(path=shots / "1-draft-prefilled.png", full_page=False)

        # Sent with the leader check: the seed holds no leader, so the clerk names one.
        await fill_every_narrative(clerk, "Không phát sinh")
        await expect(clerk.locator(f'[id="{CHECK}"]')).to_contain_text(
            "Chủ tịch Ủy ban nhân dân trực tiếp phụ trách"
        )
        await clerk.get_by_label("Báo lãnh đạo phụ trách hiện nay").check()
        await clerk.get_by_label("Họ và tên lãnh đạo phụ trách").fill("Nguyễn Văn An")
        await clerk.get_by_label("Chức vụ của lãnh đạo phụ trách").fill("Chủ tịch UBND phường")
        await clerk.get_by_role("button", name="Gửi báo cáo").click()
        await expect(clerk.get_by_role("heading", name="Đã nhận báo cáo")).to_be_visible()
        await expect(clerk.locator(".leader-answer")).to_contain_text(
            "nay là Nguyễn Văn An, Chủ tịch UBND phường"
        )

        # The unit's own document, from the receipt: the real .docx names the unit as issuer.
        async with clerk.expect_download() as download_info:
            await clerk.get_by_role("link", name="Tải văn bản báo cáo (.docx)").click()
        download = await download_info.value
        saved = tmp_path / "bao-cao-don-vi.docx"
        await download.save_as(saved)
        from docx import Document

        text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
        assert "phường Bắc Hồng".upper() in text.upper()
        assert "NGUYỄN VĂN AN" in text.upper()  # the leader the clerk reported
