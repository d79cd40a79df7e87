"""The e2e system fixture: one launcher per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.system import System


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    running = System(tmp_path_factory.mktemp("system"))
    running.start()
    try:
        yield running
    finally:
        running.stop()
