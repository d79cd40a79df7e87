"""Grouping py-spy's collapsed stacks, and the shapes of SQL statements."""

from __future__ import annotations

from bench.spy import (
    Rule,
    by_layer,
    by_step,
    frame_name,
    parse_collapsed,
    top_inclusive,
    top_self,
    without,
)
from bench.sqllog import statement_shape

LOOP = "thread (101): MainThread;run (asyncio/runners.py:118)"
AMEND = "amend_report (services/intake/handlers/submission.py:290)"
RAW = "\n".join(
    [
        f"{LOOP};{AMEND};_validate (services/intake/handlers/submission.py:66);"
        "validate_report (shared/forms/validation.py:40) 6",
        f"{LOOP};{AMEND};_store_version (services/intake/handlers/submission.py:80);"
        "execute (sqlalchemy/orm/session.py:2300) 3",
        f"{LOOP};worker (bench/load.py:40);request (bench/http1.py:90) 5",
        "thread (202): Thread-1 (_connection_worker_thread);"
        "_connection_worker_thread (aiosqlite/core.py:60) 4",
        f"{LOOP} 2",
        "not a sample line",
    ]
)


def samples():
    return parse_collapsed(RAW)


def test_parse_collapsed_reads_threads_frames_and_counts():
    parsed = samples()
    assert len(parsed) == 5
    first = parsed[0]
    assert first.thread == "MainThread"
    assert first.count == 6
    assert first.frames[0] == "run (asyncio/runners.py:118)"
    assert first.frames[-1] == "validate_report (shared/forms/validation.py:40)"
    assert parsed[3].thread == "Thread-1 (_connection_worker_thread)"


def test_frame_name_drops_the_line_number():
    assert frame_name("execute (sqlalchemy/orm/session.py:2300)") == (
        "execute (sqlalchemy/orm/session.py)"
    )
    assert frame_name("<module> (x.py)") == "<module> (x.py)"


def test_without_leaves_out_the_load_clients_samples():
    kept = without(samples(), ("bench/load.py",))
    assert sum(s.count for s in kept) == 15


STEPS = (
    Rule("sqlite thread", ("aiosqlite/",), "Thread-"),
    Rule("validation", ("shared/forms/validation.py",)),
    Rule("writes", ("_store_version",)),
    Rule("rest", ("",)),
)


def test_by_step_takes_the_first_rule_in_order_and_gives_ms_per_item():
    rows = {
        r["label"]: r for r in by_step(without(samples(), ("bench/",)), STEPS, items=3, rate=1000)
    }
    assert rows["validation"]["samples"] == 6
    assert rows["validation"]["share"] == 0.4
    assert rows["validation"]["ms_per_item"] == 2.0  # 6 samples at 1 kHz over 3 items
    assert rows["writes"]["samples"] == 3
    assert rows["sqlite thread"]["samples"] == 4
    assert rows["rest"]["samples"] == 2


def test_a_thread_rule_applies_only_to_its_threads():
    # Every MainThread sample holds runners.py; restricted to "Thread-" threads, none count.
    restricted = Rule("loop", ("runners.py",), "Thread-")
    assert by_step(samples(), (restricted,), items=1, rate=1) == [
        {"label": "(unmatched)", "samples": 20, "share": 1.0, "ms_per_item": 1000.0 * 20}
    ]
    anywhere = Rule("loop", ("runners.py",))
    rows = {r["label"]: r["samples"] for r in by_step(samples(), (anywhere,), items=1, rate=1)}
    assert rows == {"loop": 16, "(unmatched)": 4}


LAYERS = (
    Rule("SQLAlchemy", ("sqlalchemy/",)),
    Rule("project", ("services/", "shared/")),
    Rule("asyncio", ("asyncio/",)),
)


def test_by_layer_takes_the_innermost_matching_frame():
    rows = {r["label"]: r["samples"] for r in by_layer(samples(), LAYERS, items=1, rate=1)}
    assert rows["SQLAlchemy"] == 3  # leaf is in SQLAlchemy, though called from the project
    assert rows["project"] == 6
    assert rows["asyncio"] == 2 + 5  # the client's frames are not in any layer: asyncio's run
    assert rows["(unmatched)"] == 4  # the SQLite thread's frames match no layer here


def test_top_self_and_top_inclusive():
    leafs = {r["frame"]: r["samples"] for r in top_self(samples())}
    assert leafs["validate_report (shared/forms/validation.py)"] == 6
    assert leafs["_connection_worker_thread (aiosqlite/core.py)"] == 4
    inclusive = {r["frame"]: r["samples"] for r in top_inclusive(samples())}
    assert inclusive["amend_report (services/intake/handlers/submission.py)"] == 9
    assert "run (asyncio/runners.py)" not in inclusive  # only the project's files


def test_statement_shapes():
    assert statement_shape("INSERT INTO report_versions (a, b) VALUES (?, ?)") == (
        "INSERT report_versions"
    )
    assert statement_shape(
        "INSERT INTO processed_events (consumer) VALUES (?) ON CONFLICT DO NOTHING"
    ) == ("INSERT processed_events … ON CONFLICT")
    assert statement_shape("UPDATE reports SET version=? WHERE x RETURNING reports.id") == (
        "UPDATE reports … RETURNING"
    )
    assert statement_shape(
        "SELECT p.a, p.b\n  FROM period_progress AS p WHERE p.id = $1 FOR UPDATE"
    ) == ("SELECT period_progress … FOR UPDATE")
    assert statement_shape('DELETE FROM "outbox" WHERE id < 5') == "DELETE outbox"
    assert statement_shape("PRAGMA journal_mode=WAL") == "PRAGMA journal_mode=WAL"


def test_split_waiting_sets_aside_threads_that_only_wait():
    from bench.spy import split_waiting

    busy, waiting = split_waiting(samples(), ("run (asyncio/runners.py", "_connection_worker"))
    assert sum(s.count for s in waiting) == 2 + 4
    assert sum(s.count for s in busy) == 6 + 3 + 5


def test_issuer_is_the_innermost_function_of_the_repository():
    import traceback

    from bench.sqllog import ROOT, issuer

    def frame(path: object, name: str) -> traceback.FrameSummary:
        return traceback.FrameSummary(str(path), 1, name)

    stack = [
        frame(ROOT / "services/intake/handlers/submission.py", "amend_report"),
        frame(ROOT / "services/intake/db.py", "advance_report"),
        frame(ROOT / "shared/db.py", "upsert_newer"),
        frame("/usr/lib/python3/site-packages/sqlalchemy/engine/base.py", "execute"),
        frame(ROOT / "bench/sqllog.py", "on_execute"),
    ]
    assert issuer(stack) == "services/intake/db.advance_report"
    assert issuer(stack[3:]) == "(outside the project)"
