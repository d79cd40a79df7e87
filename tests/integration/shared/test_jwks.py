"""The JWKS client against a real HTTP server standing in for the registry: one fetch for
many concurrent verifications, back-off while the registry is down, a bounded stale age."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.auth import JwksKeySource, TokenVerifier
from shared.backoff import Backoff
from shared.errors import Unauthorized
from tests.support.http import serve_app
from tests.support.nats import free_port
from tests.support.tokens import AUDIENCE, ISSUER, TokenMint

CONCURRENT = 50


@dataclass
class FakeRegistry:
    """Serves the JWKS of the given mints; `down` answers 503; counts every request."""

    mints: list[TokenMint]
    down: bool = False
    delay: float = 0.0
    requests: int = 0
    port: int = field(default_factory=free_port)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        async def jwks() -> Any:
            self.requests += 1
            if self.delay:
                await asyncio.sleep(self.delay)  # a slow registry: the fetches overlap
            if self.down:
                return JSONResponse({"error": "down"}, status_code=503)
            return {"keys": [m.key.public_jwk for m in self.mints]}

        return app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        async with serve_app(self.app(), port=self.port):
            yield


class Clock:
    """The key source's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Client:
    """One long-lived HTTP client that counts what it sends (also to a stopped server)."""

    sent: int = 0

    def build(self) -> httpx.AsyncClient:
        async def count(_: httpx.Request) -> None:
            self.sent += 1

        return httpx.AsyncClient(event_hooks={"request": [count]})


def verifier_for(source: JwksKeySource) -> TokenVerifier:
    return TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)


async def outcomes(verifier: TokenVerifier, token: str) -> list[str]:
    """Verify the token CONCURRENT times at once: 'ok' or the refusal's code, each."""

    async def one() -> str:
        try:
            await verifier.verify(token)
        except Unauthorized as refused:
            return f"{refused.status}:{refused.code}"
        return "ok"

    return list(await asyncio.gather(*(one() for _ in range(CONCURRENT))))


async def test_many_first_verifications_share_one_fetch() -> None:
    mint = TokenMint()
    registry = FakeRegistry([mint], delay=0.2)
    async with registry.serving():
        source = JwksKeySource(registry.url)
        try:
            results = await outcomes(verifier_for(source), mint.token("unit", "18115"))
        finally:
            await source.aclose()
    assert results == ["ok"] * CONCURRENT
    assert registry.requests == 1


async def test_while_the_registry_answers_503_concurrent_requests_make_one_fetch() -> None:
    mint, rotated = TokenMint(), TokenMint()
    registry = FakeRegistry([mint])
    clock = Clock()
    source = JwksKeySource(
        registry.url,
        ttl_seconds=300,
        max_stale_seconds=3600,
        min_refresh_seconds=0.5,  # an unknown key id may ask again after 0.5 s
        backoff=Backoff(base_seconds=1, cap_seconds=60),
        monotonic=clock,
    )
    verifier = verifier_for(source)
    try:
        async with registry.serving():
            assert await outcomes(verifier, mint.token("unit", "18115")) == ["ok"] * CONCURRENT
            assert registry.requests == 1

            registry.down = True
            registry.delay = 0.2
            clock.now += 301  # the copy is past its TTL, still inside the stale bound
            # Known key: answered from the cache at once, one background refresh.
            assert await outcomes(verifier, mint.token("unit", "18115")) == ["ok"] * CONCURRENT
            await source.wait_idle()
            assert registry.requests == 2

            # A key id never seen (a rotation the registry cannot tell about now): refused,
            # and no fetch at all during the back-off after the failure.
            unknown = rotated.token("unit", "18115")
            assert await outcomes(verifier, unknown) == ["401:invalid_token"] * CONCURRENT
            assert registry.requests == 2

            # After the back-off, one fetch for all of them together.
            clock.now += 1.01
            assert await outcomes(verifier, unknown) == ["401:invalid_token"] * CONCURRENT
            assert registry.requests == 3
            # The next failure waits twice as long (2 s): at 1.5 s still no fetch.
            clock.now += 1.5
            assert await outcomes(verifier, unknown) == ["401:invalid_token"] * CONCURRENT
            assert registry.requests == 3

            # The registry is back with the rotated key: it is learnt once the back-off ends.
            registry.down = False
            registry.delay = 0
            registry.mints = [mint, rotated]
            clock.now += 0.6
            assert await outcomes(verifier, unknown) == ["ok"] * CONCURRENT
            assert registry.requests == 4
    finally:
        await source.aclose()


async def test_keys_are_refused_after_the_stale_bound_while_the_registry_is_stopped() -> None:
    mint = TokenMint()
    registry = FakeRegistry([mint])
    clock = Clock()
    counting = Client()
    http = counting.build()
    source = JwksKeySource(
        registry.url,
        client=http,
        ttl_seconds=300,
        max_stale_seconds=900,
        backoff=Backoff(base_seconds=1, cap_seconds=60),
        monotonic=clock,
    )
    verifier = verifier_for(source)
    token = mint.token("unit", "18115", ttl=timedelta(hours=2))
    try:
        async with registry.serving():
            assert await outcomes(verifier, token) == ["ok"] * CONCURRENT
        assert counting.sent == 1
        # The registry process is gone (connection refused).
        clock.now += 600
        assert await outcomes(verifier, token) == ["ok"] * CONCURRENT  # stale but bounded
        await source.wait_idle()
        assert counting.sent == 2

        clock.now += 301  # 901 s since the last good fetch: the keys are no longer trusted
        assert await outcomes(verifier, token) == ["503:keys_unavailable"] * CONCURRENT
        assert counting.sent == 3  # one attempt for all fifty
        assert await outcomes(verifier, token) == ["503:keys_unavailable"] * CONCURRENT
        assert counting.sent == 3  # backing off

        async with registry.serving():
            clock.now += 2.01  # past the second back-off
            assert await outcomes(verifier, token) == ["ok"] * CONCURRENT
            assert counting.sent == 4
    finally:
        await source.aclose()
        assert not http.is_closed  # a client given by the caller stays the caller's
        await http.aclose()


async def test_a_source_closes_the_client_it_created() -> None:
    source = JwksKeySource("http://127.0.0.1:9/.well-known/jwks.json")
    client = source.client
    assert source.client is client  # one client, reused
    with pytest.raises(Unauthorized) as refused:
        await source.key("any")
    assert refused.value.code == "keys_unavailable"
    await source.aclose()
    assert client.is_closed


async def test_a_foreign_key_id_refetches_at_most_once_per_min_refresh() -> None:
    mint, forger = TokenMint(), TokenMint()
    registry = FakeRegistry([mint])
    clock = Clock()
    source = JwksKeySource(registry.url, min_refresh_seconds=5, monotonic=clock)
    verifier = verifier_for(source)
    try:
        async with registry.serving():
            assert await outcomes(verifier, mint.token("unit", "18115")) == ["ok"] * CONCURRENT
            forged = forger.token("admin")
            for _ in range(3):
                assert await outcomes(verifier, forged) == ["401:invalid_token"] * CONCURRENT
            assert registry.requests == 1  # the first fetch was under 5 s ago
            clock.now += 5.01
            for _ in range(3):
                assert await outcomes(verifier, forged) == ["401:invalid_token"] * CONCURRENT
            assert registry.requests == 2
    finally:
        await source.aclose()
