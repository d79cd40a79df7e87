"""The benchmark's arithmetic: percentiles, summaries, ratios and latest.json."""

from __future__ import annotations

from typing import Any

import pytest

from bench.stats import (
    COMPARISONS,
    Comparison,
    compare,
    dig,
    latency_summary,
    latest,
    percentile,
    rate,
    ratio,
    table,
)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1 … 100
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.0) == 1.0
    # Order of the input does not matter.
    assert percentile(list(reversed(values)), 0.95) == 95.0


def test_percentile_of_few_samples_is_the_largest_for_high_shares():
    assert percentile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0


def test_p99_of_500_samples_is_the_495th():
    values = [float(v) for v in range(500)]
    assert percentile(values, 0.99) == 494.0


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_percentile_refuses_shares_outside_zero_to_one(bad):
    with pytest.raises(ValueError):
        percentile([1.0], bad)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_latency_summary_in_milliseconds():
    summary = latency_summary([0.001, 0.002, 0.003, 0.010])
    assert summary == {
        "mean_ms": 4.0,
        "p50_ms": 2.0,
        "p95_ms": 10.0,
        "p99_ms": 10.0,
        "max_ms": 10.0,
    }


def test_rate_and_ratio():
    assert rate(500, 2.0) == 250.0
    with pytest.raises(ValueError):
        rate(1, 0.0)
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(1.0, 3.0) == 0.333
    assert ratio(None, 3.0) is None
    assert ratio(3.0, None) is None
    assert ratio(3.0, 0) is None


def test_dig_follows_dotted_paths():
    tree = {"a": {"b": {"c": 3}}, "sizes": {"20": {"x": 1}}}
    assert dig(tree, "a.b.c") == 3
    assert dig(tree, "sizes.20.x") == 1
    assert dig(tree, "a.missing") is None
    assert dig(tree, "a.b.c.d") is None


FIGURES: dict[str, Any] = {
    "system": {
        "intake_amendments": {"req_per_s": 90.0, "latency": {"p99_ms": 300.0}},
        "intake_one_at_a_time": {"latency": {"mean_ms": 18.0}},
    },
    "consumer_sqlite": {"events_per_s": 8000},
    "consumer_sqlite_per_event": {"events_per_s": 500},
    "relay_sqlite": {"msg_per_s": 3000},
    "relay_sqlite_default_sync": {"msg_per_s": 18000},
    "consolidation_per_event_sqlite": {
        "sizes": {"20": {"events_per_s": 100, "batched": {"events_per_s": 1500}}}
    },
    "baselines": {
        "bare_intake": {
            "concurrent": {"req_per_s": 400.0, "latency": {"p99_ms": 60.0}},
            "one_at_a_time": {"latency": {"mean_ms": 2.0}},
        },
        "raw_fetch_ack": {"msg_per_s": 20000},
        "raw_fetch_ack_per_event_run": {"msg_per_s": 25000},
        "raw_publish_async": {"msg_per_s": 4000},
        "raw_publish_async_default_sync": {"msg_per_s": 45000},
    },
}


def test_ratios_read_the_right_way_round():
    rows = compare(FIGURES)
    assert rows["intake_vs_bare"]["ratio"] == 0.225  # 90 / 400: a share of the baseline
    assert rows["intake_vs_bare"]["target_met"] is False  # target ≥ 0.5
    assert rows["intake_p99_vs_bare_p99"]["ratio"] == 5.0  # 300 / 60: a multiple
    assert rows["intake_p99_vs_bare_p99"]["target_met"] is False  # target ≤ 2
    assert rows["intake_service_time_vs_bare"]["ratio"] == 9.0
    assert rows["consumer_vs_raw"]["ratio"] == 0.4  # the batched consumer
    assert rows["consumer_vs_raw"]["target_met"] is True  # target ≥ 0.25
    assert rows["consumer_per_event_vs_raw"]["ratio"] == 0.02  # against its own run's raw
    assert rows["projector_vs_raw"]["ratio"] == 0.075  # batches of 100
    assert rows["projector_vs_raw"]["target_met"] is None  # no target of its own
    assert rows["projector_per_event_vs_raw"]["ratio"] == 0.005
    assert rows["relay_vs_raw"]["ratio"] == 0.75
    assert rows["relay_vs_raw"]["target_met"] is True  # target ≥ 0.7
    assert rows["relay_vs_raw_default_sync"]["ratio"] == 0.4


def test_a_latency_target_is_met_at_or_below_it():
    comparison = Comparison("x", "x", "p", "b", "ms", higher_is_better=False, target=2.0)
    assert comparison.evaluate({"p": 4.0, "b": 2.0})["target_met"] is True
    assert comparison.evaluate({"p": 4.1, "b": 2.0})["target_met"] is False


def test_latest_keeps_every_figure_and_names_the_three_ratios_of_the_issue():
    document = latest(FIGURES)
    assert document["figures"] == FIGURES
    for name in ("intake_vs_bare", "consumer_vs_raw", "relay_vs_raw"):
        assert document["ratios"][name] == document["comparisons"][name]["ratio"]
    assert set(document["ratios"]) == {c.name for c in COMPARISONS}


def test_a_comparison_with_neither_figure_measured_is_left_out():
    partial = {k: v for k, v in FIGURES.items() if k != "relay_sqlite_default_sync"}
    partial["baselines"] = {
        k: v for k, v in FIGURES["baselines"].items() if k != "raw_publish_async_default_sync"
    }
    assert "relay_vs_raw_default_sync" not in latest(partial)["ratios"]


def test_a_run_without_the_system_leaves_its_ratios_out_or_empty():
    partial = {k: v for k, v in FIGURES.items() if k != "system"}
    document = latest(partial)
    # The baseline was measured, the project figure not: listed, with no ratio.
    assert document["ratios"]["intake_vs_bare"] is None
    assert document["ratios"]["relay_vs_raw"] == 0.75
    row = next(r for r in table(document["comparisons"]).splitlines() if "(req/s)" in r)
    assert "— req/s" in row and "400.0 req/s" in row


def test_table_shows_project_baseline_ratio_and_target():
    text = table(compare(FIGURES))
    line = next(row for row in text.splitlines() if row.startswith("outbox relay"))
    assert "3,000 msg/s" in line and "4,000 msg/s" in line and "0.750" in line
    assert "≥ 0.7 met" in line
    p99 = next(row for row in text.splitlines() if "(p99)" in row)
    assert "≤ 2.0 not met" in p99
