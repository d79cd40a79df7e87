"""The rebuild benchmark's event stream: generated as it is published, exactly as long as
asked, each period opened by its period event before its report events."""

from __future__ import annotations

from bench.consolidation import rebuild_stream


def test_stream_has_the_asked_length_and_opens_each_period_first() -> None:
    periods: list[str] = []
    events = list(rebuild_stream(5_000, periods))
    assert len(events) == 5_000
    assert periods == ["R0", "R1"]  # 2,000 units give ~4,400 events a period
    opening = [n for n, e in enumerate(events) if "period.changed" in e.subject]
    assert len(opening) == 2 and opening[0] == 0
    assert len({e.event_id for e in events}) == 5_000


def test_stream_is_lazy() -> None:
    periods: list[str] = []
    stream = rebuild_stream(10**9, periods)
    first = next(iter(stream))
    assert "period.changed" in first.subject
    assert periods == ["R0"]
