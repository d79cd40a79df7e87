"""The whole system started the way `make run` starts it: the launcher as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.launcher import SERVICES, Ports


def free_port_base(span: int = 8) -> int:
    """A base port with `span` free ports after it."""
    for base in range(21000, 60000, 97):
        if all(_free(base + i) for i in range(span)):
            return base
    raise RuntimeError("no free port range")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class System:
    """A running launcher with its data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.base = free_port_base()
        self.ports = Ports.from_base(self.base)
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, service)}"

    def start(self, timeout: float = 120.0) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DANVAN_DEMO_PASSWORD"] = "e2e-mat-khau"
        self.log = open(self.data_dir / "launcher.out", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.launcher",
                "--data-dir",
                str(self.data_dir),
                "--port-base",
                str(self.base),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        pending = [s for s in SERVICES if (Path("services") / s / "__main__.py").exists()]
        while pending:
            if self.process.poll() is not None:
                raise RuntimeError(f"launcher exited: {self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready: {pending}\n{self.output()}")
            pending = [s for s in pending if not self._ready(s)]
            time.sleep(0.2)

    def _ready(self, service: str) -> bool:
        try:
            return httpx.get(self.url(service) + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        return (self.data_dir / "launcher.out").read_text("utf-8", errors="replace")[-5000:]

    def child_pid(self, name: str) -> int | None:
        """The PID of a child of the launcher: a service, or "nats" for nats-server."""
        out = subprocess.run(
            ["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True, check=True
        ).stdout
        assert self.process is not None
        for line in out.splitlines()[1:]:
            pid, ppid, args = line.strip().split(None, 2)
            if int(ppid) != self.process.pid:
                continue
            words = args.split()
            # The module exactly: "services.reminders" must not match the SMTP sink,
            # "services.reminders.smtp_sink", which the launcher starts first.
            if name == "nats" and words[0].endswith("nats-server"):
                return int(pid)
            if name != "nats" and f"services.{name}" in words:
                return int(pid)
        return None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
