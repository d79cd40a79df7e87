"""Accounts over HTTP: admins manage them, users change their own password, and guessing
passwords is slowed down and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict

from shared.clock import ManualClock
from tests.integration.registry.support import PASSWORD, error, running_registry


class LoginThrottle(TypedDict):
    """Registry settings that decide when failed sign-ins start to be slowed down."""

    login_free_failures: int
    login_ip_free_failures: int
    login_lock_base_seconds: int


async def test_admins_manage_accounts_and_a_unit_account_needs_an_existing_unit(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        body = {
            "username": "vanthu.18115",
            "display_name": "Văn thư phường Bắc Hồng",
            "role": "unit",
            "unit_code": "18115",
        }
        created = await http.post("/v1/accounts", json=body, headers=admin)
        assert created.status_code == 201, created.text
        assert created.json()["unit_code"] == "18115" and "password" not in created.json()
        assert created.json()["password_set"] is False
        code = created.json()["activation"]["code"]
        activated = await http.post(
            "/v1/auth/activate",
            json={"username": "vanthu.18115", "code": code, "new_password": "mot-mat-khau-dai"},
        )
        assert activated.status_code == 200, activated.text
        login = await http.post(
            "/v1/auth/token", data={"username": "vanthu.18115", "password": "mot-mat-khau-dai"}
        )
        assert login.json()["role"] == "unit" and login.json()["unit_code"] == "18115"

        cases = [
            ({**body, "username": "x1", "unit_code": None}, "invalid_username", "username"),
            ({**body, "username": "khong.don.vi", "unit_code": None}, "unit_required", "unit_code"),
            (
                {**body, "username": "sai.don.vi", "unit_code": "KHONGCO"},
                "unknown_unit",
                "unit_code",
            ),
            ({**body, "username": "vai.tro", "role": "superuser"}, "unknown_role", "role"),
            ({**body, "username": "ro", "role": "reviewer"}, "invalid_username", "username"),
        ]
        for request, code_, field in cases:
            answer = await http.post("/v1/accounts", json=request, headers=admin)
            assert answer.status_code == 422, (code_, answer.text)
            assert (error(answer)["code"], error(answer)["details"]["field"]) == (code_, field)
        # An admin never sets someone's password.
        with_password = await http.post(
            "/v1/accounts",
            json={**body, "username": "co.mat.khau", "password": "x" * 12},
            headers=admin,
        )
        assert with_password.status_code == 422
        duplicate = await http.post("/v1/accounts", json=body, headers=admin)
        assert duplicate.status_code == 409 and error(duplicate)["code"] == "duplicate_username"

        listed = (await http.get("/v1/accounts", headers=admin)).json()
        assert "vanthu.18115" in {a["username"] for a in listed}
        assert not {"khong.don.vi", "sai.don.vi"} & {a["username"] for a in listed}
        for who in ("18115", "pnv", "lanhdao"):
            headers = await registry.auth(who)
            assert (await http.get("/v1/accounts", headers=headers)).status_code == 403
            assert (await http.post("/v1/accounts", json=body, headers=headers)).status_code == 403

        moved = await http.patch(
            "/v1/accounts/vanthu.18115", json={"unit_code": "18118"}, headers=admin
        )
        assert moved.json()["unit_code"] == "18118"
        made_reviewer = await http.patch(
            "/v1/accounts/vanthu.18115", json={"role": "reviewer"}, headers=admin
        )
        assert made_reviewer.json()["role"] == "reviewer"
        assert made_reviewer.json()["unit_code"] is None
        deactivated = await http.patch(
            "/v1/accounts/vanthu.18115", json={"active": False}, headers=admin
        )
        assert deactivated.json()["active"] is False
        login = await http.post(
            "/v1/auth/token", data={"username": "vanthu.18115", "password": "mot-mat-khau-dai"}
        )
        assert login.status_code == 401
        self_lock = await http.patch("/v1/accounts/admin", json={"active": False}, headers=admin)
        assert self_lock.status_code == 409


async def test_a_user_changes_their_own_password_with_the_old_one(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, own = registry.http, await registry.auth("18115")
        wrong = await http.post(
            "/v1/accounts/me/password",
            json={"old_password": "khong-dung", "new_password": "doi-mat-khau-2026"},
            headers=own,
        )
        assert wrong.status_code == 422 and error(wrong)["code"] == "wrong_password"
        short = await http.post(
            "/v1/accounts/me/password",
            json={"old_password": PASSWORD, "new_password": "ngan"},
            headers=own,
        )
        assert error(short)["code"] == "password_too_short"
        changed = await http.post(
            "/v1/accounts/me/password",
            json={"old_password": PASSWORD, "new_password": "doi-mat-khau-2026"},
            headers=own,
        )
        assert changed.status_code == 200, changed.text
        assert await registry.token("18115", "doi-mat-khau-2026")
        old = await http.post("/v1/auth/token", data={"username": "18115", "password": PASSWORD})
        assert old.status_code == 401


async def test_repeated_failed_sign_ins_are_slowed_down_per_account_and_address_and_counted(
    nats_server, databases
):
    clock = ManualClock(datetime.now(UTC))
    options: LoginThrottle = {
        "login_free_failures": 3,
        "login_ip_free_failures": 6,
        "login_lock_base_seconds": 2,
    }
    async with running_registry(nats_server, databases, clock=clock, **options) as registry:
        http = registry.http

        async def sign_in(username: str, password: str) -> int:
            answer = await http.post(
                "/v1/auth/token", data={"username": username, "password": password}
            )
            return answer.status_code

        assert [await sign_in("18115", "sai") for _ in range(3)] == [401, 401, 401]
        locked = await http.post("/v1/auth/token", data={"username": "18115", "password": PASSWORD})
        # Locked: even the right password is refused until the lock ends.
        assert locked.status_code == 429 and error(locked)["code"] == "too_many_attempts"
        assert locked.headers["retry-after"] == "2"
        assert await sign_in("18118", PASSWORD) == 200  # other accounts are not affected

        clock.advance(timedelta(seconds=2))
        assert await sign_in("18115", "sai") == 401  # the next failure doubles the lock
        assert await sign_in("18115", PASSWORD) == 429
        clock.advance(timedelta(seconds=4))
        assert await sign_in("18115", PASSWORD) == 200  # success clears the account's counter
        assert await sign_in("18115", "sai") == 401

        # Guessing across accounts from one address: its sixth failure locks the address.
        assert await sign_in("18121", "sai") == 401
        assert await sign_in("18124", PASSWORD) == 429

        metrics = (await http.get("/metrics")).text
        assert "danvan_login_failures_total 9.0" in metrics  # 6 wrong + 3 refused while locked
        assert "danvan_login_throttled_total 3.0" in metrics
