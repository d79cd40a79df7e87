"""Password hashing (argon2id), always off the event loop, never inside a transaction, and
behind a small concurrency limit: each check takes 64 MiB, so only `slots` run at once and
memory stays bounded however many sign-ins arrive together."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

password_hasher = PasswordHasher()

# Checked when an account does not exist, so timing does not reveal which usernames exist.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
    "Gk0cF0d3m3Yl4b2r8nqk0u3rWJ0W0fQdXq8bY3vJb3A"
)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordChecker:
    """Hashes and checks passwords in worker threads, at most `slots` at a time."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore: asyncio.Semaphore | None = None

    def _gate(self) -> asyncio.Semaphore:
        if self._semaphore is None:  # created on the service's own event loop
            self._semaphore = asyncio.Semaphore(self.slots)
        return self._semaphore

    async def hash(self, password: str) -> str:
        """The argon2id hash of a new password."""
        async with self._gate():
            return await asyncio.to_thread(password_hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches the stored hash."""
        async with self._gate():
            return await asyncio.to_thread(_verify, password_hash, password)
