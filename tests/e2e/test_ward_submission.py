"""A ward signs in, submits its 6-month report, and consolidation shows it — the whole system
started as `make run` starts it, driven over HTTP."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
from decimal import Decimal

import httpx
import nats
import pytest

from shared.natsauth import NATS_SERVICES, inbox_prefix, public_key_of
from tests.e2e.system import System
from tests.support.reports import full_report

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-mat-khau"


def login(system: System, username: str) -> dict[str, str]:
    response = httpx.post(
        system.url("registry") + "/v1/auth/token",
        data={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_for(check, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(interval)


def test_every_service_answers_health_readiness_and_metrics(system: System):
    for service in ("registry", "intake", "reminders", "consolidation", "portal"):
        for path in ("/healthz", "/readyz", "/metrics"):
            response = httpx.get(system.url(service) + path, timeout=5)
            assert response.status_code == 200, (service, path, response.text)


def test_ward_report_reaches_consolidation_as_late_submission(system: System):
    ward = login(system, "18115")
    reviewer = login(system, "pnv")
    completeness_url = system.url("consolidation") + "/v1/periods/2023-H1/completeness"

    def consolidation_knows_period():
        response = httpx.get(completeness_url, headers=reviewer, timeout=5)
        return response.status_code == 200 and response.json()["expected"] == 20

    wait_for(consolidation_knows_period, timeout=60)
    before = httpx.get(completeness_url, headers=reviewer, timeout=5).json()
    assert "18115" in [u["code"] for u in before["missing"]]

    def intake_knows_period():
        response = httpx.get(
            system.url("intake") + "/v1/periods/2023-H1/form", headers=ward, timeout=5
        )
        return response.status_code == 200

    wait_for(intake_knows_period, timeout=60)
    submitted = httpx.post(
        system.url("intake") + "/v1/reports", json=full_report("2023-H1"), headers=ward, timeout=10
    )
    assert submitted.status_code == 201, submitted.text
    receipt = submitted.json()
    assert receipt["on_time"] is False  # the deadline 10/06/2023 has passed
    started = time.monotonic()

    def shows_submission():
        body = httpx.get(completeness_url, headers=reviewer, timeout=5).json()
        return body if body["submitted"] == before["submitted"] + 1 else None

    after = wait_for(shows_submission, timeout=30)
    elapsed = time.monotonic() - started
    assert after["late"] == before["late"] + 1
    assert "18115" not in [u["code"] for u in after["missing"]]
    # The latency itself is measured by `make bench`; here only that it arrives.
    assert elapsed < 30

    stored = httpx.get(
        system.url("intake") + f"/v1/reports/{receipt['report_id']}", headers=ward, timeout=5
    )
    assert stored.status_code == 200
    assert stored.json()["content"]["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == "125.5"

    # Every field the ward sent reached consolidation intact.
    sent = full_report("2023-H1")
    summary = httpx.get(
        system.url("consolidation") + "/v1/periods/2023-H1/summary", headers=reviewer, timeout=10
    ).json()
    sections = {s["key"]: s for s in summary["sections"]}
    for key, section in sent["sections"].items():
        narratives = {n["unit_code"]: n["text"] for n in sections[key]["narratives"]}
        assert narratives["18115"] == section["narrative"]
        figures = {i["code"]: i["by_unit"] for i in sections[key]["indicators"]}
        for code, value in section["indicators"].items():
            assert Decimal(str(figures[code]["18115"])) == Decimal(str(value)), code
    texts = {
        t["code"]: {e["unit_code"]: e["text"] for e in t["entries"]} for t in summary["text_fields"]
    }
    for code in ("ton_tai_han_che", "phuong_huong"):
        assert texts[code]["18115"] == sent[code]
    assert sent["vuong_mac"][0] in json.dumps(summary["difficulties"], ensure_ascii=False)


def test_each_service_works_through_nats_as_its_own_user(system: System):
    """After the submission above went registry -> intake -> consolidation and reminders,
    every service is connected with its own nkey and the server refused nothing."""
    keys = {
        user: public_key_of((system.data_dir / "nats-auth" / f"{user}.nk").read_text())
        for user in NATS_SERVICES
    }
    for user in NATS_SERVICES:
        mode = (system.data_dir / "nats-auth" / f"{user}.nk").stat().st_mode & 0o777
        assert mode == 0o600, (user, oct(mode))
    monitor = f"http://127.0.0.1:{system.ports.nats_monitor}/connz?auth=1"
    connections = httpx.get(monitor, timeout=5).json()["connections"]
    users = {c["name"]: c["authorized_user"] for c in connections if c.get("name") in keys}
    assert users == keys
    log = (system.data_dir / "logs" / "nats.log").read_text(encoding="utf-8")
    assert "Violation" not in log


def test_make_run_s_nats_refuses_anonymous_clients_and_forged_subjects(system: System):
    """The embedded server: no connection without an nkey; intake's seed (from the data
    folder) connects but cannot publish the registry's events."""
    url = f"nats://127.0.0.1:{system.ports.nats}"
    seed = (system.data_dir / "nats-auth" / "intake.nk").read_text().strip()

    async def check() -> list[str]:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=3)
        errors: list[str] = []

        async def on_error(error: Exception) -> None:
            errors.append(str(error))

        nc = await nats.connect(
            url,
            nkeys_seed_str=seed,
            inbox_prefix=inbox_prefix("intake"),
            error_cb=on_error,
            allow_reconnect=False,
        )
        try:
            await nc.publish("danvan.registry.unit.changed.v1", b"{}")
            await nc.flush()
            for _ in range(200):
                if errors:
                    break
                await asyncio.sleep(0.02)
        finally:
            await nc.close()
        return errors

    errors = asyncio.run(check())
    assert any("danvan.registry.unit.changed.v1" in e and "ermissions" in e for e in errors)


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_data_folder_is_readable_by_this_account_only(system: System):
    """`make run` keeps databases, keys, attachments, logs and mail under umask 077, and the
    signing keys under a random passphrase of its own (issue 9, item 6)."""
    ward = login(system, "18115")
    reports = httpx.get(system.url("intake") + "/v1/reports", headers=ward, timeout=5).json()
    report_id = reports[0]["report_id"]
    attached = httpx.post(
        system.url("intake") + f"/v1/reports/{report_id}/attachments",
        files={"file": ("bien-ban.pdf", PDF, "application/pdf")},
        headers=ward,
        timeout=10,
    )
    assert attached.status_code == 201, attached.text
    data = system.data_dir
    passphrase = data / "registry-signing-key.passphrase"
    expected = [
        data / "registry.db",
        data / "intake.db",
        data / "reminders.db",
        data / "consolidation.db",
        passphrase,
        *(data / "nats-auth" / f"{user}.nk" for user in NATS_SERVICES),
    ]
    attachments = list((data / "intake-attachments").rglob("*.pdf"))
    assert attachments, "the attachment is not under the data folder"
    for path in [*expected, *attachments]:
        assert path.is_file(), path
    assert len(passphrase.read_text(encoding="utf-8").strip()) >= 32
    assert passphrase.read_text(encoding="utf-8").strip() != "changeme"
    # Everything the system wrote (the test harness's own launcher.out aside).
    for path in [data, *data.rglob("*")]:
        if path.name == "launcher.out" or path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        wanted = 0o700 if path.is_dir() else 0o600
        assert mode & 0o077 == 0, (str(path), oct(mode))
        if path in expected or path in attachments or path == data:
            assert mode == wanted, (str(path), oct(mode))


def test_bad_input_gets_a_clear_error_and_changes_nothing(system: System):
    ward = login(system, "18118")
    url = system.url("intake") + "/v1/reports"
    malformed = httpx.post(
        url,
        content=b"{not json",
        headers={**ward, "Content-Type": "application/json"},
        timeout=5,
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    unknown = httpx.post(url, json=full_report("2099-H1"), headers=ward, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "period_not_found"
    anonymous = httpx.post(url, json=full_report("2023-H1"), timeout=5)
    assert anonymous.status_code == 401
    forged = httpx.post(
        url, json=full_report("2023-H1"), headers={"Authorization": "Bearer abc.def.ghi"}, timeout=5
    )
    assert forged.status_code == 401
    for response in (malformed, unknown, anonymous, forged):
        assert response.json()["error"]["message"]
    listing = httpx.get(url, params={"period_id": "2023-H1"}, headers=ward, timeout=5)
    assert listing.status_code == 200
    assert listing.json() == []  # none of the refused requests left a report behind


def test_urging_a_late_unit_delivers_a_vietnamese_mail_to_the_sink(system: System):
    reviewer = login(system, "pnv")
    response = httpx.post(
        system.url("reminders") + "/v1/periods/2023-H1/remind",
        json={"units": ["18121"]},
        headers=reviewer,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    mail_dir = system.data_dir / "mail"

    def delivered():
        # Other mail (opening notices of the current year's periods) may be there too.
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            subject = str(message["Subject"])
            urging = subject.startswith("Đôn đốc") and "6 tháng đầu năm 2023" in subject
            if "vanthu.18121@honglinh.invalid" in str(message["To"]) and urging:
                body = message.get_body(preferencelist=("plain",))
                assert body is not None, "the reminder has no plain-text part"
                return body.get_content()
        return None

    body = wait_for(delivered, timeout=30)
    assert "6 tháng đầu năm 2023" in body
    assert "10/06/2023" in body
