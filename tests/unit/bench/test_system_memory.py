"""The memory figure of `make bench`'s system run: what each process grew by after the first
part of the burst."""

from __future__ import annotations

from bench.system import memory_growth


def test_growth_is_last_part_minus_first() -> None:
    parts: list[dict[str, float | None]] = [
        {"intake": 120.0, "consolidation": 130.5, "nats": None},
        {"intake": 121.0, "consolidation": 131.0, "nats": 30.0},
        {"intake": 119.5, "consolidation": 140.0, "nats": 31.0},
    ]
    assert memory_growth(parts) == {"intake": -0.5, "consolidation": 9.5, "nats": None}


def test_a_process_gone_in_the_last_part_has_no_figure() -> None:
    assert memory_growth([{"intake": 120.0}, {}]) == {"intake": None}


def test_one_part_has_no_growth() -> None:
    assert memory_growth([{"intake": 120.0}]) == {}
