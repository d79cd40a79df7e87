"""Khó khăn, vướng mắc: a unit raises one at any time and follows up, Phòng Nội vụ answers on
the thread, leaders only read; the dashboard shows the open threads and their age."""

from __future__ import annotations

import html as html_lib
from datetime import timedelta

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
    [posted] = system.sent("POST", f"/v1/difficulties/{difficulty_id}/messages")
    assert posted.body == {"text": "Áp dụng Hướng dẫn số 12-HD/BDVTU."}
    assert posted.headers["idempotency-key"]
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
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/messages")


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
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/messages")


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
    assert not system.sent("POST", f"/v1/difficulties/{difficulty_id}/messages")


async def test_a_unit_raises_a_difficulty_outside_any_report_and_the_office_sees_it(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(PAGE)).text
    assert 'action="/vuong-mac/moi"' in page
    assert '<option value="2023-H1">6 tháng đầu năm 2023</option>' in page
    key = Browser.hidden(page, "idempotency_key")
    data = {
        "csrf_token": Browser.hidden(page, "csrf_token"),
        "idempotency_key": key,
        "text": "Chưa rõ cách tính số hội nghị đối thoại.",
        "period_id": "2023-Y",
    }
    raised = await browser.client.post(f"{PAGE}/moi", data=data)
    assert raised.status_code == 303
    again = await browser.client.post(f"{PAGE}/moi", data=data)  # a double click
    assert again.status_code == 303
    sent = system.sent("POST", "/v1/difficulties")
    assert [s.body for s in sent] == [
        {"period_id": "2023-Y", "text": "Chưa rõ cách tính số hội nghị đối thoại."}
    ] * 2
    assert sent[0].headers["idempotency-key"] == key
    (thread,) = system.difficulties.values()  # one thread for the same key
    assert thread["report_id"] is None
    mine = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Đã gửi khó khăn, vướng mắc đến Phòng Nội vụ" in mine
    assert "(ngoài báo cáo)" in mine and "Chưa trả lời (1)" in mine

    browser.client.cookies.clear()
    await browser.login("pnv")
    office = (await browser.page(PAGE)).text
    assert "Chưa rõ cách tính số hội nghị đối thoại." in office
    assert 'action="/vuong-mac/moi"' not in office  # only units raise


async def test_an_empty_difficulty_is_refused_with_its_message_and_nothing_sent(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(PAGE)).text
    refused = await browser.client.post(
        f"{PAGE}/moi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "text": "  ", "period_id": ""},
    )
    assert refused.status_code == 422
    assert 'id="loi-moi"' in refused.text and "Vui lòng nhập nội dung khó khăn" in refused.text
    assert not system.sent("POST", "/v1/difficulties")


async def test_the_unit_follows_up_after_the_answer_and_the_thread_waits_again(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("pnv")
    page = (await browser.page(PAGE)).text
    await browser.client.post(
        f"{PAGE}/{difficulty_id}/tra-loi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "answer": "Xem Hướng dẫn 12."},
    )
    browser.client.cookies.clear()
    await browser.login("18115")
    ward = (await browser.page(PAGE)).text
    assert f'action="/vuong-mac/{difficulty_id}/trao-doi"' in ward
    followed = await browser.client.post(
        f"{PAGE}/{difficulty_id}/trao-doi",
        data={
            "csrf_token": Browser.hidden(ward, "csrf_token"),
            "text": "Hướng dẫn 12 chưa nói về tổ dân phố mới sáp nhập.",
        },
    )
    assert followed.status_code == 303
    [posted] = system.sent("POST", f"/v1/difficulties/{difficulty_id}/messages")[-1:]
    assert posted.body == {"text": "Hướng dẫn 12 chưa nói về tổ dân phố mới sáp nhập."}
    thread = html_lib.unescape((await browser.page(PAGE)).text)
    assert "Đã gửi ý kiến trao đổi thêm" in thread
    assert "Chưa trả lời (1)" in thread  # the unit wrote last: it waits for Phòng Nội vụ
    assert "Phòng Nội vụ trả lời lúc 10:00 05/06/2023:" in thread
    assert "Đơn vị trao đổi thêm lúc 10:00 05/06/2023:" in thread

    browser.client.cookies.clear()
    system.clock.advance(timedelta(days=4))
    await browser.login("pnv")
    office = html_lib.unescape((await browser.page(PAGE)).text)
    waiting = office[office.index('id="chua-tra-loi"') : office.index('id="da-tra-loi"')]
    assert "UBND phường Bắc Hồng trao đổi thêm lúc" in waiting
    assert "chờ trả lời 4 ngày" in waiting


async def test_a_follow_up_on_another_unit_s_thread_is_not_found(
    browser: Browser, system: FakeSystem
) -> None:
    difficulty_id = await _ward_raises(browser, system)
    await browser.login("PVHTT")
    page = (await browser.page(PAGE)).text
    refused = await browser.client.post(
        f"{PAGE}/{difficulty_id}/trao-doi",
        data={"csrf_token": Browser.hidden(page, "csrf_token"), "text": "Tôi cũng hỏi."},
    )
    assert refused.status_code == 404
    assert f"Không tìm thấy vướng mắc «{difficulty_id}»." in html_lib.unescape(refused.text)
