"""The report form: rendered from intake's form definition, submitted as intake's JSON body."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import PASSWORD, FakeSystem

FORM = "/ky/2023-H1/bao-cao"


def filled_form(html: str, **values: Any) -> dict[str, Any]:
    """Every field of the rendered form, narratives and Part B filled, plus the overrides."""
    data: dict[str, Any] = {}
    for name in ("csrf_token", "idempotency_key", "report_id", "report_status", "form_context"):
        data[name] = Browser.hidden(html, name)
    data["form_context"] = _unescape(str(data["form_context"]))
    for name in re.findall(r'<textarea id="[^"]+" name="(sections\.\d+\.narrative)"', html):
        data[name] = "Không phát sinh"
    for name in re.findall(r'<input type="text" id="[^"]+" name="([^"]+)"', html):
        data[name] = ""
    data["ton_tai_han_che"] = "Một số đơn vị gửi báo cáo chậm."
    data["phuong_huong"] = "Tiếp tục thực hiện Kế hoạch."
    data["de_xuat_kien_nghi"] = ""
    data["vuong_mac"] = [""] * 5
    data.update(values)
    return data


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


async def test_a_ward_sees_sections_1_to_8_with_ward_indicators_and_no_section_9(
    browser: Browser,
) -> None:
    await browser.login("18115")
    page = await browser.page(FORM)
    assert page.status_code == 200
    html = page.text
    for number in range(1, 9):
        assert f'id="sections.{number}"' in html
    assert 'id="sections.9"' not in html
    assert "Tuyên truyền trên phương tiện thông tin" not in html
    assert 'name="sections.6.indicators.nhan_dan_dong_gop"' in html  # wards only
    assert 'name="sections.8.indicators.ho_thoat_ngheo"' in html
    assert "Giá trị Nhân dân đóng góp (triệu đồng)" in html
    assert "Số liệu</dt><dd>tính từ ngày 15/12/2022 đến ngày 14/06/2023" in html
    # yes/no is three radio buttons, "not reported" being distinct from "Không".
    radios = re.findall(
        r'name="sections\.5\.indicators\.co_lanh_dao_phu_trach" value="([^"]*)"', html
    )
    assert radios == ["co", "khong", ""]
    assert html.count('name="vuong_mac"') == 5  # enough empty boxes without JavaScript
    assert '<label for="sections.4.indicators.ho_so_tthc_qua_han">' in html


async def test_a_communication_department_gets_section_9_but_no_ward_indicators(
    browser: Browser,
) -> None:
    await browser.login("PVHTT")
    html = (await browser.page(FORM)).text
    assert 'id="sections.9"' in html
    assert "nhan_dan_dong_gop" not in html
    assert "ho_thoat_ngheo" not in html


async def test_submitting_sends_the_json_body_and_the_idempotency_key_then_shows_the_receipt(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    key = Browser.hidden(html, "idempotency_key")
    data = filled_form(
        html,
        **{
            "sections.1.indicators.van_ban_ban_hanh": "3",
            "sections.4.indicators.ho_so_tthc_tiep_nhan": "1.250",
            "sections.4.indicators.ho_so_tthc_dung_han": "0",
            "sections.5.indicators.co_lanh_dao_phu_trach": "co",
            "sections.6.indicators.nhan_dan_dong_gop": "12,5",
            "vuong_mac": ["Chưa có hướng dẫn về mẫu biểu", ""],
        },
    )
    response = await browser.client.post(FORM, data=data)
    assert response.status_code == 303, response.text
    [sent] = system.sent("POST", "/v1/reports")
    assert sent.headers["idempotency-key"] == key
    assert sent.headers["authorization"].startswith("Bearer ")
    body = sent.body
    assert body["period_id"] == "2023-H1"
    assert set(body["sections"]) == {str(n) for n in range(1, 9)}
    indicators = body["sections"]["1"]["indicators"]
    assert indicators["van_ban_ban_hanh"] == 3
    assert indicators["hoi_nghi_quan_triet"] is None  # empty = not reported, not 0
    assert body["sections"]["4"]["indicators"]["ho_so_tthc_tiep_nhan"] == 1250
    assert body["sections"]["4"]["indicators"]["ho_so_tthc_dung_han"] == 0
    assert body["sections"]["5"]["indicators"]["co_lanh_dao_phu_trach"] is True
    assert body["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == 12.5
    assert body["sections"]["1"]["narrative"] == "Không phát sinh"
    assert body["vuong_mac"] == ["Chưa có hướng dẫn về mẫu biểu"]  # blank boxes dropped
    assert body["ton_tai_han_che"] == "Một số đơn vị gửi báo cáo chậm."

    receipt = await browser.page(response.headers["location"])
    assert receipt.status_code == 200
    [report] = system.reports.values()
    assert "Đã nhận báo cáo" in receipt.text
    assert report["report_id"] in receipt.text
    assert report["content_sha256"] in receipt.text
    assert "10:00 05/06/2023" in receipt.text  # thời điểm gửi, local time
    assert "Đúng hạn" in receipt.text
    assert "12,5" in receipt.text and "1.250" in receipt.text
    assert "Chưa báo cáo" in receipt.text


async def test_the_same_form_sent_twice_creates_one_report(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = filled_form(html)
    first = await browser.client.post(FORM, data=data)
    second = await browser.client.post(FORM, data=data)  # a double click or a resend
    assert first.headers["location"] == second.headers["location"]
    keys = {r.headers["idempotency-key"] for r in system.sent("POST", "/v1/reports")}
    assert len(keys) == 1
    assert len(system.reports) == 1


async def test_a_refused_report_comes_back_with_each_issue_at_its_field_and_the_values_kept(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = filled_form(
        html,
        **{
            "sections.2.narrative": "",
            "sections.4.indicators.ho_so_tthc_tiep_nhan": "10",
            "sections.4.indicators.ho_so_tthc_dung_han": "8",
            "sections.4.indicators.ho_so_tthc_qua_han": "5",
            "sections.1.indicators.van_ban_ban_hanh": "ba",
            "phuong_huong": "Giữ nguyên nội dung này",
        },
    )
    response = await browser.client.post(FORM, data=data)
    assert response.status_code == 422
    page = response.text
    assert "có 3 lỗi cần sửa" in page
    # The summary links to each field; each message sits just before its input.
    for path in (
        "sections.2.narrative",
        "sections.4.indicators.ho_so_tthc_qua_han",
        "sections.1.indicators.van_ban_ban_hanh",
    ):
        assert f'href="#{path}"' in page
        assert f'id="{path}-error-1"' in page
        field_html = page[page.index(f'id="{path}-error-1"') :]
        assert field_html.index(f'id="{path}"') < 2000
        assert f'aria-describedby="{path}-hint {path}-error-1"' in field_html
    assert 'value="ba"' in page  # what the clerk typed, even when it is not a number
    assert 'value="5"' in page
    assert "Giữ nguyên nội dung này</textarea>" in page
    assert "Mục 4. Cải cách hành chính" in page
    assert not system.reports
    # The corrected form is a new request, so it carries a new key.
    assert Browser.hidden(page, "idempotency_key") != data["idempotency_key"]


async def test_a_report_form_post_without_csrf_is_refused_and_nothing_is_sent(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = filled_form(html)
    del data["csrf_token"]
    response = await browser.client.post(FORM, data=data, headers={"accept": "text/html"})
    assert response.status_code == 403
    data["csrf_token"] = "gia-mao"
    response = await browser.client.post(FORM, data=data, headers={"accept": "text/html"})
    assert response.status_code == 403
    assert system.sent("POST", "/v1/reports") == []


async def test_an_existing_report_is_amended_with_put_and_its_values_prefilled(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    await browser.client.post(
        FORM, data=filled_form(html, **{"sections.6.indicators.nhan_dan_dong_gop": "7,5"})
    )
    [report] = system.reports.values()
    again = (await browser.page(FORM)).text
    assert Browser.hidden(again, "report_id") == report["report_id"]
    assert 'value="7,5"' in again
    assert "Sửa, gửi bản mới</button>" in again and "Gửi bản cập nhật" not in again
    response = await browser.client.post(FORM, data=filled_form(again))
    assert response.status_code == 303
    [put] = system.sent("PUT", f"/v1/reports/{report['report_id']}")
    assert put.headers["idempotency-key"] == Browser.hidden(again, "idempotency_key")
    assert system.reports[report["report_id"]]["version"] == 2


async def test_a_returned_report_shows_the_reason_on_home_and_form(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    await browser.client.post(FORM, data=filled_form(html))
    [report] = system.reports.values()
    report["status"] = "returned"
    report["review"] = {
        "decision": "returned",
        "reason": "Bổ sung số liệu mục 4",
        "version": 1,
        "reviewed_by": "pnv",
        "reviewed_at": None,
    }
    home = (await browser.page("/")).text
    assert "Bổ sung số liệu mục 4" in home
    assert "Bổ sung theo yêu cầu" in home
    form = (await browser.page(FORM)).text
    assert "Phòng Nội vụ trả lại báo cáo, đề nghị bổ sung:</strong> Bổ sung số liệu mục 4" in form


async def test_an_expired_sign_in_keeps_the_typed_report_and_sends_it_after_the_password(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    html = (await browser.page(FORM)).text
    data = filled_form(html, **{"sections.1.narrative": "Hai giờ soạn thảo không được mất"})
    browser.app.state.portal.clock.advance(timedelta(hours=2))  # the token lasts one hour

    kept = await browser.client.post(FORM, data=data)
    assert kept.status_code == 401
    assert "Phiên đăng nhập đã hết hạn nên báo cáo chưa được gửi" in kept.text
    assert "Hai giờ soạn thảo không được mất</textarea>" in kept.text
    assert 'name="reauth_password"' in kept.text
    assert Browser.hidden(kept.text, "idempotency_key") == data["idempotency_key"]
    assert system.sent("POST", "/v1/reports") == []

    wrong = await browser.client.post(FORM, data={**data, "reauth_password": "sai"})
    assert wrong.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    assert "Hai giờ soạn thảo không được mất</textarea>" in wrong.text

    sent = await browser.client.post(FORM, data={**data, "reauth_password": PASSWORD})
    assert sent.status_code == 303, sent.text
    [request] = system.sent("POST", "/v1/reports")
    assert request.body["sections"]["1"]["narrative"] == "Hai giờ soạn thảo không được mất"
    assert (await browser.page(sent.headers["location"])).status_code == 200  # signed in again
