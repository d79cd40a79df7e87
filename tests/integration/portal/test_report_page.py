"""A unit's report page: version history, withdrawing after a confirmation, the signed scan."""

from __future__ import annotations

import html as html_lib

from fastapi.responses import JSONResponse

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem, error
from tests.integration.portal.test_report_form import FORM, filled_form

PDF = b"%PDF-1.7\n% signed scan\n"


async def _ward_sends(browser: Browser, times: int = 1) -> str:
    await browser.login("18115")
    location = ""
    for _ in range(times):
        form = (await browser.page(FORM)).text
        sent = await browser.client.post(FORM, data=filled_form(form))
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
    return location.split("?")[0]


async def test_the_report_page_lists_every_version_newest_first_with_time_and_author(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser, times=2)
    page = (await browser.page(page_url)).text
    history = page[page.index('id="lich-su"') : page.index("</table>", page.index('id="lich-su"'))]
    rows = history.split("<tr>")[2:]
    assert len(rows) == 2
    assert rows[0].startswith('<td data-label="Phiên bản">2 <small>(hiện hành)</small>')
    assert "10:00 05/06/2023" in rows[0] and "18115" in rows[0]
    assert rows[1].startswith('<td data-label="Phiên bản">1</td>')


async def test_withdrawing_asks_for_confirmation_explains_it_then_withdraws(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    page = (await browser.page(page_url)).text
    assert f'href="/bao-cao/{report_id}/rut"' in page
    confirm = (await browser.page(f"/bao-cao/{report_id}/rut")).text
    assert "không còn được tính" in confirm and "Xác nhận rút báo cáo" in confirm
    assert not system.sent("POST", f"/v1/reports/{report_id}/withdraw")  # nothing yet
    done = await browser.client.post(
        f"/bao-cao/{report_id}/rut", data={"csrf_token": Browser.hidden(confirm, "csrf_token")}
    )
    assert done.status_code == 303
    assert len(system.sent("POST", f"/v1/reports/{report_id}/withdraw")) == 1
    after = (await browser.page(done.headers["location"])).text
    assert "Đã rút báo cáo." in after
    assert "Đã rút" in after and "Gửi lại báo cáo" in after
    assert "Rút báo cáo</a>" not in after and 'enctype="multipart/form-data"' not in after


async def test_a_withdrawn_report_is_sent_again_under_one_name_everywhere(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    system.reports[report_id]["status"] = "withdrawn"
    for page in ((await browser.page("/")).text, (await browser.page(page_url)).text):
        assert f'href="{FORM}">Gửi lại báo cáo</a>' in page
        assert "Sửa, gửi bản mới" not in page
    form = (await browser.page(FORM)).text
    assert "Gửi lại báo cáo</button>" in form and "«Gửi lại báo cáo»" in form
    assert "Gửi bản cập nhật" not in form and "Sửa, gửi bản mới" not in form
    # Shown again after a refusal, the form keeps the same button.
    bad = {"sections.6.indicators.nhan_dan_dong_gop": "nhiều"}
    refused = await browser.client.post(FORM, data=filled_form(form, **bad))
    assert refused.status_code == 422
    assert "Gửi lại báo cáo</button>" in refused.text


async def test_the_receipt_says_whether_the_report_was_on_time_as_intake_says(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]

    def timeliness(page: str) -> str:
        start = page.index("<dt>Thời hạn</dt>")
        return page[start : page.index("</div>", start)]

    on_time = timeliness((await browser.page(page_url)).text)
    assert "Đúng hạn" in on_time and "Gửi muộn" not in on_time
    system.reports[report_id]["on_time"] = False
    late = timeliness((await browser.page(page_url)).text)
    assert "Gửi muộn" in late and "Đúng hạn" not in late


async def test_an_answer_outside_intakes_contract_is_a_notice_never_half_a_page(
    browser: Browser, system: FakeSystem
) -> None:
    # `on_time` is always a yes or no in intake's ReportDetail; an answer without it breaks
    # the contract, and the portal says so instead of guessing.
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    broken = {**system.reports[report_id], "on_time": None}
    system.refusals[("GET", f"/v1/reports/{report_id}")] = JSONResponse(broken)
    page = await browser.page(page_url)
    assert page.status_code == 502
    assert "Câu trả lời của dịch vụ tiếp nhận báo cáo không đúng định dạng" in page.text
    assert "Traceback" not in page.text and "<dt>Thời hạn</dt>" not in page.text


async def test_a_refused_withdrawal_shows_intakes_vietnamese_message(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    system.refusals[("POST", f"/v1/reports/{report_id}/withdraw")] = error(
        409, "report_accepted", "Báo cáo đã được chấp nhận, không thể rút."
    )
    confirm = (await browser.page(f"/bao-cao/{report_id}/rut")).text
    done = await browser.client.post(
        f"/bao-cao/{report_id}/rut", data={"csrf_token": Browser.hidden(confirm, "csrf_token")}
    )
    after = (await browser.page(done.headers["location"])).text
    assert "Báo cáo đã được chấp nhận, không thể rút." in after


async def test_withdrawing_needs_the_csrf_token_and_a_unit_account(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    refused = await browser.client.post(f"/bao-cao/{report_id}/rut", data={})
    assert refused.status_code in (400, 403)
    browser.client.cookies.clear()
    await browser.login("pnv")
    page = (await browser.page(page_url)).text
    assert "/rut" not in page
    as_reviewer = await browser.client.post(
        f"/bao-cao/{report_id}/rut", data={"csrf_token": Browser.hidden(page, "csrf_token")}
    )
    assert as_reviewer.status_code == 403
    assert not system.sent("POST", f"/v1/reports/{report_id}/withdraw")


async def test_the_signed_scan_is_uploaded_listed_and_downloaded_through_the_portal(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    page = (await browser.page(page_url)).text
    assert 'enctype="multipart/form-data"' in page and "tối đa 10 MB" in page
    uploaded = await browser.client.post(
        f"/bao-cao/{report_id}/dinh-kem",
        data={"csrf_token": Browser.hidden(page, "csrf_token")},
        files={"file": ("báo cáo ký.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 303, uploaded.text
    (sent,) = system.sent("POST", f"/v1/reports/{report_id}/attachments")
    assert sent.body == {"filename": "báo cáo ký.pdf", "size": len(PDF)}
    assert sent.headers["authorization"].startswith("Bearer ")
    after = (await browser.page(uploaded.headers["location"])).text
    assert "Đã đính kèm tệp «báo cáo ký.pdf»." in html_lib.unescape(after)
    link = f"/bao-cao/{report_id}/dinh-kem/a1"
    assert f'href="{link}"' in after
    download = await browser.page(link)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="dinh-kem-a1.pdf"'

    browser.client.cookies.clear()
    await browser.login("lanhdao")  # intake does not let leaders download: no link
    as_leader = (await browser.page(page_url)).text
    assert "báo cáo ký.pdf" in html_lib.unescape(as_leader) and f'href="{link}"' not in as_leader


async def test_a_file_intake_refuses_shows_its_vietnamese_message_on_the_page(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    page = (await browser.page(page_url)).text
    refused = await browser.client.post(
        f"/bao-cao/{report_id}/dinh-kem",
        data={"csrf_token": Browser.hidden(page, "csrf_token")},
        files={"file": ("anh.gif", b"GIF89a....", "image/gif")},
    )
    assert refused.status_code == 415
    assert 'id="loi-dinh-kem"' in refused.text
    assert "Chỉ nhận tệp PDF, DOCX, JPEG hoặc PNG." in refused.text


async def test_no_file_or_a_file_over_10_mb_is_refused_before_reaching_intake(
    browser: Browser, system: FakeSystem
) -> None:
    page_url = await _ward_sends(browser)
    report_id = page_url.rsplit("/", 1)[1]
    page = (await browser.page(page_url)).text
    csrf = Browser.hidden(page, "csrf_token")
    empty = await browser.client.post(
        f"/bao-cao/{report_id}/dinh-kem",
        data={"csrf_token": csrf},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 422 and "Chưa chọn tệp để đính kèm." in empty.text
    big = await browser.client.post(
        f"/bao-cao/{report_id}/dinh-kem",
        data={"csrf_token": csrf},
        files={"file": ("to.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")},
    )
    assert big.status_code == 413 and "Tệp lớn hơn 10 MB" in big.text
    assert not system.sent("POST", f"/v1/reports/{report_id}/attachments")
