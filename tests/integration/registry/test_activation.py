"""First sign-in without a shared secret (issue 9.1): accounts an admin creates, a reset and a
unit's handover sheet each get their own one-time activation code; the holder sets their own
password under the policy; expired or reused codes are refused and change nothing; production
creates no account on its own, and `create-admin` makes the first administrator once."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.registry import db
from services.registry.cli import main as cli_main
from services.registry.settings import RegistrySettings
from shared.clock import ManualClock
from tests.integration.registry.support import error, running_registry

NEW = "song-nui-hong-linh"


async def _activate(http, username: str, code: str, password: str = NEW):
    return await http.post(
        "/v1/auth/activate", json={"username": username, "code": code, "new_password": password}
    )


async def test_activation_codes_work_once_before_they_expire_and_set_a_strong_password(
    nats_server, databases, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="danvan.registry.audit")
    clock = ManualClock(datetime.now(UTC))
    async with running_registry(nats_server, databases, clock=clock) as registry:
        http, admin = registry.http, await registry.auth("admin")
        pnv = await registry.auth("pnv")  # tokens are checked against real time
        body = {"username": "chuyenvien.pnv", "display_name": "Chuyên viên", "role": "reviewer"}
        created = (await http.post("/v1/accounts", json=body, headers=admin)).json()
        code = created["activation"]["code"]
        signed_in = await http.post(
            "/v1/auth/token", data={"username": "chuyenvien.pnv", "password": ""}
        )
        assert signed_in.status_code in (401, 422)  # no password works before activation

        weak = [
            ("ngan", "password_too_short"),
            ("chuyenvien.pnv-2026", "password_is_username"),
            ("matkhau123456", "password_too_common"),
            ("1234567890", "password_too_common"),
            ("aaaaaaaaaaaa", "password_too_common"),
        ]
        for password, problem in weak:
            answer = await _activate(http, "chuyenvien.pnv", code, password)
            assert answer.status_code == 422 and error(answer)["code"] == problem, answer.text
        wrong = await _activate(http, "chuyenvien.pnv", "AAAAA-BBBBB-CCCCC-DDDDD")
        assert wrong.status_code == 401 and error(wrong)["code"] == "invalid_activation_code"
        # The code survived the refusals; typed in lower case without dashes it still works.
        typed = code.replace("-", "").lower()
        assert (await _activate(http, "chuyenvien.pnv", typed)).status_code == 200
        assert await registry.token("chuyenvien.pnv", NEW)
        reused = await _activate(http, "chuyenvien.pnv", code, "mot-mat-khau-khac-9")
        assert reused.status_code == 401 and error(reused)["code"] == "invalid_activation_code"
        assert await registry.token("chuyenvien.pnv", NEW)  # nothing changed

        # An admin's reset: the old password stops at once; the new code expires.
        reset = await http.post("/v1/accounts/chuyenvien.pnv/activation", headers=admin)
        assert reset.status_code == 200
        old = await http.post(
            "/v1/auth/token", data={"username": "chuyenvien.pnv", "password": NEW}
        )
        assert old.status_code == 401
        listed = (await http.get("/v1/accounts/chuyenvien.pnv", headers=admin)).json()
        assert listed["password_set"] is False
        clock.advance(timedelta(hours=73))
        expired = await _activate(http, "chuyenvien.pnv", reset.json()["code"])
        assert expired.status_code == 409 and error(expired)["code"] == "activation_code_expired"
        assert "hết hạn" in error(expired)["message"]
        again = await http.post("/v1/accounts/chuyenvien.pnv/activation", headers=admin)
        assert (await _activate(http, "chuyenvien.pnv", again.json()["code"])).status_code == 200
        # Others may not create accounts or reset passwords.
        assert (await http.post("/v1/accounts/admin/activation", headers=pnv)).status_code == 403
        own = await http.post("/v1/accounts/admin/activation", headers=admin)
        assert own.status_code == 409
    audit = [r.getMessage() for r in caplog.records if r.name == "danvan.registry.audit"]
    assert any("chuyenvien.pnv: created (reviewer) (by admin)" in line for line in audit)
    assert any("chuyenvien.pnv: activated" in line for line in audit)
    assert any("chuyenvien.pnv: password reset (by admin)" in line for line in audit)
    assert any("activation refused (expired)" in line for line in audit)


def _sheet(content: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [r for r in rows[1:] if len(r) == 5]


async def test_production_creates_no_account_and_create_admin_makes_the_first_once(
    nats_server, databases, tmp_path: Path
):
    url = await databases.url("registry")
    production: dict[str, Any] = {
        "env": "production",
        "nats_nkey_seed": "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY",
        "signing_key_passphrase": "mot-cau-mat-khau-rat-dai-cho-khoa-ky",
    }
    with pytest.raises(ValueError, match="DANVAN_SEED_DEMO_ACCOUNTS"):
        RegistrySettings(database_url=url, seed_demo_accounts=True, **production)
    assert RegistrySettings(database_url=url, **production).demo_accounts is False
    async with running_registry(
        nats_server, databases, database_url=url, seed_demo_accounts=False
    ) as registry:
        async with registry.app.state.context.store.reading() as session:
            assert (await session.execute(select(db.accounts))).all() == []

        out, err = io.StringIO(), io.StringIO()
        env = {"DATABASE_URL": url, "DANVAN_ENV": "test"}
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            assert await _cli(["create-admin", "--username", "quantri"], out, err) == 0
            code = out.getvalue().split("): ")[1].split()[0]
            assert await _cli(["create-admin", "--username", "quantri2"], out, err) == 1
            assert "Đã có tài khoản quản trị" in err.getvalue()
        http = registry.http
        assert (await _activate(http, "quantri", code)).status_code == 200
        admin = {"Authorization": f"Bearer {await registry.token('quantri', NEW)}"}

        first = await http.post("/v1/units/18115/handover.csv", headers=admin)
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/csv")
        rows = _sheet(first.content)
        assert [(r[0], r[1]) for r in rows] == [("18115", "18115")]
        second = _sheet((await http.post("/v1/units/18115/handover.csv", headers=admin)).content)
        assert second[0][3] != rows[0][3]  # a new sheet, a new code; the first one is void
        assert (await _activate(http, "18115", rows[0][3])).status_code == 401
        codes = [second[0][3]]
        for unit in ("18118", "PNV", "VP"):
            sheet = _sheet(
                (await http.post(f"/v1/units/{unit}/handover.csv", headers=admin)).content
            )
            codes += [r[3] for r in sheet]
        async with registry.app.state.context.store.reading() as session:
            hashes = (await session.execute(select(db.activation_codes.c.code_hash))).scalars()
            stored = list(hashes)
            passwords = (await session.execute(select(db.accounts.c.password_hash))).scalars()
            password_hashes = [h for h in passwords if h]
        # No two accounts share a secret: every code differs, only the admin has a password.
        assert len(set(codes)) == len(codes) == 4 and len(set(stored)) == len(stored) == 4
        assert not set(codes) & set(stored)  # only hashes are stored
        assert len(password_hashes) == 1
        assert (await _activate(http, "18115", second[0][3])).status_code == 200
        unit_token = await registry.token("18115", NEW)
        assert unit_token
        refused = await http.post(
            "/v1/units/18118/handover.csv", headers={"Authorization": f"Bearer {unit_token}"}
        )
        assert refused.status_code == 403


async def _cli(argv: list[str], out: io.StringIO, err: io.StringIO) -> int:
    import asyncio

    return await asyncio.to_thread(cli_main, argv, out, err)
