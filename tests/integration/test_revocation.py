"""Issue 9.4 end to end: what an admin or the user does at the registry makes the tokens
issued before fail on every service within 5 seconds — the registry itself, two intake
replicas, reminders, consolidation and the portal — and a token issued after works."""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.integration.revocation_town import (
    REVOKED_WITHIN,
    Town,
    accepted,
    refused,
    town,
)
from tests.support.http import eventually

NEW_PASSWORD = "Sen-hong-linh-2026"


async def refused_within_deadline(city: Town, token: str) -> None:
    """Poll every service until each refuses the token as revoked; at most 5 s."""
    started = time.monotonic()
    last: dict[str, tuple[int, str]] = {}

    async def everywhere() -> bool:
        last.update(await city.answers(token))
        return refused(last)

    try:
        await eventually(everywhere, timeout=REVOKED_WITHIN, interval=0.1)
    except AssertionError:
        raise AssertionError(f"not refused everywhere within {REVOKED_WITHIN} s: {last}") from None
    assert time.monotonic() - started < REVOKED_WITHIN


async def patch_account(city: Town, username: str, changes: dict[str, Any]) -> None:
    answer = await city.http.patch(
        f"{city.registry}/v1/accounts/{username}", json=changes, headers=await city.admin()
    )
    assert answer.status_code == 200, answer.text


async def test_a_deactivated_accounts_token_is_refused_everywhere_within_5_seconds(
    nats_server, databases, tmp_path
):
    async with town(nats_server, databases, tmp_path) as city:
        token = await city.token("18115")
        async with city.portal_user("18115") as clerk:
            assert accepted(await city.answers(token)) and await clerk.signed_in()

            await patch_account(city, "18115", {"active": False})
            await refused_within_deadline(city, token)
            await eventually(lambda: _not(clerk.signed_in()), timeout=REVOKED_WITHIN)

        refused_sign_in = await city.http.post(
            f"{city.registry}/v1/auth/token", data={"username": "18115", "password": "x" * 12}
        )
        assert refused_sign_in.status_code == 401
        # Active again: a token issued after the change works everywhere.
        await patch_account(city, "18115", {"active": True})
        assert accepted(await city.answers(await city.token("18115")))
        assert refused(await city.answers(token))  # the old one stays refused


async def test_a_role_change_refuses_the_tokens_of_the_old_role(nats_server, databases, tmp_path):
    async with town(nats_server, databases, tmp_path) as city:
        token = await city.token("lanhdao")
        assert accepted(await city.answers(token))
        await patch_account(city, "lanhdao", {"role": "reviewer"})
        await refused_within_deadline(city, token)
        fresh = await city.token("lanhdao")
        assert jwt.decode(fresh, options={"verify_signature": False})["role"] == "reviewer"
        assert accepted(await city.answers(fresh))


async def test_a_password_reset_refuses_earlier_tokens(nats_server, databases, tmp_path):
    async with town(nats_server, databases, tmp_path) as city:
        token = await city.token("18118")
        async with city.portal_user("18118") as clerk:
            reset = await city.http.post(
                f"{city.registry}/v1/accounts/18118/activation", headers=await city.admin()
            )
            assert reset.status_code in (200, 201), reset.text
            await refused_within_deadline(city, token)
            activated = await city.http.post(
                f"{city.registry}/v1/auth/activate",
                json={
                    "username": "18118",
                    "code": reset.json()["code"],
                    "new_password": NEW_PASSWORD,
                },
            )
            assert activated.status_code == 200, activated.text
            await eventually(lambda: _not(clerk.signed_in()), timeout=REVOKED_WITHIN)
        assert accepted(await city.answers(await city.token("18118", NEW_PASSWORD)))


async def test_changing_ones_own_password_refuses_earlier_tokens(nats_server, databases, tmp_path):
    async with town(nats_server, databases, tmp_path) as city:
        token, other_device = await city.token("18121"), await city.token("18121")
        changed = await city.http.post(
            f"{city.registry}/v1/accounts/me/password",
            json={"old_password": "mat-khau-thu", "new_password": NEW_PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert changed.status_code == 200, changed.text
        await refused_within_deadline(city, other_device)
        assert refused(await city.answers(token))
        assert accepted(await city.answers(await city.token("18121", NEW_PASSWORD)))


async def test_a_revoked_api_keys_tokens_are_refused(nats_server, databases, tmp_path):
    async with town(nats_server, databases, tmp_path) as city:
        admin = await city.admin()
        issued = []
        for name in ("Phần mềm một cửa", "Phần mềm dự phòng"):
            answer = await city.http.post(
                f"{city.registry}/v1/api-keys",
                json={"unit_code": "18115", "name": name},
                headers=admin,
            )
            assert answer.status_code == 201, answer.text
            issued.append(answer.json())

        async def exchange(api_key: str) -> tuple[int, str]:
            answer = await city.http.post(
                f"{city.registry}/v1/auth/token",
                data={"grant_type": "api_key", "api_key": api_key},
            )
            return answer.status_code, answer.json().get("access_token", "")

        status, token = await exchange(issued[0]["api_key"])
        assert status == 200 and accepted(await city.answers(token))
        revoked = await city.http.post(
            f"{city.registry}/v1/api-keys/{issued[0]['key_id']}/revoke", headers=admin
        )
        assert revoked.status_code == 200, revoked.text
        await refused_within_deadline(city, token)
        assert (await exchange(issued[0]["api_key"]))[0] == 401
        # The unit's other key, and a token exchanged for it now, are untouched.
        status, other = await exchange(issued[1]["api_key"])
        assert status == 200 and accepted(await city.answers(other))


async def test_signing_out_refuses_that_token_only(nats_server, databases, tmp_path):
    async with town(nats_server, databases, tmp_path) as city:
        token, other_session = await city.token("pnv"), await city.token("pnv")
        answer = await city.http.post(
            f"{city.registry}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        await refused_within_deadline(city, token)
        assert accepted(await city.answers(other_session))
        again = await city.http.post(
            f"{city.registry}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 401  # already revoked

        # The portal's «Đăng xuất» revokes the token its session carried.
        async with city.portal_user("pnv") as reviewer:
            kept = reviewer.token
            assert accepted(await city.answers(kept))
            await reviewer.sign_out()
            await refused_within_deadline(city, kept)
        assert accepted(await city.answers(other_session))


async def _not(check: Any) -> bool:
    return not await check
