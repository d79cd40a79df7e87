"""The portal in front of the real registry, intake and consolidation over real NATS.

Shows that the pages speak the real services' shapes: sign in with a registry token, the
form comes from intake, a refused report comes back with intake's issues at their fields,
a sent report gets its receipt, and the reviewer's dashboard shows it via consolidation.
Reminders is left out (unreachable) to show the portal degrading with a notice.
"""

from __future__ import annotations

import re
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
    assert "Nộp muộn" in receipt.text  # the real clock is past 10/06/2023
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
