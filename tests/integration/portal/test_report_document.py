"""The unit's own report as a .docx (intake's `document.docx`), linked from the receipt and
each version, passed through the portal with the user's token."""

from __future__ import annotations

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem
from tests.integration.portal.test_report_form import filled_form

FORM = "/ky/2023-H1/bao-cao"


async def _sent(browser: Browser) -> str:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    sent = await browser.client.post(FORM, data=filled_form(html))
    assert sent.status_code == 303, sent.text
    return str(sent.headers["location"])


async def test_the_receipt_links_the_unit_s_document_and_the_portal_passes_it_on(
    browser: Browser, system: FakeSystem
) -> None:
    receipt = await browser.page(await _sent(browser))
    [report] = system.reports.values()
    link = f'href="/bao-cao/{report["report_id"]}/van-ban.docx"'
    assert link in receipt.text
    assert "Tải văn bản báo cáo (.docx)" in receipt.text
    assert "in, trình lãnh đạo ký, đóng dấu, quét rồi đính kèm" in receipt.text
    document = await browser.client.get(f"/bao-cao/{report['report_id']}/van-ban.docx")
    assert document.status_code == 200
    assert document.content == "PK docx UBND phường Bắc Hồng v1".encode()
    assert document.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert document.headers["content-disposition"] == (
        'attachment; filename="bao-cao-2023-H1-18115-v1.docx"'
    )
    [asked] = system.sent("GET", f"/v1/reports/{report['report_id']}/document.docx")
    assert asked.headers["authorization"].startswith("Bearer ")


async def test_each_version_has_its_document_and_a_missing_one_says_so(
    browser: Browser, system: FakeSystem
) -> None:
    await _sent(browser)
    [report] = system.reports.values()
    page = (await browser.page(f"/bao-cao/{report['report_id']}")).text
    assert f'href="/bao-cao/{report["report_id"]}/van-ban.docx?phien_ban=1"' in page
    one = await browser.client.get(f"/bao-cao/{report['report_id']}/van-ban.docx?phien_ban=1")
    assert one.content.endswith(b"v1")
    missing = await browser.client.get(
        f"/bao-cao/{report['report_id']}/van-ban.docx?phien_ban=7", follow_redirects=True
    )
    assert "Báo cáo không có phiên bản 7." in missing.text


async def test_the_office_downloads_it_too(browser: Browser, system: FakeSystem) -> None:
    await _sent(browser)
    [report] = system.reports.values()
    await browser.client.post("/dang-xuat", data={"csrf_token": await browser.csrf("/")})
    await browser.login("pnv")
    page = (await browser.page(f"/bao-cao/{report['report_id']}")).text
    assert "Tải văn bản báo cáo (.docx)" in page
    assert "quét rồi đính kèm" not in page  # that advice is the unit's
    document = await browser.client.get(f"/bao-cao/{report['report_id']}/van-ban.docx")
    assert document.status_code == 200
