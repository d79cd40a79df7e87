"""The dashboard's panels: difficulty threads waiting for Phòng Nội vụ with their age, and the
period's reminder schedule (lịch đôn đốc) from reminders' `/schedule`."""

from __future__ import annotations

import html as html_lib
from datetime import timedelta

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import NOW, FakeSystem
from tests.integration.portal.fakes_pages import planned
from tests.integration.portal.test_difficulties import ASKED, _ward_raises


def _section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


async def test_the_overview_lists_the_waiting_threads_oldest_first_with_their_age(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    system.clock.advance(timedelta(days=5))
    await browser.login("pnv")
    page = html_lib.unescape((await browser.page("/theo-doi")).text)
    panel = _section(page, "vuong-mac-cho")
    assert "Vướng mắc đang chờ trả lời (1)" in page
    assert "UBND phường Bắc Hồng" in panel and ASKED in panel
    assert "6 tháng đầu năm 2023" in panel
    assert "5 ngày" in panel and "badge-overdue" in panel
    assert f"/vuong-mac?ky=2023-H1#vm-{difficulty_id}" in panel


async def test_an_answered_thread_leaves_the_panel(browser: Browser, system: FakeSystem) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("pnv")
    page = (await browser.page("/vuong-mac")).text
    await browser.client.post(
        f"/vuong-mac/{difficulty_id}/tra-loi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "answer": "Đã hướng dẫn."},
    )
    overview = (await browser.page("/theo-doi")).text
    assert "Vướng mắc đang chờ trả lời (0)" in overview
    assert "Không có vướng mắc nào đang chờ trả lời." in overview


async def test_the_period_page_shows_the_reminder_schedule(
    browser: Browser, system: FakeSystem
) -> None:
    system.pages.schedule["2023-H1"] = [
        planned("18118", "UBND phường Nam Hồng", "before_3d", NOW + timedelta(days=2), "none"),
        planned("PVHTT", "Phòng Văn hóa - Thông tin", "due_day", NOW + timedelta(days=4)),
        planned("18118", "UBND phường Nam Hồng", "overdue_2", NOW + timedelta(days=40)),
    ]
    await browser.login("pnv")
    page = html_lib.unescape((await browser.page("/theo-doi/2023-H1")).text)
    schedule = _section(page, "lich-don-doc")
    assert "Lịch đôn đốc" in page
    assert "Nhắc hạn (trước 3 ngày)" in schedule and "Nhắc hạn ngày cuối" in schedule
    assert "10:00 07/06/2023" in schedule and "UBND phường Nam Hồng" in schedule
    assert "Không có kênh nhận" in schedule and "Thư điện tử" in schedule
    assert "1 đơn vị không có kênh nhận" in schedule
    assert "Đôn đốc quá hạn (lần 2)" not in schedule  # beyond the 31 days asked

    longer = html_lib.unescape((await browser.page("/theo-doi/2023-H1?lich=90")).text)
    assert "Đôn đốc quá hạn (lần 2)" in _section(longer, "lich-don-doc")
    assert "<strong>90 ngày</strong>" in longer


async def test_a_leader_sees_the_schedule_and_a_down_reminders_is_a_notice(
    browser: Browser, system: FakeSystem
) -> None:
    system.reminders_ready = False
    await browser.login("lanhdao")
    page = await browser.page("/theo-doi/2023-H1")
    assert page.status_code == 200
    schedule = html_lib.unescape(_section(page.text, "lich-don-doc"))
    assert "Chưa xem được lịch đôn đốc" in schedule
