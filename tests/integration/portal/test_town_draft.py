"""The town report's draft (dự thảo): Phòng Nội vụ edits parts, saves over the version read
(409 names who saved in between, the typed texts kept), reloads the figures without losing
its edits; leaders read it; excerpts of units' narratives are picked from the report page."""

from __future__ import annotations

import html as html_lib
import re

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem
from tests.integration.portal.test_report_form import FORM, filled_form

PAGE = "/theo-doi/2023-H1/du-thao"


def _form(html: str) -> dict[str, str]:
    """Every field of the draft form as the page shows it."""
    data = {
        name: html_lib.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    }
    for name, text in re.findall(
        r'<textarea id="[^"]+" name="(part\.[^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        data[name] = html_lib.unescape(text)
    return data


async def _ward_sends(browser: Browser, narrative: str = "Không phát sinh") -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    sent = await browser.client.post(
        FORM, data=filled_form(page, **{"sections.1.narrative": narrative})
    )
    assert sent.status_code == 303, sent.text
    browser.client.cookies.clear()


async def test_the_reviewer_edits_a_part_and_saves_with_the_digests_read(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    page = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Dự thảo báo cáo tổng hợp" in page
    assert "Chưa lưu lần nào" in page
    assert "I. KẾT QUẢ THỰC HIỆN" in page and "Tự động theo số liệu" in page
    assert "Số và ngày của Kế hoạch chưa được điền" in page  # the plan-number warning
    assert 'href="/theo-doi/2023-H1/bao-cao-tong-hop.docx"' in page
    data = _form((await browser.page(PAGE)).text)
    assert data["version"] == "0"
    data["part.ton_tai"] = "Ba phường gửi báo cáo chậm; số liệu TTHC chưa khớp."
    saved = await browser.client.post(PAGE, data=data)
    assert saved.status_code == 303
    [put] = system.sent("PUT", "/v1/periods/2023-H1/draft")
    assert put.body["version"] == 0
    assert (
        put.body["parts"]["ton_tai"]["text"]
        == "Ba phường gửi báo cáo chậm; số liệu TTHC chưa khớp."
    )
    assert put.body["parts"]["1"]["base"]  # every part goes with the digest it was read with
    after = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Đã lưu dự thảo (phiên bản 1)." in after
    assert "1, lưu lúc 10:00 05/06/2023 bởi Phòng Nội vụ" in after
    assert "Đã sửa tay" in after
    history = after.split('id="lich-su-du-thao"', 1)[1]
    assert "Phòng Nội vụ" in history and "(hiện hành)" in history


async def test_new_figures_update_generated_parts_and_keep_hand_edits(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    data = _form((await browser.page(PAGE)).text)
    data["part.hoan_thanh"] = "Viết tay: tình hình gửi báo cáo."
    await browser.client.post(PAGE, data=data)
    browser.client.cookies.clear()
    await _ward_sends(browser)
    await browser.login("pnv")
    page = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Có 1/3 đơn vị báo cáo kết quả quán triệt." in page  # generated, updated
    assert ">Viết tay: tình hình gửi báo cáo.</textarea>" in page  # the edit stays
    assert "Thay đổi từ lần lưu trước (phiên bản 1):" in page
    assert "nội dung sửa tay được giữ nguyên, đề nghị rà soát lại" in page

    # Following the figures again: the reset box.
    data = _form((await browser.page(PAGE)).text)
    data["reset.hoan_thanh"] = "1"
    await browser.client.post(PAGE, data=data)
    put = system.sent("PUT", "/v1/periods/2023-H1/draft")[-1]
    assert put.body["parts"]["hoan_thanh"] == {"reset": True}
    assert ">1/3 đơn vị đã gửi.</textarea>" in (await browser.page(PAGE)).text


async def test_a_save_over_a_newer_version_names_who_saved_and_keeps_the_typed_text(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("pnv")
    stale = _form((await browser.page(PAGE)).text)
    other = dict(stale)
    other["part.ton_tai"] = "Bản của người khác."
    await browser.client.post(PAGE, data=other)  # somebody saves version 1 first
    stale["part.ton_tai"] = "Bản của tôi."
    refused = await browser.client.post(PAGE, data=stale)
    assert refused.status_code == 409
    text = html_lib.unescape(refused.text)
    assert "Dự thảo đã được Phòng Nội vụ lưu lúc 10:00 05/06/2023 (phiên bản 1)" in text
    assert ">Bản của tôi.</textarea>" in text  # nothing typed is lost
    assert "Nội dung vừa được lưu ở phần này" in text and "Bản của người khác." in text
    assert 'name="version" value="1"' in refused.text  # saving again is a deliberate choice
    assert len(system.pages.town_drafts["2023-H1"]["history"]) == 1


async def test_a_leader_reads_the_draft_without_a_form(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("lanhdao")
    page = await browser.page(PAGE)
    assert page.status_code == 200
    assert "<textarea" not in page.text and "Lưu dự thảo" not in page.text
    assert "Một số đơn vị gửi chậm." in page.text
    refused = await browser.client.post(
        PAGE, data={"csrf_token": Browser.hidden(page.text, "csrf_token")}
    )
    assert refused.status_code == 403
    assert not system.sent("PUT", "/v1/periods/2023-H1/draft")
    dashboard = (await browser.page("/theo-doi/2023-H1")).text
    assert "Xem dự thảo báo cáo tổng hợp" in dashboard


async def test_the_reviewer_picks_an_excerpt_from_the_report_page(
    browser: Browser, system: FakeSystem
) -> None:
    await _ward_sends(browser, "Tổ chức 12 hội nghị; mô hình «Dân vận khéo» ở tổ dân phố 3.")
    [report] = system.reports.values()
    await browser.login("pnv")
    page = (await browser.page(f"/bao-cao/{report['report_id']}")).text
    assert f'action="/bao-cao/{report["report_id"]}/trich-dan"' in page
    picked = await browser.client.post(
        f"/bao-cao/{report['report_id']}/trich-dan",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "period_id": "2023-H1",
            "unit_code": "18115",
            "field": "1",
            "text": "mô hình «Dân vận khéo» ở tổ dân phố 3.",
        },
    )
    assert picked.status_code == 303
    [post] = system.sent("POST", "/v1/periods/2023-H1/highlights")
    assert post.body == {
        "unit_code": "18115",
        "field": "1",
        "text": "mô hình «Dân vận khéo» ở tổ dân phố 3.",
    }
    again = html_lib.unescape((await browser.page(f"/bao-cao/{report['report_id']}")).text)
    assert "Đã đưa đoạn trích vào dự thảo báo cáo tổng hợp" in again
    assert "Đã đưa vào báo cáo tổng hợp" in again
    draft = html_lib.unescape((await browser.page(PAGE)).text)
    assert "mô hình «Dân vận khéo» ở tổ dân phố 3." in draft.split('id="trich-dan"', 1)[1]

    wrong = await browser.client.post(
        f"/bao-cao/{report['report_id']}/trich-dan",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "period_id": "2023-H1",
            "unit_code": "18115",
            "field": "1",
            "text": "Câu không có trong báo cáo.",
        },
        follow_redirects=True,
    )
    assert "Đoạn trích không có trong báo cáo hiện hành" in html_lib.unescape(wrong.text)

    remove = re.search(r'action="(/bao-cao/[^"]+/trich-dan/h1/bo)"', again)
    assert remove
    await browser.client.post(
        remove.group(1),
        data={"csrf_token": Browser.hidden(again, "csrf_token"), "period_id": "2023-H1"},
    )
    assert not system.pages.highlights["2023-H1"]


async def test_a_unit_has_no_pick_form(browser: Browser, system: FakeSystem) -> None:
    await _ward_sends(browser)
    [report] = system.reports.values()
    await browser.login("18115")
    page = (await browser.page(f"/bao-cao/{report['report_id']}")).text
    assert "trich-dan" not in page
