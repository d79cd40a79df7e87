"""The sign-in throttle under real concurrency (issue 9.3): 25 simultaneous wrong guesses on
one account reach the argon2 check at most the free failures allowed, the checks run at most
`DANVAN_PASSWORD_CHECK_SLOTS` at a time (so memory stays bounded), the others get 429 with
Retry-After; 40 failures from one address do not keep a correct password out."""

from __future__ import annotations

import asyncio
import resource
import threading
from typing import Any

import pytest
from argon2 import PasswordHasher

from services.registry import passwords
from tests.integration.registry.support import PASSWORD, error, running_registry


class CountingHasher:
    """argon2 that counts its checks and the most running at once."""

    def __init__(self) -> None:
        self.real = PasswordHasher()
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.checks = 0

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.checks += 1
            self.peak = max(self.peak, self.running)
        try:
            return self.real.verify(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1


async def test_25_concurrent_wrong_guesses_reach_the_hash_check_at_most_the_free_failures(
    nats_server, databases, monkeypatch: pytest.MonkeyPatch
):
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "password_hasher", counting)
    options: dict[str, Any] = {
        "login_free_failures": 5,
        "password_check_slots": 2,
        "login_ip_free_failures": 1000,
    }
    async with running_registry(nats_server, databases, **options) as registry:
        http = registry.http
        counting.checks = 0
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        answers = await asyncio.gather(
            *(
                http.post("/v1/auth/token", data={"username": "admin", "password": f"sai-{i}"})
                for i in range(25)
            )
        )
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        statuses = sorted(a.status_code for a in answers)
        assert counting.checks <= 5, counting.checks
        assert statuses.count(401) == counting.checks
        assert statuses.count(429) == 25 - counting.checks
        refused = [a for a in answers if a.status_code == 429]
        assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
        assert {error(a)["code"] for a in refused} == {"too_many_attempts"}
        # At most two 64 MiB argon2 checks at once: the process grew far less than 25 would.
        assert counting.peak <= 2
        assert (rss_after - rss_before) / 1024 < 8 * 64, (rss_before, rss_after)


async def test_40_failures_from_one_address_do_not_keep_a_correct_password_out(
    nats_server, databases
):
    options: dict[str, Any] = {
        "login_ip_free_failures": 30,
        "login_ip_delay_seconds": 0.01,
        "login_ip_delay_max_seconds": 0.05,
    }
    async with running_registry(nats_server, databases, **options) as registry:
        http = registry.http
        # Forty wrong guesses spread over many accounts, all from this one address.
        names = ["18115", "18118", "18121", "18124", "18127", "18130", "VP", "PTP"]
        for i in range(40):
            answer = await http.post(
                "/v1/auth/token", data={"username": names[i % len(names)], "password": "sai"}
            )
            assert answer.status_code in (401, 429)
        signed_in = await http.post(
            "/v1/auth/token", data={"username": "pnv", "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        assert "danvan_login_slowed_total" in (await http.get("/metrics")).text
