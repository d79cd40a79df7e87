"""Pure arithmetic of the benchmark: percentiles, latency summaries, ratios, the comparison
table and the shape of `bench-results/latest.json`. No I/O, no clocks: unit-tested."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at
    or below it (p99 of 100 samples is the 99th smallest, of 500 samples the 495th)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within [0, 1], got {share}")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Mean, p50, p95, p99 and max of latencies given in seconds, in milliseconds."""
    if not seconds:
        raise ValueError("no latencies")
    ms = [s * 1000 for s in seconds]
    return {
        "mean_ms": round(statistics.fmean(ms), 2),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
    }


def rate(count: int, seconds: float) -> float:
    """Items per second."""
    if seconds <= 0:
        raise ValueError("elapsed time must be positive")
    return count / seconds


def ratio(project: float | None, baseline: float | None, digits: int = 3) -> float | None:
    """project / baseline, or None when either side is missing or the baseline is zero."""
    if project is None or baseline is None or baseline == 0:
        return None
    return round(project / baseline, digits)


def dig(tree: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`system.intake_amendments.req_per_s`), None if absent."""
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class Comparison:
    """One project figure next to its bare-stack baseline from the same run.

    `higher_is_better` says which way the ratio reads: for a throughput the ratio is the
    share of the baseline reached (1.0 = as fast as the bare stack); for a latency it is the
    multiple of the baseline's time (1.0 = as quick).
    """

    name: str
    label: str
    project_path: str
    baseline_path: str
    unit: str
    higher_is_better: bool
    target: float | None = None

    def evaluate(self, figures: Mapping[str, Any]) -> dict[str, Any]:
        project = dig(figures, self.project_path)
        baseline = dig(figures, self.baseline_path)
        value = ratio(project, baseline)
        met: bool | None = None
        if value is not None and self.target is not None:
            met = value >= self.target if self.higher_is_better else value <= self.target
        return {
            "label": self.label,
            "project": project,
            "baseline": baseline,
            "unit": self.unit,
            "ratio": value,
            "reads": "share of baseline" if self.higher_is_better else "multiple of baseline",
            "target": self.target,
            "target_met": met,
        }


# The targets are issue 14's, stated as ratios in one run on SQLite.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "intake_vs_bare",
        "intake amendments, 20 units at once (req/s)",
        "system.intake_amendments.req_per_s",
        "baselines.bare_intake.concurrent.req_per_s",
        "req/s",
        higher_is_better=True,
        target=0.5,
    ),
    Comparison(
        "intake_p99_vs_bare_p99",
        "intake amendments, 20 units at once (p99)",
        "system.intake_amendments.latency.p99_ms",
        "baselines.bare_intake.concurrent.latency.p99_ms",
        "ms",
        higher_is_better=False,
        target=2.0,
    ),
    Comparison(
        "intake_service_time_vs_bare",
        "one amendment at a time (mean service time)",
        "system.intake_one_at_a_time.latency.mean_ms",
        "baselines.bare_intake.one_at_a_time.latency.mean_ms",
        "ms",
        higher_is_better=False,
        target=3.0,
    ),
    Comparison(
        "consumer_vs_raw",
        "consumer, one transaction per fetched batch (events/s)",
        "consumer_sqlite.events_per_s",
        "baselines.raw_fetch_ack.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=0.25,
    ),
    Comparison(
        "consumer_per_event_vs_raw",
        "consumer, one transaction per event (events/s)",
        "consumer_sqlite_per_event.events_per_s",
        "baselines.raw_fetch_ack_per_event_run.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=None,
    ),
    Comparison(
        "projector_vs_raw",
        "consolidation projector, batches of 100, 20-unit periods (events/s)",
        "consolidation_per_event_sqlite.sizes.20.batched.events_per_s",
        "baselines.raw_fetch_ack.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=None,
    ),
    Comparison(
        "projector_per_event_vs_raw",
        "consolidation projector, one event per transaction, 20-unit periods (events/s)",
        "consolidation_per_event_sqlite.sizes.20.events_per_s",
        "baselines.raw_fetch_ack.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=None,
    ),
    Comparison(
        "relay_vs_raw",
        "outbox relay (msg/s)",
        "relay_sqlite.msg_per_s",
        "baselines.raw_publish_async.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=0.7,
    ),
    Comparison(
        "relay_vs_raw_default_sync",
        "outbox relay, nats-server's default fsync (msg/s)",
        "relay_sqlite_default_sync.msg_per_s",
        "baselines.raw_publish_async_default_sync.msg_per_s",
        "msg/s",
        higher_is_better=True,
        target=None,
    ),
)


def compare(
    figures: Mapping[str, Any], comparisons: Sequence[Comparison] = COMPARISONS
) -> dict[str, dict[str, Any]]:
    """Every comparison whose two figures were measured in this run."""
    out: dict[str, dict[str, Any]] = {}
    for comparison in comparisons:
        row = comparison.evaluate(figures)
        if row["project"] is not None or row["baseline"] is not None:
            out[comparison.name] = row
    return out


def latest(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The document written to bench-results/latest.json: the ratios, the comparisons they
    come from, and every figure of the run."""
    comparisons = compare(figures)
    return {
        "ratios": {name: row["ratio"] for name, row in comparisons.items()},
        "comparisons": comparisons,
        "figures": dict(figures),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(comparisons: Mapping[str, Mapping[str, Any]]) -> str:
    """The comparisons as a plain-text table for the terminal."""
    header = ("path", "project", "bare stack", "ratio", "target")
    rows = [header]
    for row in comparisons.values():
        target = row["target"]
        if target is None:
            target_text = ""
        else:
            sign = "≥" if row["reads"] == "share of baseline" else "≤"
            verdict = {True: " met", False: " not met", None: ""}[row["target_met"]]
            target_text = f"{sign} {target}{verdict}"
        unit = row["unit"]
        rows.append(
            (
                row["label"],
                f"{_cell(row['project'])} {unit}",
                f"{_cell(row['baseline'])} {unit}",
                _cell(row["ratio"]),
                target_text,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
