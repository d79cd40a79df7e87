"""The verifier remembers tokens it has checked: a repeated token skips decoding, yet a
revocation, a changed key or the expiry still refuses it on the very next request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.auth import StaticKeySource, TokenVerifier
from shared.errors import Unauthorized
from shared.revocation import Revocations, revoke_subject, revoke_token
from tests.support.tokens import AUDIENCE, ISSUER, TokenMint


class SwappableKeys:
    """A key source whose key for every id can be replaced (a rotation under the same id)."""

    def __init__(self, mint: TokenMint) -> None:
        self.source = StaticKeySource({"keys": [mint.key.public_jwk]})

    async def key(self, kid: str) -> Any:
        return await self.source.key(kid)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full decode (signature check) the verifier makes."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def verifier(keys: Any, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, **kwargs)


def code_of(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        asyncio.run(verifier.verify(token))
    return refused.value.code


def test_a_repeated_token_is_decoded_once(decodes: list[str]) -> None:
    mint = TokenMint()
    check = verifier(mint.key_source())
    token = mint.token("unit", "P_BAC_HONG")
    first = asyncio.run(check.verify(token))
    again = asyncio.run(check.verify(token))
    assert again == first and again.unit_code == "P_BAC_HONG"
    assert decodes == [token]


def test_a_remembered_token_revoked_is_refused_at_once(decodes: list[str]) -> None:
    mint = TokenMint()
    revocations = Revocations()
    check = verifier(mint.key_source(), revocations=revocations)
    signed_out, other = mint.token("unit", "P_BAC_HONG"), mint.token("reviewer")
    assert asyncio.run(check.verify(signed_out)).token_id is not None
    asyncio.run(check.verify(other))
    now = datetime.now(UTC)
    principal = asyncio.run(check.verify(signed_out))
    assert principal.token_id is not None and principal.token_expires_at is not None
    expires = datetime.fromtimestamp(principal.token_expires_at, UTC)
    revocations.apply(revoke_token("P_BAC_HONG", principal.token_id, expires_at=expires), now=now)
    assert code_of(check, signed_out) == "token_revoked"
    # The account's change (role, password) revokes every token issued before it.
    later = now + timedelta(seconds=5)
    entry = revoke_subject("reviewer", "role_changed", now=later, token_ttl=timedelta(hours=1))
    revocations.apply(entry, now=later)
    assert code_of(check, other) == "token_revoked"


def test_a_key_changed_under_its_id_checks_the_token_again(decodes: list[str]) -> None:
    mint, impostor = TokenMint(), TokenMint()
    keys = SwappableKeys(mint)
    check = verifier(keys)
    token = mint.token("unit", "P_BAC_HONG")
    asyncio.run(check.verify(token))
    # The registry now publishes another key under the same id: the token no longer verifies.
    replaced = dict(impostor.key.public_jwk, kid=mint.key.public_jwk["kid"])
    keys.source = StaticKeySource({"keys": [replaced]})
    assert code_of(check, token) == "invalid_token"
    assert decodes == [token, token]


def test_a_remembered_token_is_checked_in_full_past_its_expiry(decodes: list[str]) -> None:
    mint = TokenMint()
    clock = Clock()
    check = verifier(mint.key_source(), cache_seconds=3600, now=clock)
    token = mint.token("unit", "P_BAC_HONG", ttl=timedelta(minutes=10))
    asyncio.run(check.verify(token))
    clock.now += 9 * 60
    asyncio.run(check.verify(token))
    assert decodes == [token]
    clock.now += 60 + 11  # past `exp` and the 10 s leeway
    asyncio.run(check.verify(token))  # decoded again (jwt's own clock has not moved)
    assert decodes == [token, token]


def test_remembered_tokens_are_bounded_and_short_lived(decodes: list[str]) -> None:
    mint = TokenMint()
    clock = Clock()
    check = verifier(mint.key_source(), cache_size=2, cache_seconds=30, now=clock)
    tokens = [mint.token("unit", code) for code in ("A", "B", "C")]
    for token in tokens:
        asyncio.run(check.verify(token))
    asyncio.run(check.verify(tokens[0]))  # the oldest was dropped for the third
    assert decodes == [*tokens, tokens[0]]
    clock.now += 31
    asyncio.run(check.verify(tokens[0]))
    assert decodes == [*tokens, tokens[0], tokens[0]]
