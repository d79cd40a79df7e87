"""Fixtures for the document builders."""

from __future__ import annotations

import pytest

from shared.documents import DocumentSpec

from . import samples


@pytest.fixture
def report_spec() -> DocumentSpec:
    return samples.report_spec()


@pytest.fixture
def cong_van_spec() -> DocumentSpec:
    return samples.cong_van_spec()
