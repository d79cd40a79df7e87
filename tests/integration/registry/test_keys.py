"""Signing keys: rotation keeps earlier tokens valid until they expire, and a verifier that
only knows the registry's JWKS URL (as intake does) accepts good tokens and refuses others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.tokens import SigningKey, generate_key, issue_token
from shared.auth import JwksKeySource, Principal, TokenVerifier
from shared.clock import ManualClock
from shared.errors import Unauthorized
from tests.integration.registry.support import error, running_registry

ISSUER, AUDIENCE = "danvan-registry", "danvan"


def intake_verifier(base: str) -> TokenVerifier:
    """What another service builds from DANVAN_JWKS_URL."""
    return TokenVerifier(
        JwksKeySource(f"{base}/.well-known/jwks.json", min_refresh_seconds=0),
        issuer=ISSUER,
        audience=AUDIENCE,
    )


async def refused_code(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    return caught.value.code


async def test_a_rotated_key_keeps_old_tokens_valid_until_they_expire(nats_server, databases):
    clock = ManualClock(datetime.now(UTC))
    async with running_registry(
        nats_server, databases, clock=clock, token_ttl_seconds=120
    ) as registry:
        http = registry.http
        old_token = await registry.token("18115")
        before = (await http.get("/.well-known/jwks.json")).json()["keys"]
        verifier = intake_verifier(registry.base)
        assert (await verifier.verify(old_token)).unit_code == "18115"  # caches the old JWKS

        refused = await http.post("/v1/keys/rotate", headers=await registry.auth("pnv"))
        assert refused.status_code == 403
        rotated = await http.post("/v1/keys/rotate", headers=await registry.auth("admin"))
        assert rotated.status_code == 200, rotated.text
        new_kid = rotated.json()["kid"]
        assert new_kid != before[0]["kid"]
        retiring = {k["kid"]: k["retires_at"] for k in rotated.json()["keys"]}
        assert retiring[new_kid] is None and retiring[before[0]["kid"]] is not None

        after = (await http.get("/.well-known/jwks.json")).json()["keys"]
        assert {k["kid"] for k in after} == {before[0]["kid"], new_kid}
        new_token = await registry.token("18118")

        # Both verify: the registry itself, and a service holding a JWKS cached before rotation
        # (it refetches on the unknown key id).
        for token, unit in ((old_token, "18115"), (new_token, "18118")):
            me = await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["unit"] == unit
            assert (await verifier.verify(token)).unit_code == unit
            assert (await intake_verifier(registry.base).verify(token)).unit_code == unit

        # Once every token the old key signed has expired, it leaves the JWKS.
        clock.advance(timedelta(seconds=120 + 61))
        final = (await http.get("/.well-known/jwks.json")).json()["keys"]
        assert [k["kid"] for k in final] == [new_kid]
        gone = await http.get("/v1/me", headers={"Authorization": f"Bearer {old_token}"})
        assert gone.status_code == 401 and error(gone)["code"] == "invalid_token"
        # JwksKeySource refuses a key id it cannot find with the generic 401 code.
        assert await refused_code(intake_verifier(registry.base), old_token) == "invalid_token"


async def test_an_expired_or_wrongly_signed_token_is_refused_by_a_jwks_verifier(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        verifier = intake_verifier(registry.base)
        good = await registry.token("18115")
        assert (await verifier.verify(good)).role == "unit"

        current = registry.app.state.context.keys.current()
        principal = Principal(username="18115", role="unit", unit_code="18115")
        now = datetime.now(UTC)
        expired = issue_token(
            principal,
            current,
            issuer=ISSUER,
            audience=AUDIENCE,
            now=now - timedelta(hours=2),
            ttl=timedelta(hours=1),
        )
        assert await refused_code(verifier, expired) == "token_expired"

        # A forger's key presenting the registry's key id: the signature does not verify.
        forger = generate_key(now)
        impostor = SigningKey(current.kid, forger.private_key, current.public_jwk)
        forged = issue_token(
            principal, impostor, issuer=ISSUER, audience=AUDIENCE, now=now, ttl=timedelta(minutes=5)
        )
        assert await refused_code(verifier, forged) == "invalid_token"
        unknown_kid = issue_token(
            principal, forger, issuer=ISSUER, audience=AUDIENCE, now=now, ttl=timedelta(minutes=5)
        )
        assert await refused_code(verifier, unknown_kid) == "invalid_token"
        wrong_audience = issue_token(
            principal, current, issuer=ISSUER, audience="other", now=now, ttl=timedelta(minutes=5)
        )
        assert await refused_code(verifier, wrong_audience) == "invalid_token"
        tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        assert await refused_code(verifier, tampered) == "invalid_token"

        for token in (expired, forged):
            answer = await registry.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401
