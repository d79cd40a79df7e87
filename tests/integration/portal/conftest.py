"""A portal wired to fake backends, driven like a browser without JavaScript."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.portal.fakes import PASSWORD, FakeSystem, build_portal

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """An HTTP client with a cookie jar, plus helpers that read hidden fields from pages."""

    client: httpx.AsyncClient
    app: FastAPI

    async def page(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers={"accept": "text/html"})

    @staticmethod
    def hidden(html: str, name: str) -> str:
        match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
        assert match, f"no hidden field {name}"
        return match.group(1)

    async def csrf(self, path: str = "/dang-nhap") -> str:
        response = await self.page(path)
        match = CSRF.search(response.text)
        assert match, "no CSRF field on the page"
        return match.group(1)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        token = await self.csrf()
        return await self.client.post(
            "/dang-nhap",
            data={"csrf_token": token, "username": username, "password": password, "next": "/"},
            headers={"accept": "text/html"},
        )


@pytest.fixture
def system() -> FakeSystem:
    return FakeSystem()


@pytest.fixture
async def browser(system: FakeSystem) -> AsyncIterator[Browser]:
    app = build_portal(system)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            yield Browser(client, app)
