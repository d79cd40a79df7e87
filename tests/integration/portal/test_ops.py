"""Health, readiness, metrics, static files, headers and error pages."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.portal.app import create_app
from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import portal_settings


async def test_health_readiness_and_metrics_answer(browser: Browser) -> None:
    assert (await browser.client.get("/healthz")).json() == {"status": "ok"}
    ready = await browser.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"registry": "ok", "intake": "ok"}
    await browser.page("/dang-nhap")
    metrics = (await browser.client.get("/metrics")).text
    assert "danvan_http_requests_total{" in metrics
    assert 'service="portal",status="200"' in metrics
    assert 'danvan_portal_backend_up{backend="registry"} 1.0' in metrics


async def test_readiness_fails_when_a_required_backend_is_down() -> None:
    def unreachable(base_url: str) -> httpx.AsyncClient:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        return httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url=base_url)

    app = create_app(portal_settings(), http_client_factory=unreachable)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["registry"].startswith("error")
            # The login page still works and says plainly what is wrong on sign-in.
            page = await client.get("/dang-nhap")
            token = Browser.hidden(page.text, "csrf_token")
            answer = await client.post(
                "/dang-nhap",
                data={"csrf_token": token, "username": "18115", "password": "x"},
            )
            assert "Không kết nối được dịch vụ danh mục và đăng nhập" in answer.text


async def test_pages_carry_security_headers_and_are_not_cached(browser: Browser) -> None:
    page = await browser.page("/dang-nhap")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="vi">' in page.text
    assert '<meta name="viewport"' in page.text
    assert "<script" not in page.text


async def test_the_stylesheet_is_served_locally(browser: Browser) -> None:
    css = await browser.client.get("/static/portal.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
    assert "@media (max-width: 40rem)" in css.text
    assert "http" not in css.text.split("*/", 1)[1]  # no external fonts or CDNs


async def test_an_unknown_page_is_a_vietnamese_404_page(browser: Browser) -> None:
    response = await browser.page("/khong-co")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text
    api = await browser.client.get("/khong-co", headers={"accept": "application/json"})
    assert api.json()["error"]["message"] == "Địa chỉ này không có trên Cổng báo cáo."


async def test_an_expired_session_sends_the_user_back_to_login(browser: Browser) -> None:
    await browser.login("18115")
    browser.app.state.portal.clock.advance(timedelta(hours=2))
    response = await browser.page("/")
    assert response.status_code == 303
    login = await browser.page(response.headers["location"])
    assert "Phiên đăng nhập đã hết hạn" in login.text
