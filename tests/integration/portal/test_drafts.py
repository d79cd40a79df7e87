"""A unit's draft (bản nháp): saved by the button or the autosave, shown again with when it was
saved and what it still lacks (never blocking), started from last period's report."""

from __future__ import annotations

import html as html_lib
from datetime import timedelta

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem
from tests.integration.portal.test_report_form import filled_form

FORM = "/ky/2023-Y/bao-cao"
DRAFT = "/ky/2023-Y/ban-nhap"
PREFILL = "/ky/2023-Y/ban-nhap/ky-truoc"
NARRATIVE = "sections.1.narrative"
AUTOSAVE = {"x-tu-dong-luu": "1", "accept": "application/json"}


def _draft_form(html: str, **values: str) -> dict[str, object]:
    """The form half written: one narrative and one figure, the rest as the page has it."""
    data = filled_form(html, **values)
    for key in list(data):
        if key.endswith(".narrative") and key not in values:
            data[key] = ""
    return data


async def test_the_form_offers_the_draft_buttons_and_loads_the_autosave_script(
    browser: Browser,
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    assert f'formaction="{DRAFT}">Lưu bản nháp</button>' in html
    assert f'formaction="{PREFILL}">Dùng báo cáo kỳ trước</button>' in html
    assert f'data-draft-url="{DRAFT}"' in html
    assert '<script src="/static/ban-nhap.js" defer></script>' in html
    assert "Chưa lưu bản nháp." in html
    script = await browser.client.get("/static/ban-nhap.js")
    assert script.status_code == 200 and "X-Tu-Dong-Luu" in script.text


async def test_saving_a_half_written_report_keeps_it_with_its_problems_listed(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = _draft_form(
        html,
        **{NARRATIVE: "Đã ban hành kế hoạch.", "sections.1.indicators.van_ban_ban_hanh": "3"},
    )
    saved = await browser.client.post(DRAFT, data=data)
    assert saved.status_code == 303
    assert saved.headers["location"] == FORM
    [put] = system.sent("PUT", "/v1/periods/2023-Y/draft")
    assert put.body["sections"]["1"]["narrative"] == "Đã ban hành kế hoạch."
    assert put.body["sections"]["1"]["indicators"]["van_ban_ban_hanh"] == 3
    assert not system.reports  # a draft is not a report

    again = html_lib.unescape((await browser.page(FORM)).text)
    assert "Đã lưu bản nháp lúc 10:00 05/06/2023." in again  # the notice and the status line
    assert ">Đã ban hành kế hoạch.</textarea>" in again
    assert 'name="sections.1.indicators.van_ban_ban_hanh" value="3"' in again
    problems = again.split('class="draft-problems"', 1)[1].split("</details>", 1)[0]
    assert "điểm cần hoàn thiện trước khi gửi" in problems
    assert "chưa xác nhận hoặc báo thay đổi" in problems  # the leader check, not blocking
    assert 'class="error-summary"' not in again


async def test_the_autosave_answers_a_short_json_the_script_shows(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = _draft_form(html, **{NARRATIVE: "Đang viết…"})
    answer = await browser.client.post(DRAFT, data=data, headers=AUTOSAVE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["saved"] is True
    assert body["text"].startswith("Đã lưu bản nháp lúc 10:00 05/06/2023.")
    assert "điểm cần hoàn thiện trước khi gửi" in body["text"]
    assert system.pages.drafts[("2023-Y", "18115")]["content"]["sections"]["1"]["narrative"] == (
        "Đang viết…"
    )


async def test_an_autosave_without_the_form_token_is_refused_in_json(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = {**_draft_form(html), "csrf_token": "sai"}
    answer = await browser.client.post(DRAFT, data=data, headers=AUTOSAVE)
    assert answer.status_code == 403
    assert answer.json()["saved"] is False
    assert not system.pages.drafts


async def test_an_autosave_after_the_sign_in_expired_says_so_and_saves_nothing(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    browser.app.state.portal.clock.advance(timedelta(hours=2))
    answer = await browser.client.post(DRAFT, data=_draft_form(html), headers=AUTOSAVE)
    assert answer.status_code == 401
    assert "Phiên đăng nhập đã hết hạn" in answer.json()["text"]
    button = await browser.client.post(DRAFT, data=_draft_form(html, **{NARRATIVE: "Giữ lại"}))
    assert button.status_code == 401
    assert "bản nháp chưa được lưu" in button.text
    assert ">Giữ lại</textarea>" in button.text  # everything typed comes back
    assert not system.pages.drafts


async def test_sending_the_report_removes_the_draft(browser: Browser, system: FakeSystem) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    await browser.client.post(DRAFT, data=_draft_form(html, **{NARRATIVE: "Nháp"}))
    page = (await browser.page(FORM)).text
    sent = await browser.client.post(
        FORM, data=filled_form(page, **{"sections.8.lanh_dao_phu_trach.confirmed": "xac-nhan"})
    )
    assert sent.status_code == 303, sent.text
    assert not system.pages.drafts
    assert "Chưa lưu bản nháp." in (await browser.page(FORM)).text


async def test_prefill_without_an_earlier_report_says_so_clearly(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    answer = await browser.client.post(
        PREFILL, data={"csrf_token": Browser.hidden(html, "csrf_token")}
    )
    assert answer.status_code == 303
    page = html_lib.unescape((await browser.page(FORM)).text)
    assert "Đơn vị chưa có báo cáo định kỳ nào của kỳ trước để dùng làm bản nháp." in page
    assert 'class="notice notice-error"' in page


async def test_prefill_copies_last_period_s_narratives_and_keeps_what_was_typed(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    h1 = (await browser.page("/ky/2023-H1/bao-cao")).text
    sent = await browser.client.post(
        "/ky/2023-H1/bao-cao",
        data=filled_form(
            h1,
            **{
                "sections.1.narrative": "Kết quả 6 tháng mục 1.",
                "sections.1.indicators.van_ban_ban_hanh": "7",
            },
        ),
    )
    assert sent.status_code == 303, sent.text
    html = (await browser.page(FORM)).text
    data = _draft_form(html, **{"sections.2.narrative": "Tôi đã viết mục 2."})
    answer = await browser.client.post(PREFILL, data=data)
    assert answer.status_code == 303
    # What the form held was saved before the prefill, so nothing typed is lost.
    assert system.sent("PUT", "/v1/periods/2023-Y/draft")
    page = html_lib.unescape((await browser.page(FORM)).text)
    assert "ô nội dung từ báo cáo 6 tháng đầu năm 2023 (phiên bản 1)" in page
    assert ">Kết quả 6 tháng mục 1.</textarea>" in page
    assert ">Tôi đã viết mục 2.</textarea>" in page
    assert 'name="sections.1.indicators.van_ban_ban_hanh" value=""' in page  # figures empty
    assert "Bản nháp bắt đầu từ báo cáo 6 tháng đầu năm 2023." in page
