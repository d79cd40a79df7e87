"""The registry's signing keys: the newest signs; older ones stay published until the tokens
they signed have expired, then drop out of the JWKS."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import store
from services.registry.store import RegistryStore
from services.registry.tokens import SigningKey, encrypt_key, generate_key, load_key
from shared.clock import Clock
from shared.errors import Unauthorized

# Clocks of verifying services may run a little behind; keep old keys that much longer.
RETIREMENT_GRACE = timedelta(seconds=60)
# An unknown key id makes the ring reread the keys, but not more often than this.
UNKNOWN_KID_RELOAD_SECONDS = 5.0


@dataclass(frozen=True)
class RingKey:
    """A signing key with its life: created, and (once superseded) when it leaves the JWKS."""

    key: SigningKey
    created_at: datetime
    retires_at: datetime | None

    def published(self, now: datetime) -> bool:
        """Whether verifiers should still accept it."""
        return self.retires_at is None or self.retires_at > now


class KeyRing:
    """Active keys, read from the database; also the registry's own KeySource for verifying."""

    def __init__(
        self,
        keystore: RegistryStore,
        *,
        passphrase: str,
        clock: Clock,
        refresh_seconds: float = 30.0,
    ) -> None:
        self._store = keystore
        self._passphrase = passphrase
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._loaded_at = float("-inf")
        self.keys: list[RingKey] = []

    async def load(self) -> None:
        """Read the active keys; creates the first key when there is none."""
        now = self._clock.now()
        async with self._store.transaction() as session:
            await self._reload_rows(session, now)
            if not any(k.retires_at is None for k in self.keys):
                await _insert_key(session, generate_key(now), self._passphrase, now)
                await self._reload_rows(session, now)

    async def _reload_rows(self, session: AsyncSession, now: datetime) -> None:
        rows = await store.published_key_rows(session, now)
        self.keys = [self._ring_key(r) for r in rows]
        self._loaded_at = time.monotonic()

    def _ring_key(self, row: Any) -> RingKey:
        return RingKey(
            key=load_key(row.kid, row.private_pem, row.public_jwk, self._passphrase),
            created_at=row.created_at,
            retires_at=row.retired_at,
        )

    async def refresh_if_stale(self) -> None:
        """Reread the keys now and then: another registry replica may have rotated them."""
        if time.monotonic() - self._loaded_at > self._refresh_seconds:
            await self.load()

    def current(self) -> SigningKey:
        """The key that signs new tokens."""
        for ring_key in self.keys:
            if ring_key.retires_at is None:
                return ring_key.key
        raise RuntimeError("no current signing key; KeyRing.load() was not called")

    def jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """The public keys verifiers should accept now."""
        now = now or self._clock.now()
        return {"keys": [k.key.public_jwk for k in self.keys if k.published(now)]}

    async def key(self, kid: str) -> Any:
        """KeySource: the public key with this id, while it is published."""
        found = self._find(kid)
        if found is None and time.monotonic() - self._loaded_at > UNKNOWN_KID_RELOAD_SECONDS:
            # Another replica may have rotated since we last read the keys.
            await self.load()
            found = self._find(kid)
        if found is None or not found.published(self._clock.now()):
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token")
        return jwt.PyJWK(found.key.public_jwk).key

    def _find(self, kid: str) -> RingKey | None:
        return next((k for k in self.keys if k.key.kid == kid), None)

    async def rotate(self, token_ttl: timedelta) -> RingKey:
        """Sign with a new key from now on; the previous ones leave the JWKS once every token
        they signed has expired."""
        now = self._clock.now()
        new_key = generate_key(now)
        async with self._store.transaction() as session:
            await store.retire_current_keys(session, now + token_ttl + RETIREMENT_GRACE)
            await _insert_key(session, new_key, self._passphrase, now)
            await self._reload_rows(session, now)
        return next(k for k in self.keys if k.key.kid == new_key.kid)


async def _insert_key(
    session: AsyncSession, key: SigningKey, passphrase: str, now: datetime
) -> None:
    await store.insert_signing_key(
        session,
        kid=key.kid,
        private_pem=encrypt_key(key, passphrase),
        public_jwk=key.public_jwk,
        now=now,
    )
