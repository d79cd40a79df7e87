"""The portal in front of the real registry, intake and consolidation over real NATS.

Shows that the pages speak the real services' shapes: sign in with a registry token, the
form comes from intake, a refused report comes back with intake's issues at their fields,
a sent report gets its receipt, and the reviewer's dashboard shows it via consolidation.
Reminders is left out (unreachable) to show the portal degrading with a notice.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.portal.app import create_app as create_portal
from services.portal.settings import PortalSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from shared.clock import VN_TZ
from tests.integration.portal.test_report_form import filled_form
from tests.support.http import eventually, serve_app
from tests.support.nats import free_port

PASSWORD = "mat-khau-thu"


def common(database_url: str, nats_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "nats_url": nats_url,
        "env": "test",
        "outbox_poll_seconds": 0.2,
        "consumer_backoff_seconds": 0.1,
        **extra,
    }


async def login(client: httpx.AsyncClient, username: str) -> httpx.Response:
    page = await client.get("/dang-nhap")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return await client.post(
        "/dang-nhap",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )


async def test_a_ward_reports_through_the_portal_and_the_reviewer_sees_it(
    nats_server: Any, databases: Any, tmp_path: Any
) -> None:
    registry = create_registry(
        RegistrySettings(
            **common(await databases.url("registry"), nats_server.url), demo_password=PASSWORD
        )
    )
    async with serve_app(registry) as registry_url:
        jwks = f"{registry_url}/.well-known/jwks.json"
        intake = create_intake(
            IntakeSettings(
                **common(await databases.url("intake"), nats_server.url),
                data_dir=tmp_path / "intake",
                jwks_url=jwks,
            )
        )
        consolidation = create_consolidation(
            ConsolidationSettings(
                **common(await databases.url("consolidation"), nats_server.url),
                data_dir=tmp_path / "consolidation",
                jwks_url=jwks,
            )
        )
        async with serve_app(intake) as intake_url, serve_app(consolidation) as consolidation_url:
            portal = create_portal(
                PortalSettings(
                    env="test",
                    registry_url=registry_url,
                    intake_url=intake_url,
                    consolidation_url=consolidation_url,
                    reminders_url=f"http://127.0.0.1:{free_port()}",  # nobody listens
                    session_secret="s" * 40,
                )
            )
            async with (
                serve_app(portal) as portal_url,
                httpx.AsyncClient(base_url=portal_url) as browser,
            ):
                await _ward_submits(browser)
                browser.cookies.clear()
                await _reviewer_reads(browser)


async def _ward_submits(browser: httpx.AsyncClient) -> None:
    signed_in = await login(browser, "18115")
    assert signed_in.status_code == 303, signed_in.text
    home = await browser.get("/")
    assert "6 tháng đầu năm 2023" in home.text and "quá hạn" in home.text

    async def form_ready() -> str | None:
        page = await browser.get("/ky/2023-H1/bao-cao")
        return page.text if page.status_code == 200 else None

    html = await eventually(form_ready, timeout=20)  # intake learns periods from events
    assert 'id="sections.8"' in html and 'id="sections.9"' not in html
    refused = await browser.post(
        "/ky/2023-H1/bao-cao",
        data=filled_form(
            html,
            **{
                "sections.3.narrative": "",
                "sections.4.indicators.ho_so_tthc_tiep_nhan": "10",
                "sections.4.indicators.ho_so_truc_tuyen": "12",
            },
        ),
    )
    assert refused.status_code == 422, refused.text
    assert 'id="sections.3.narrative-error-1"' in refused.text
    assert 'id="sections.4.indicators.ho_so_truc_tuyen-error-1"' in refused.text
    sent = await browser.post(
        "/ky/2023-H1/bao-cao",
        data=filled_form(refused.text, **{"sections.6.indicators.nhan_dan_dong_gop": "12,5"}),
    )
    assert sent.status_code == 303, sent.text
    receipt = await browser.get(sent.headers["location"])
    assert "Đã nhận báo cáo" in receipt.text
    assert "Gửi muộn" in receipt.text  # the real clock is past 10/06/2023
    assert "12,5" in receipt.text
    assert re.search(r'<code class="hash">[0-9a-f]{64}</code>', receipt.text)


async def _reviewer_reads(browser: httpx.AsyncClient) -> None:
    assert (await login(browser, "pnv")).status_code == 303

    async def counted() -> str | None:
        page = await browser.get("/theo-doi/2023-H1")
        return page.text if "Đơn vị chưa gửi báo cáo (19)" in page.text else None

    page = await eventually(counted, timeout=20)
    missing = page[page.index('id="chua-gui"') : page.index('id="tung-don-vi"')]
    assert "UBND phường Nam Hồng" in missing and "UBND phường Bắc Hồng" not in missing
    assert "Chưa xem được nhật ký đôn đốc" in page  # reminders is down: a notice
    letter = await browser.get("/theo-doi/2023-H1/cong-van-don-doc.docx")
    assert letter.status_code == 303
    notice = (await browser.get(letter.headers["location"])).text
    assert "Không kết nối được dịch vụ đôn đốc" in notice


async def test_difficulties_attachments_and_ad_hoc_requests_against_the_real_services(
    nats_server: Any, databases: Any, tmp_path: Any
) -> None:
    """A ward raises a vướng mắc and attaches its scan, the reviewer answers in the portal,
    the ward reads the answer; then the reviewer opens an ad-hoc request the ward sees."""
    registry = create_registry(
        RegistrySettings(
            **common(await databases.url("registry"), nats_server.url), demo_password=PASSWORD
        )
    )
    async with serve_app(registry) as registry_url:
        intake = create_intake(
            IntakeSettings(
                **common(await databases.url("intake"), nats_server.url),
                data_dir=tmp_path / "intake",
                jwks_url=f"{registry_url}/.well-known/jwks.json",
            )
        )
        async with serve_app(intake) as intake_url:
            nobody = f"http://127.0.0.1:{free_port()}"
            portal = create_portal(
                PortalSettings(
                    env="test",
                    registry_url=registry_url,
                    intake_url=intake_url,
                    consolidation_url=nobody,
                    reminders_url=nobody,
                    session_secret="s" * 40,
                )
            )
            async with (
                serve_app(portal) as portal_url,
                httpx.AsyncClient(base_url=portal_url) as browser,
            ):
                report_url = await _ward_raises_and_attaches(browser)
                browser.cookies.clear()
                await _reviewer_answers(browser)
                browser.cookies.clear()
                await _ward_reads_the_answer(browser, report_url)
                browser.cookies.clear()
                await _reviewer_requests_ad_hoc(browser)
                browser.cookies.clear()
                await _ward_sees_the_request(browser)


ASKED = "Đề nghị hướng dẫn cách tính tỷ lệ hồ sơ trực tuyến."
ANSWER = "Tính trên tổng số hồ sơ tiếp nhận trong kỳ, không tính hồ sơ chuyển tiếp."
AD_HOC = "Báo cáo nhanh tình hình tiếp dân tháng cao điểm"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def _ward_raises_and_attaches(browser: httpx.AsyncClient) -> str:
    assert (await login(browser, "18115")).status_code == 303

    async def form_ready() -> str | None:
        page = await browser.get("/ky/2023-H1/bao-cao")
        return page.text if page.status_code == 200 else None

    html = await eventually(form_ready, timeout=20)
    sent = await browser.post("/ky/2023-H1/bao-cao", data=filled_form(html, vuong_mac=[ASKED, ""]))
    assert sent.status_code == 303, sent.text
    report_url = sent.headers["location"].split("?")[0]
    page = (await browser.get(report_url)).text
    uploaded = await browser.post(
        f"{report_url}/dinh-kem",
        data={"csrf_token": _csrf(page)},
        files={"file": ("bao-cao-ky.pdf", b"%PDF-1.7\n%scan\n", "application/pdf")},
    )
    assert uploaded.status_code == 303, uploaded.text
    refused = await browser.post(
        f"{report_url}/dinh-kem",
        data={"csrf_token": _csrf(page)},
        files={"file": ("anh.pdf", b"GIF89a not a pdf", "application/pdf")},
    )
    assert refused.status_code in (415, 422), refused.text
    assert 'id="loi-dinh-kem"' in refused.text
    page = (await browser.get(report_url)).text
    link = re.search(rf'href="({re.escape(report_url)}/dinh-kem/[^"]+)">bao-cao-ky.pdf<', page)
    assert link, page
    download = await browser.get(link.group(1))
    assert download.status_code == 200 and download.content == b"%PDF-1.7\n%scan\n"
    history = page[page.index('id="lich-su"') :]
    assert '<td data-label="Phiên bản">1 <small>(hiện hành)</small>' in history
    assert '<td data-label="Người gửi">18115</td>' in history
    return report_url


async def _reviewer_answers(browser: httpx.AsyncClient) -> None:
    assert (await login(browser, "pnv")).status_code == 303
    page = (await browser.get("/vuong-mac?ky=2023-H1")).text
    assert ASKED in page and "Chưa trả lời (1)" in page
    found = re.search(r'action="/vuong-mac/([^"/]+)/tra-loi"', page)
    assert found
    answered = await browser.post(
        f"/vuong-mac/{found.group(1)}/tra-loi",
        data={"csrf_token": _csrf(page), "ky": "2023-H1", "answer": ANSWER},
    )
    assert answered.status_code == 303, answered.text
    after = (await browser.get(answered.headers["location"])).text
    assert "Đã trả lời (1)" in after and ANSWER in after


async def _ward_reads_the_answer(browser: httpx.AsyncClient, report_url: str) -> None:
    assert (await login(browser, "18115")).status_code == 303
    page = (await browser.get("/vuong-mac")).text
    assert ASKED in page and ANSWER in page and "Phòng Nội vụ trả lời lúc" in page
    home = (await browser.get("/")).text
    assert "Phòng Nội vụ đã trả lời 1." in home
    confirm = (await browser.get(f"{report_url}/rut")).text
    withdrawn = await browser.post(f"{report_url}/rut", data={"csrf_token": _csrf(confirm)})
    assert withdrawn.status_code == 303
    after = (await browser.get(withdrawn.headers["location"])).text
    assert "Đã rút báo cáo." in after and "Gửi lại báo cáo" in after


async def _reviewer_requests_ad_hoc(browser: httpx.AsyncClient) -> None:
    assert (await login(browser, "pnv")).status_code == 303
    page = (await browser.get("/yeu-cau-dot-xuat")).text
    assert 'name="units" value="18115"' in page
    due = datetime.now(VN_TZ).date() + timedelta(days=10)
    created = await browser.post(
        "/yeu-cau-dot-xuat",
        data={
            "csrf_token": _csrf(page),
            "idempotency_key": re.findall(r'name="idempotency_key" value="([^"]+)"', page)[0],
            "title": AD_HOC,
            "content": "Số lượt tiếp dân, số đơn thư tiếp nhận.",
            "due_date": due.isoformat(),
            "due_time": "17:00",
            "scope": "kinds",
            "kinds": ["ward"],
        },
    )
    assert created.status_code == 303, created.text
    assert re.fullmatch(r"/theo-doi/\d{4}-DX-01", created.headers["location"])
    dashboard = (await browser.get(created.headers["location"])).text
    assert f"trước 17:00 ngày {due:%d/%m/%Y}" in dashboard


async def _ward_sees_the_request(browser: httpx.AsyncClient) -> None:
    assert (await login(browser, "18115")).status_code == 303
    home = (await browser.get("/")).text
    assert AD_HOC in home
    period_id = re.search(r'href="/ky/(\d{4}-DX-01)/bao-cao"', home)
    assert period_id

    async def form_ready() -> str | None:
        page = await browser.get(f"/ky/{period_id.group(1)}/bao-cao")
        return page.text if page.status_code == 200 else None

    form = await eventually(form_ready, timeout=20)  # intake learns the period from its event
    assert 'name="noi_dung"' in form and 'name="vuong_mac"' in form


async def test_the_admin_sets_a_leader_in_charge_against_the_real_registry(
    nats_server: Any, databases: Any
) -> None:
    registry = create_registry(
        RegistrySettings(
            **common(await databases.url("registry"), nats_server.url), demo_password=PASSWORD
        )
    )
    async with serve_app(registry) as registry_url:
        nobody = f"http://127.0.0.1:{free_port()}"
        portal = create_portal(
            PortalSettings(
                env="test",
                registry_url=registry_url,
                intake_url=nobody,
                consolidation_url=nobody,
                reminders_url=nobody,
                session_secret="s" * 40,
            )
        )
        async with serve_app(portal) as portal_url, httpx.AsyncClient(base_url=portal_url) as b:
            assert (await login(b, "admin")).status_code == 303
            listing = (await b.get("/don-vi")).text
            assert "UBND phường Nam Hồng" in listing and "Đơn vị hiện có" in listing
            page = (await b.get("/don-vi/18118")).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            typed = {
                "csrf_token": token.group(1),
                "leader_full_name": "Phạm Thị Dung",
                "leader_title": "Phó Chủ tịch UBND phường",
                "leader_email": "dung@",
                "contact_emails": "namhong@hatinh.gov.vn",
            }
            refused = await b.post("/don-vi/18118", data=typed)
            assert refused.status_code == 422, refused.text
            assert 'id="leader_email-error"' in refused.text
            assert 'value="dung@"' in refused.text
            saved = await b.post(
                "/don-vi/18118", data=typed | {"leader_email": "dung.pt@hatinh.gov.vn"}
            )
            assert saved.status_code == 303, saved.text
            after = (await b.get("/don-vi/18118")).text
            assert "Đã cập nhật lãnh đạo phụ trách" in after
            history = after[after.index('id="lich-su"') :]
            assert "Phạm Thị Dung" in history and "nay" in history
