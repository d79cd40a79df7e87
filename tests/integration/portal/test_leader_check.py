"""Plan II.5 on the 2023.2 form: the leader the registry holds, confirmed or reported changed,
sent as intake's `sections.8.lanh_dao_phu_trach`; Phòng Nội vụ sees the reported changes."""

from __future__ import annotations

import html as html_lib
import re

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem
from tests.integration.portal.fakes_pages import leader_change
from tests.integration.portal.test_report_form import filled_form

FORM = "/ky/2023-Y/bao-cao"
CHECK = "sections.8.lanh_dao_phu_trach"


def _sent_check(system: FakeSystem) -> object:
    body = system.sent("POST", "/v1/reports")[-1].body
    assert isinstance(body, dict)
    return body["sections"]["8"].get("lanh_dao_phu_trach")


async def test_a_ward_sees_its_chairman_on_record_and_the_plan_s_wording(browser: Browser) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    assert f'id="{CHECK}"' in html
    assert "Chủ tịch Ủy ban nhân dân trực tiếp phụ trách công tác dân vận" in html
    assert "Theo danh mục đơn vị: <strong>Nguyễn Văn An</strong>, Phó Chủ tịch UBND phường" in html
    radios = re.findall(rf'name="{re.escape(CHECK)}.confirmed" value="([^"]*)"', html)
    assert radios == ["xac-nhan", "thay-doi"]
    assert "co_lanh_dao_phu_trach" not in html  # 2023.1's self-declared yes/no is gone


async def test_a_department_reads_the_01_leader_wording(browser: Browser) -> None:
    await browser.login("PVHTT")
    html = (await browser.page(FORM)).text
    assert "01 đồng chí lãnh đạo phụ trách công tác dân vận của chính quyền" in html
    assert "<strong>Trần Thị Bình</strong>, Trưởng phòng" in html


async def test_confirming_sends_confirmed_true_and_the_report_page_says_so(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    sent = await browser.client.post(
        FORM, data=filled_form(page, **{f"{CHECK}.confirmed": "xac-nhan"})
    )
    assert sent.status_code == 303, sent.text
    assert _sent_check(system) == {"confirmed": True}
    report = await browser.page(sent.headers["location"])
    assert "Đơn vị xác nhận lãnh đạo phụ trách theo danh mục đơn vị." in report.text


async def test_reporting_a_change_sends_the_new_leader(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    data = filled_form(
        page,
        **{
            f"{CHECK}.confirmed": "thay-doi",
            f"{CHECK}.full_name": "Phan Văn Mới",
            f"{CHECK}.title": "Chủ tịch UBND phường",
        },
    )
    sent = await browser.client.post(FORM, data=data)
    assert sent.status_code == 303, sent.text
    assert _sent_check(system) == {
        "confirmed": False,
        "full_name": "Phan Văn Mới",
        "title": "Chủ tịch UBND phường",
    }
    amend = (await browser.page(FORM)).text  # the sent version, to amend: the answer kept
    assert re.search(rf'name="{re.escape(CHECK)}.confirmed" value="thay-doi" checked', amend)
    assert 'value="Phan Văn Mới"' in amend


async def test_no_answer_is_refused_next_to_the_question_and_the_rest_is_kept(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    data = filled_form(page, **{"sections.1.narrative": "Đã ban hành kế hoạch."})
    refused = await browser.client.post(FORM, data=data)
    assert refused.status_code == 422
    text = html_lib.unescape(refused.text)
    assert "chưa xác nhận hoặc báo thay đổi" in text
    assert f'href="#{CHECK}"' in refused.text  # the summary links to the question
    fieldset = refused.text.split(f'id="{CHECK}"', 1)[1].split("</fieldset>", 1)[0]
    assert "chưa xác nhận hoặc báo thay đổi" in html_lib.unescape(fieldset)
    assert "Đã ban hành kế hoạch." in refused.text
    assert not system.reports


async def test_a_change_without_the_name_is_refused_on_the_name(browser: Browser) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    data = filled_form(page, **{f"{CHECK}.confirmed": "thay-doi", f"{CHECK}.title": "Chủ tịch"})
    refused = await browser.client.post(FORM, data=data)
    assert refused.status_code == 422
    assert f'id="{CHECK}.full_name-error-1"' in refused.text
    assert re.search(rf'id="{re.escape(CHECK)}.full_name" name="[^"]+" value=""', refused.text)
    assert 'value="Chủ tịch"' in refused.text


async def test_without_a_leader_on_record_the_unit_can_only_report_who_it_is(
    browser: Browser, system: FakeSystem
) -> None:
    system.units["18115"]["leader"] = None
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    assert "Danh mục đơn vị chưa có lãnh đạo phụ trách của đơn vị" in page
    radios = re.findall(rf'name="{re.escape(CHECK)}.confirmed" value="([^"]*)"', page)
    assert radios == ["thay-doi"]


async def test_the_office_sees_the_changes_units_reported_on_the_units_page(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    await browser.client.post(FORM, data=filled_form(page, **{f"{CHECK}.confirmed": "xac-nhan"}))
    report = next(iter(system.reports.values()))
    system.pages.leader_changes.append(
        leader_change(system, report, "Phan Văn Mới", "Chủ tịch UBND phường")
    )
    await browser.client.post("/dang-xuat", data={"csrf_token": await browser.csrf("/")})
    await browser.login("qtv")
    units = (await browser.page("/don-vi")).text
    section = units.split('id="bao-thay-doi"', 1)[1].split("</section>", 1)[0]
    assert "Đơn vị báo thay đổi lãnh đạo phụ trách (1)" in units
    assert "UBND phường Bắc Hồng" in section
    assert "Nguyễn Văn An" in section and "<strong>Phan Văn Mới</strong>" in section
    assert f'href="/bao-cao/{report["report_id"]}"' in section
    assert 'href="/don-vi/18115"' in section  # the admin updates the registry from here


async def test_a_leader_finds_the_units_page_in_the_navigation(browser: Browser) -> None:
    await browser.login("lanhdao")
    home = (await browser.page("/theo-doi")).text
    assert '<a href="/don-vi">Đơn vị và lãnh đạo phụ trách</a>' in home
    assert "Đơn vị báo thay đổi" not in (await browser.page("/don-vi")).text


async def test_a_change_the_registry_now_holds_leaves_the_list(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    page = (await browser.page(FORM)).text
    await browser.client.post(FORM, data=filled_form(page, **{f"{CHECK}.confirmed": "xac-nhan"}))
    report = next(iter(system.reports.values()))
    system.pages.leader_changes.append(leader_change(system, report, "Phan Văn Mới", "Chủ tịch"))
    system.units["18115"]["leader"] = {"full_name": "Phan Văn Mới", "title": "Chủ tịch"}
    await browser.client.post("/dang-xuat", data={"csrf_token": await browser.csrf("/")})
    await browser.login("pnv")
    assert "Đơn vị báo thay đổi lãnh đạo phụ trách" not in (await browser.page("/don-vi")).text
