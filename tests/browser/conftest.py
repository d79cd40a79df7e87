"""A headless Debian Chromium driven by Playwright, for tests that need a real browser.

Playwright's own browser download is never used: the machine (and CI) has Debian's
Chromium, and the network is closed, so the browser is launched from its path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container without a network: no sandbox (no user namespaces in CI), no GPU,
# and nothing that would try to reach Google's servers in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright's own waits (auto-waiting clicks and expectations), in milliseconds; well under
# the test's budget so that a missing element fails with Playwright's message, not a timeout.
ACTION_TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so the folder also runs where pyproject does not list it yet."""
    config.addinivalue_line("markers", "browser: drives a real headless Chromium")


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    return None


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium; skips the test when the browser or Playwright is missing."""
    reason = browser_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
