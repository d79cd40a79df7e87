"""Khó khăn, vướng mắc: a unit reads the answers, Phòng Nội vụ answers, leaders only read."""

from __future__ import annotations

import html as html_lib

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem
from tests.integration.portal.test_report_form import FORM, filled_form

PAGE = "/vuong-mac"
ASKED = "Chưa có hướng dẫn chấm điểm tiêu chí dân vận khéo."


async def _ward_raises(browser: Browser, system: FakeSystem) -> str:
    await browser.login("18115")
    form = (await browser.page(FORM)).text
    sent = await browser.client.post(FORM, data=filled_form(form, vuong_mac=[ASKED, ""]))
    assert sent.status_code == 303, sent.text
    (difficulty_id,) = system.difficulties
    browser.client.cookies.clear()
    return difficulty_id


async def test_the_reviewer_sees_an_unanswered_difficulty_answers_it_and_the_ward_reads_it(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("pnv")
    page = (await browser.page(PAGE)).text
    unanswered = page[page.index('id="chua-tra-loi"') : page.index('id="da-tra-loi"')]
    assert ASKED in unanswered and "UBND phường Bắc Hồng" in unanswered
    assert "Chưa trả lời (1)" in page and "Đã trả lời (0)" in page
    answered = await browser.client.post(
        f"{PAGE}/{difficulty_id}/tra-loi",
        data={
            "csrf_token": Browser.hidden(page, "csrf_token"),
            "ky": "",
            "answer": "Áp dụng Hướng dẫn số 12-HD/BDVTU.",
        },
    )
    assert answered.status_code == 303
    assert system.sent("POST", f"/v1/difficulties/{difficulty_id}/answer")[-1].body == {
        "answer": "Áp dụng Hướng dẫn số 12-HD/BDVTU."
    }
    after = (await browser.page(answered.headers["location"])).text
    assert "Đã gửi trả lời" in after and "Đã trả lời (1)" in after

    browser.client.cookies.clear()
    await browser.login("18115")
    ward = (await browser.page(PAGE)).text
    assert "Áp dụng Hướng dẫn số 12-HD/BDVTU." in ward
    assert "Phòng Nội vụ trả lời lúc 10:00 05/06/2023" in ward
    assert "/tra-loi" not in ward  # a unit cannot answer
    home = (await browser.page("/")).text
    assert "Đơn vị đã nêu 1 khó khăn, vướng mắc; Phòng Nội vụ đã trả lời 1." in home


async def test_an_empty_answer_is_refused_at_its_field_without_calling_intake(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("pnv")
    page = (await browser.page(PAGE)).text
    refused = await browser.client.post(
        f"{PAGE}/{difficulty_id}/tra-loi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "answer": "   "},
    )
    assert refused.status_code == 422
    assert f'id="loi-{difficulty_id}"' in refused.text
    assert "Vui lòng nhập nội dung trả lời" in refused.text
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/answer")


async def test_intakes_refusal_is_shown_with_the_typed_answer_kept(
    browser: Browser, system: FakeSystem
) -> None:
    await _ward_raises(browser, system)
    await browser.login("pnv")
    page = (await browser.page(PAGE)).text
    refused = await browser.client.post(
        f"{PAGE}/khong-co/tra-loi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "answer": "Trả lời thử"},
    )
    assert refused.status_code == 404
    assert "Không tìm thấy vướng mắc «khong-co»." in html_lib.unescape(refused.text)


async def test_a_leader_reads_the_difficulties_but_has_no_answer_form_nor_route(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("lanhdao")
    page = await browser.page(PAGE)
    assert page.status_code == 200 and ASKED in page.text
    assert "<textarea" not in page.text
    refused = await browser.client.post(
        f"{PAGE}/{difficulty_id}/tra-loi",
        data={"csrf_token": Browser.hidden(page.text, "csrf_token"), "answer": "x"},
    )
    assert refused.status_code == 403
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/answer")


async def test_the_period_filter_is_passed_to_intake_and_kept_selected(
    browser: Browser, system: FakeSystem
) -> None:
    await _ward_raises(browser, system)
    await browser.login("pnv")
    other = (await browser.page(f"{PAGE}?ky=2023-Y")).text
    assert ASKED not in other and "Chưa trả lời (0)" in other
    assert '<option value="2023-Y" selected>' in other
    same = (await browser.page(f"{PAGE}?ky=2023-H1")).text
    assert ASKED in same


async def test_an_answer_without_the_csrf_token_is_refused(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("pnv")
    refused = await browser.client.post(f"{PAGE}/{difficulty_id}/tra-loi", data={"answer": "x"})
    assert refused.status_code in (400, 403)
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/answer")
