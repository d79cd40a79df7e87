"""Argon2 runs outside every database transaction (issue 13): each hash and check is made while
the registry's store has no transaction open, so a slow hash never holds a connection."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from services.registry import passwords
from services.registry.store import RegistryStore
from tests.integration.registry.support import PASSWORD, running_registry


class WatchingHasher:
    """An argon2 hasher that notes how many transactions the store had open at each call."""

    def __init__(self) -> None:
        self.real = PasswordHasher()
        self.store: Any = None
        self.seen: list[tuple[str, int]] = []

    def _note(self, what: str) -> None:
        self.seen.append((what, self.store.open_transactions if self.store else -1))

    def hash(self, password: str) -> str:
        self._note("hash")
        return self.real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self._note("verify")
        return self.real.verify(password_hash, password)


async def test_no_password_hash_or_check_runs_inside_a_transaction(
    nats_server, databases, monkeypatch: pytest.MonkeyPatch
):
    watching = WatchingHasher()
    monkeypatch.setattr(passwords, "password_hasher", watching)
    original_init = RegistryStore.__init__

    def capture(store: RegistryStore, *args: Any, **kwargs: Any) -> None:
        original_init(store, *args, **kwargs)
        watching.store = store

    monkeypatch.setattr(RegistryStore, "__init__", capture)
    async with running_registry(nats_server, databases) as registry:
        assert watching.store is registry.app.state.context.store
        http, admin = registry.http, await registry.auth("admin")
        body = {
            "username": "vanthu.test",
            "display_name": "Văn thư thử",
            "role": "unit",
            "unit_code": "18115",
        }
        created = await http.post("/v1/accounts", json=body, headers=admin)
        assert created.status_code == 201
        activation = {
            "username": "vanthu.test",
            "code": created.json()["activation"]["code"],
            "new_password": "mot-mat-khau-dai",
        }
        assert (await http.post("/v1/auth/activate", json=activation)).status_code == 200
        wrong = await http.post("/v1/auth/token", data={"username": "admin", "password": "sai"})
        assert wrong.status_code == 401
        unknown = await http.post("/v1/auth/token", data={"username": "khong-co", "password": "x"})
        assert unknown.status_code == 401
        own = await registry.auth("18115")
        change = {"old_password": PASSWORD, "new_password": "doi-mat-khau-2026"}
        changed = await http.post("/v1/accounts/me/password", json=change, headers=own)
        assert changed.status_code == 200
    kinds = {what for what, _ in watching.seen}
    assert kinds == {"hash", "verify"} and len(watching.seen) >= 7
    assert [seen for seen in watching.seen if seen[1] != 0] == []
