"""Password hashing (argon2id), always off the event loop and never inside a transaction."""

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


async def hash_password(password: str) -> str:
    """The argon2id hash of a new password (in a worker thread)."""
    return await asyncio.to_thread(password_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash (in a worker thread)."""
    return await asyncio.to_thread(_verify, password_hash, password)
