"""Đăng nhập: the token goes into a signed HttpOnly cookie; errors are shown in Vietnamese."""

from __future__ import annotations

import httpx

from services.portal.session import COOKIE_NAME, decode_session
from tests.integration.portal.conftest import Browser
from tests.integration.portal.fakes import FakeSystem, build_portal, portal_settings


async def test_login_sets_a_signed_httponly_lax_cookie_and_opens_the_unit_home(
    browser: Browser,
) -> None:
    response = await browser.login("18115")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    home = await browser.page("/")
    assert home.status_code == 200
    assert "Báo cáo của đơn vị" in home.text
    assert "6 tháng đầu năm 2023" in home.text
    assert "trước ngày 10/06/2023" in home.text
    assert "còn 4 ngày" in home.text  # 05/06 10:00; the last day on time is 09/06


async def test_the_cookie_lasts_the_session_age_and_is_secure_when_configured(
    browser: Browser, system: FakeSystem
) -> None:
    settings = portal_settings()
    plain = (await browser.login("18115")).headers["set-cookie"]
    assert f"Max-Age={settings.session_max_age_seconds}" in plain
    assert "secure" not in plain.lower().replace("__secure", "")
    value = plain.split(";")[0].removeprefix(f"{COOKIE_NAME}=").strip('"')
    session = decode_session(
        value,
        settings.session_secret,
        now=int(system.clock.now().timestamp()),
        max_age=settings.session_max_age_seconds,
    )
    assert session is not None and session.username == "18115" and session.role == "unit"
    assert decode_session(value, "another-secret-" + "y" * 32, now=0, max_age=10**9) is None

    app = build_portal(system, cookie_secure=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            secure = await Browser(client, app).login("18115")
    assert "; secure" in secure.headers["set-cookie"].lower()
    assert "httponly" in secure.headers["set-cookie"].lower()


async def test_login_passes_the_browser_address_for_per_person_throttling(
    browser: Browser, system: FakeSystem
) -> None:
    await browser.login("18115")
    [sign_in] = system.sent("POST", "/v1/auth/token")
    assert sign_in.headers["x-forwarded-for"] == "127.0.0.1"


async def test_a_wrong_password_shows_the_vietnamese_error_and_sets_no_token(
    browser: Browser,
) -> None:
    response = await browser.login("18115", "sai-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.text
    assert 'value="18115"' in response.text  # the username is kept
    home = await browser.page("/")
    assert home.status_code == 303
    assert home.headers["location"].startswith("/dang-nhap")


async def test_a_login_post_without_the_csrf_token_is_refused(browser: Browser) -> None:
    await browser.page("/dang-nhap")
    response = await browser.client.post(
        "/dang-nhap",
        data={"username": "18115", "password": "mat-khau-dung"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 403
    assert "Biểu mẫu đã hết hiệu lực" in response.text


async def test_a_tampered_cookie_counts_as_signed_out(browser: Browser) -> None:
    await browser.login("18115")
    value = browser.client.cookies[COOKIE_NAME]
    payload, signature = value.rsplit(".", 1)
    browser.client.cookies.set(COOKIE_NAME, payload + "." + signature[::-1])
    response = await browser.page("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dang-nhap")


async def test_logout_forgets_the_token(browser: Browser, system: FakeSystem) -> None:
    await browser.login("18115")
    token = await browser.csrf("/")
    response = await browser.client.post("/dang-xuat", data={"csrf_token": token})
    assert response.status_code == 303
    # The token is revoked at the registry too, so no service accepts it any more.
    logouts = [r for r in system.requests if r.path == "/v1/auth/logout"]
    assert len(logouts) == 1 and logouts[0].headers["authorization"].startswith("Bearer ")
    after = await browser.page("/")
    assert after.status_code == 303


async def test_after_login_the_user_returns_to_the_page_asked_for_but_never_off_site(
    browser: Browser,
) -> None:
    asked = await browser.page("/ky/2023-H1/bao-cao")
    assert asked.headers["location"] == "/dang-nhap?next=%2Fky%2F2023-H1%2Fbao-cao"
    login_page = await browser.page(asked.headers["location"])
    assert 'name="next" value="/ky/2023-H1/bao-cao"' in login_page.text
    assert "Vui lòng đăng nhập để tiếp tục." in login_page.text
    token = Browser.hidden(login_page.text, "csrf_token")
    response = await browser.client.post(
        "/dang-nhap",
        data={
            "csrf_token": token,
            "username": "18115",
            "password": "mat-khau-dung",
            "next": "/ky/2023-H1/bao-cao",
        },
    )
    assert response.headers["location"] == "/ky/2023-H1/bao-cao"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = await browser.page(f"/dang-nhap?next={hostile}")
        assert page.headers["location"] == "/"  # already signed in: goes home, not away


async def test_the_request_id_follows_a_click_to_the_backends(
    browser: Browser, system: FakeSystem
) -> None:
    browser.client.headers["X-Request-Id"] = "trace-42"
    await browser.login("18115")
    [sign_in] = system.sent("POST", "/v1/auth/token")
    assert sign_in.headers["x-request-id"] == "trace-42"
