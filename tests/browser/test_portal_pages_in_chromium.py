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


async def test_the_reviewer_edits_the_town_draft_saves_and_downloads_it(
    chromium: Any, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    from docx import Document
    from playwright.async_api import expect

    edited = "Toàn thị xã tổ chức 45 hội nghị đối thoại với Nhân dân (viết tay)."
    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        reviewer = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(reviewer, "pnv")

        async def draft_shown() -> bool:
            # Consolidation learns the periods from the registry's events.
            await reviewer.goto("/theo-doi/2023-H1/du-thao")
            return bool(await reviewer.locator("form.town-draft").count())

        await eventually(draft_shown, timeout=20, interval=0.5)
        await expect(reviewer.get_by_role("heading", level=1)).to_have_text(
            "Dự thảo báo cáo tổng hợp"
        )
        first = reviewer.locator("form.town-draft textarea").first
        await first.fill(edited)
        await reviewer.get_by_role("button", name="Lưu dự thảo").click()
        await expect(reviewer.locator(".notice-success").first).to_contain_text(
            "Đã lưu dự thảo (phiên bản 1)."
        )
        await expect(first).to_have_value(edited)
        await expect(reviewer.locator(".draft-part.edited").first).to_contain_text("Đã sửa tay")
        await expect(reviewer.locator("#lich-su-du-thao ~ table")).to_contain_text("(hiện hành)")

        async with reviewer.expect_download() as download_info:
            await reviewer.get_by_role("link", name="Tải báo cáo tổng hợp (.docx)").click()
        download = await download_info.value
        saved = tmp_path / "bao-cao-tong-hop.docx"
        await download.save_as(saved)
        document = Document(str(saved))
        text = "\n".join(p.text for p in document.paragraphs)
        cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
        assert edited in text + cells
        assert "Phụ lục".upper() in (text + cells).upper()

        # A leader reads the same draft, without a form.
        leader = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(leader, "lanhdao")
        await leader.goto("/theo-doi/2023-H1/du-thao")
        await expect(leader.locator(".draft-part").first).to_contain_text(edited)
        assert await leader.locator("textarea").count() == 0


async def test_the_admin_checks_then_imports_a_unit_file(
    chromium: Any, nats_server: Any, databases: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    bad = tmp_path / "sai.csv"
    bad.write_text("code,name,kind\nPTN,Phòng thử nghiệm,phong\n", encoding="utf-8")
    good = tmp_path / "don-vi.csv"
    good.write_text(
        "code,name,kind,leader_full_name,leader_title\n"
        "18115,UBND phường Bắc Hồng,ward,Nguyễn Văn An,Chủ tịch UBND phường\n"
        "PTN,Phòng thử nghiệm,department,,\n",
        encoding="utf-8",
    )
    async with running_system(nats_server.url, databases, tmp_path) as portal_url:
        admin = await new_page(chromium, portal_url, DESKTOP)
        await sign_in(admin, "admin")
        await admin.get_by_role("link", name="Đơn vị và lãnh đạo phụ trách").click()
        await admin.get_by_role("link", name="Nhập danh mục đơn vị từ tệp (.csv, .xlsx)").click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text(
            "Nhập danh mục đơn vị từ tệp"
        )

        # A wrong file: every problem by row and column, nothing written, nothing to apply.
        await admin.get_by_label("Tệp danh mục đơn vị (.csv hoặc .xlsx)").set_input_files(bad)
        await admin.get_by_role("button", name="Kiểm tra tệp").click()
        await expect(admin.locator(".error-summary")).to_contain_text("chưa ghi đơn vị nào")
        await expect(admin.locator(".import-errors")).to_contain_text("Dòng 2")
        assert await admin.get_by_role("button", name="Nhập vào danh mục").count() == 0

        # The right file: checked first (nothing written), then applied as checked.
        await admin.get_by_label("Tệp danh mục đơn vị (.csv hoặc .xlsx)").set_input_files(good)
        await admin.get_by_role("button", name="Kiểm tra tệp").click()
        result = admin.locator(".import-result")
        await expect(result).to_contain_text("không có lỗi")
        await expect(result).to_contain_text("sẽ tạo mới 1, cập nhật 1")
        second = await admin.context.new_page()  # the same admin, another tab
        await second.goto("/don-vi")
        await expect(second.locator("main")).to_contain_text("UBND phường Bắc Hồng")
        await expect(second.locator("main")).not_to_contain_text("Phòng thử nghiệm")
        await second.close()
        await admin.get_by_role("button", name="Nhập vào danh mục").click()
        await expect(admin.locator(".import-result")).to_contain_text("Đã nhập tệp «don-vi.csv»")
        await admin.get_by_role("link", name="Xem danh mục đơn vị").click()
        row = admin.locator("tr", has_text="(18115)").or_(admin.locator("tr", has_text="18115"))
        await expect(row.first).to_contain_text("Nguyễn Văn An")
        await expect(admin.locator("main")).to_contain_text("Phòng thử nghiệm")
