"""The production topology started the way `make run-cluster` starts it, for the tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from shared.natsauth import OPERATOR, inbox_prefix
from shared.topology.render import ALERTS_YML, Ports, shorten_for

PASSWORD = "topo-mat-khau"
# Test-time rendering of the alert rules: every `for:` shortened, thresholds unchanged.
FOR = "10s"
SCRAPE = "2s"
T = TypeVar("T")


def missing_tools() -> list[str]:
    """What the topology needs from Debian's packages and this machine lacks."""
    wanted = {"prometheus": "prometheus", "promtool": "prometheus", "nginx": "nginx"}
    absent = [
        pkg
        for name, pkg in wanted.items()
        if shutil.which(name) is None and not (Path("/usr/sbin") / name).exists()
    ]
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        absent.append("postgresql")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        absent.append("util-linux (setpriv)")
    return sorted(set(absent))


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_offset(start: int = 1000) -> int:
    """An offset moving every port of the topology onto free ports below the ephemeral
    range (32768), where outgoing connections cannot take them meanwhile."""
    ports = Ports().all().values()
    for offset in range(start, 32768 - max(ports), 211):
        if all(_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port range for the topology")


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll `check` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


class Topology:
    """`python -m shared.topology` in a subprocess, with its data folder and ports."""

    def __init__(self, data_dir: Path | None = None, offset: int | None = None) -> None:
        self.owned = data_dir is None
        # Outside pytest's tmp tree: PostgreSQL runs as `postgres`, which must reach it.
        self.root = (
            Path(tempfile.mkdtemp(prefix="danvan-topology-")) if data_dir is None else data_dir
        )
        self.root.chmod(0o711)
        self.data = self.root / "data"
        self.offset = free_offset() if offset is None else offset
        self.ports = Ports().shifted(self.offset)
        self.process: subprocess.Popen[bytes] | None = None
        self.rules = self.root / "alerts.test.yml"
        self.rules.write_text(shorten_for(ALERTS_YML.read_text(encoding="utf-8"), FOR), "utf-8")

    def argv(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "shared.topology",
            "--data-dir",
            str(self.data),
            "--port-offset",
            str(self.offset),
            "--rules",
            str(self.rules),
            "--scrape-interval",
            SCRAPE,
            *extra,
        ]

    def start(self, *extra: str, timeout: float = 300.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DANVAN_")}
        env["DANVAN_DEMO_PASSWORD"] = PASSWORD
        self.out = self.root / "run-cluster.out"
        mark = self.out.stat().st_size if self.out.exists() else 0
        with open(self.out, "ab") as out:
            self.process = subprocess.Popen(
                self.argv(*extra), env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while "Nhấn Ctrl-C để dừng" not in self.out.read_bytes()[mark:].decode(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"run-cluster exited:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"run-cluster not up:\n{self.output()}")
            time.sleep(0.5)

    def output(self) -> str:
        return self.out.read_text("utf-8", errors="replace")[-8000:] if self.out.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def cleanup(self) -> None:
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- children ------------------------------------------------------------------------

    def pids(self) -> dict[str, int]:
        try:
            data: dict[str, int] = json.loads((self.data / "children.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def pid(self, name: str) -> int:
        return self.pids()[name]

    def signal(self, name: str, sig: signal.Signals) -> int:
        pid = self.pid(name)
        os.kill(pid, sig)
        return pid

    def restarted(self, name: str, old_pid: int) -> bool:
        pid = self.pids().get(name)
        return pid is not None and pid != old_pid

    # -- addresses -----------------------------------------------------------------------

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.ports.prometheus}"

    def service(self, name: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, name.replace('-', '_'))}"

    def nats_urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{self.ports.nats(n)}" for n in (1, 2, 3)]

    def monitor(self, node: int) -> str:
        return f"http://127.0.0.1:{self.ports.monitor(node)}"

    def operator_options(self) -> dict[str, Any]:
        seed = (self.data / "nats-auth" / f"{OPERATOR}.nk").read_text("ascii").strip()
        return {"nkeys_seed_str": seed, "inbox_prefix": inbox_prefix(OPERATOR)}

    # -- NATS and Prometheus views -------------------------------------------------------

    def jsz(self, node: int, **params: str) -> dict[str, Any]:
        response = httpx.get(self.monitor(node) + "/jsz", params=params, timeout=3)
        data: dict[str, Any] = response.json()
        return data

    def nats_healthy(self) -> bool:
        for node in (1, 2, 3):
            try:
                if httpx.get(self.monitor(node) + "/healthz", timeout=2).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def meta_leader(self) -> str:
        for node in (1, 2, 3):
            try:
                leader = self.jsz(node).get("meta_cluster", {}).get("leader")
            except httpx.HTTPError:
                continue
            if leader:
                return str(leader)
        raise AssertionError("no JetStream meta leader")

    def stream_leader(self, stream: str) -> str:
        for node in (1, 2, 3):
            try:
                data = self.jsz(node, streams="true")
            except httpx.HTTPError:
                continue
            for account in data.get("account_details", []):
                for detail in account.get("stream_detail", []):
                    leader = (detail.get("cluster") or {}).get("leader")
                    if detail.get("name") == stream and leader:
                        return str(leader)
        raise AssertionError(f"no leader for {stream}")

    def promql(self, query: str) -> list[dict[str, Any]]:
        response = httpx.get(self.prometheus + "/api/v1/query", params={"query": query}, timeout=5)
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def firing(self, alert: str) -> list[dict[str, Any]]:
        response = httpx.get(self.prometheus + "/api/v1/alerts", timeout=5)
        return [
            a
            for a in response.json()["data"]["alerts"]
            if a["labels"]["alertname"] == alert and a["state"] == "firing"
        ]

    def ready(self, name: str) -> bool:
        try:
            return httpx.get(self.service(name) + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def readiness(self, name: str) -> dict[str, Any] | None:
        """The /readyz body (None while the process does not answer)."""
        try:
            body: dict[str, Any] = httpx.get(self.service(name) + "/readyz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None
        return body


def login(http: httpx.Client, topology: Topology, username: str) -> dict[str, str]:
    response = http.post(
        topology.gateway + "/api/registry/v1/auth/token",
        data={"username": username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
