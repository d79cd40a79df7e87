"""Issue 9.3 through the portal: the real portal in front of the real registry (real
database, real nats-server). The portal tells the registry the browser's address — the one
its trusted gateway wrote, never one a browser wrote itself — so 40 failed sign-ins from one
address slow that address down, and `pnv`'s correct password from it still signs in."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from services.registry import store
from tests.integration.revocation_town import PASSWORD, Town, town

# Where the test stands: the gateway on 127.0.0.1 (the portal's and the registry's trusted
# proxy), and a browser reaching the portal directly from 127.0.0.2 (not trusted).
GATEWAY = "127.0.0.1"
UNTRUSTED_PEER = "127.0.0.2"
ATTACKER = "203.0.113.7"
# Past its 30 free failures an address waits before each check, doubling from 0.1 s up to
# this cap (the defaults are 1 s and 5 s; smaller here so 40 failures take a few seconds).
SLOW_DOWN_CAP = 0.5
# A correct password from the slowed address: the cap plus the Argon2 check and two HTTP hops.
CORRECT_SIGN_IN_BOUND = SLOW_DOWN_CAP + 2.5
# Each account gets its free failures (5) and no more: the address, not an account, is tried.
GUESSED = ("admin", "lanhdao", "18115", "18118", "18121", "18124", "18127", "18130")

REGISTRY = {
    "trust_forwarded_for": True,
    "trusted_proxies": (f"{GATEWAY}/32",),  # where the portal runs
    "login_ip_delay_seconds": 0.1,
    "login_ip_delay_max_seconds": SLOW_DOWN_CAP,
}
PORTAL = {"trusted_proxies": (f"{GATEWAY}/32",)}  # the gateway


async def csrf_of(browser: httpx.AsyncClient) -> str:
    page = await browser.get("/dang-nhap")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(
    browser: httpx.AsyncClient, username: str, password: str, forwarded_for: str
) -> httpx.Response:
    return await browser.post(
        "/dang-nhap",
        data={"csrf_token": await csrf_of(browser), "username": username, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


async def failures_counted(city: Town, address: str) -> int:
    """The registry's failure counter for this client address (0 when it has none)."""
    context = city.registry_app.state.context
    key = f"ip:{address}"
    async with context.store.reading() as session:
        record = (await store.failure_records(session, [key])).get(key)
    return 0 if record is None else record.failures


async def slowed_down(city: Town) -> float:
    """The registry's danvan_login_slowed_total, from its /metrics."""
    answer = await city.http.get(f"{city.registry}/metrics")
    assert answer.status_code == 200, answer.text
    found = re.search(r"^danvan_login_slowed_total (\S+)$", answer.text, re.MULTILINE)
    assert found, answer.text
    return float(found.group(1))


def browser_from(city: Town, local_address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=city.urls["portal"],
        timeout=30,
        transport=httpx.AsyncHTTPTransport(local_address=local_address),
    )


async def test_40_failures_from_one_address_then_pnvs_correct_password_through_the_portal(
    nats_server: Any, databases: Any, tmp_path: Any
) -> None:
    async with town(
        nats_server, databases, tmp_path, registry_overrides=REGISTRY, portal_overrides=PORTAL
    ) as city:
        async with browser_from(city, GATEWAY) as gateway:
            for attempt in range(40):
                refused = await sign_in(
                    gateway, GUESSED[attempt % len(GUESSED)], f"sai-{attempt}", ATTACKER
                )
                assert refused.status_code == 401, refused.text
                assert "Tên đăng nhập hoặc mật khẩu không đúng." in refused.text
            # The registry counted the browser's address the gateway wrote, not the portal's.
            assert await failures_counted(city, ATTACKER) == 40
            assert await failures_counted(city, GATEWAY) == 0

            slowed_before = await slowed_down(city)
            started = time.monotonic()
            signed_in = await sign_in(gateway, "pnv", PASSWORD, ATTACKER)
            took = time.monotonic() - started
            assert signed_in.status_code == 303, signed_in.text
            # Slowed down as that address (proof it was counted as the same one), not refused,
            # and not beyond the bound.
            assert await slowed_down(city) == slowed_before + 1
            assert SLOW_DOWN_CAP <= took < CORRECT_SIGN_IN_BOUND, took
            home = await gateway.get("/", follow_redirects=True)
            assert "/dang-nhap" not in str(home.url), home.text

        # Another person behind the same gateway is not slowed at all.
        async with browser_from(city, GATEWAY) as gateway:
            other = await sign_in(gateway, "pnv", "sai-khac", "198.51.100.20")
            assert other.status_code == 401
            assert await failures_counted(city, "198.51.100.20") == 1
            assert await slowed_down(city) == slowed_before + 1


async def test_a_browsers_own_forwarded_for_from_an_untrusted_peer_is_not_believed(
    nats_server: Any, databases: Any, tmp_path: Any
) -> None:
    async with (
        town(
            nats_server, databases, tmp_path, registry_overrides=REGISTRY, portal_overrides=PORTAL
        ) as city,
        browser_from(city, UNTRUSTED_PEER) as browser,
    ):
        forged = "198.51.100.99"
        refused = await sign_in(browser, "18115", "sai-mat-khau", f"{forged}, {GATEWAY}")
        assert refused.status_code == 401, refused.text
        # The registry saw the portal's direct peer, not the address the browser wrote.
        assert await failures_counted(city, UNTRUSTED_PEER) == 1
        assert await failures_counted(city, forged) == 0
        assert await failures_counted(city, GATEWAY) == 0

        signed_in = await sign_in(browser, "18115", PASSWORD, forged)
        assert signed_in.status_code == 303, signed_in.text
