"""Memory and CPU time of a process, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int | None) -> float | None:
    """Resident memory of a process in MiB, None if it is gone."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return parse_rss_mib(text)


def parse_rss_mib(status: str) -> float | None:
    """VmRSS of a /proc/<pid>/status text, in MiB."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time a process has used so far, None if it is gone."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return parse_cpu_seconds(text)


def parse_cpu_seconds(stat: str) -> float:
    """utime + stime of a /proc/<pid>/stat line, in seconds (the command may hold spaces and
    parentheses, so fields are counted from the last ')')."""
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5), counted from 1 with pid and comm as 1 and 2.
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def children(pid: int | None) -> list[int]:
    """The live child processes of a process (e.g. consolidation's answer worker)."""
    if pid is None:
        return []
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except FileNotFoundError:
            continue
    return found


def tree_cpu_seconds(pid: int | None) -> float | None:
    """CPU time of a process and of its live children (consolidation builds its answers in
    a child process), None if the process is gone."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    return own + sum(cpu_seconds(child) or 0.0 for child in children(pid))


def children_rss_mib(pid: int | None) -> float:
    """Resident memory of a process's live children together, in MiB."""
    return round(sum(rss_mib(child) or 0.0 for child in children(pid)), 1)
