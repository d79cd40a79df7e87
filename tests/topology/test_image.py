"""The Dockerfile builds (from a base made of Debian's packages, passed as PYTHON_IMAGE) and
each service starts in the image and answers /healthz. Where no Docker engine can run, the
test skips and says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.topology.compose import REPO
from tests.support.nats import free_port

# The first build on a machine makes the Debian base and installs every dependency.
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(2400)]

BASE = "danvan-python-base:bookworm"
IMAGE = "danvan:image-test"
# The engine this test starts keeps its images here between runs (the base and the
# dependency layers are then built once per machine).
DATA_ROOT = Path("/var/lib/danvan-docker")
SERVICES = ("registry", "intake", "reminders", "consolidation", "portal")


class Engine:
    """A Docker engine: the machine's if one answers, else a dockerd of our own."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.env = dict(os.environ)
        self.folder: Path | None = None

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        try:
            result = subprocess.run(
                ["docker", *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            if check:
                raise
            return ""
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result.stdout

    def answers(self) -> bool:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.returncode == 0 and bool(result.stdout.strip())

    def start(self) -> str | None:
        """None when an engine runs; otherwise why none can."""
        if shutil.which("docker") is None:
            return "no docker client (Debian's docker.io)"
        if self.answers():
            return None
        if shutil.which("dockerd") is None:
            return "no Docker engine answers and dockerd (Debian's docker.io) is not installed"
        if os.geteuid() != 0:
            return "no Docker engine answers and starting dockerd needs root"
        # Its own folder outside pytest's: dockerd mounts a network namespace in there.
        folder = self.folder = Path(tempfile.mkdtemp(prefix="danvan-dockerd-"))
        socket = folder / "docker.sock"
        self.env["DOCKER_HOST"] = f"unix://{socket}"
        log = open(folder / "dockerd.log", "ab")  # noqa: SIM115
        # No bridge and no iptables: this machine's kernel and sandbox allow neither; the
        # builds and containers use the host's network.
        self.process = subprocess.Popen(
            [
                "dockerd",
                "--storage-driver=vfs",
                "--iptables=false",
                "--bridge=none",
                f"--host=unix://{socket}",
                f"--data-root={DATA_ROOT}",
                f"--exec-root={folder / 'exec'}",
                f"--pidfile={folder / 'dockerd.pid'}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (folder / "dockerd.log").read_text(errors="replace")[-2000:]
                return f"dockerd exited ({self.process.returncode}):\n{tail}"
            if self.answers():
                return None
            time.sleep(0.5)
        return "dockerd did not answer within 60s"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.folder is not None:
            # dockerd leaves its namespace mounts behind: unmount them, then remove it all.
            mounts = Path("/proc/mounts").read_text().splitlines()
            for target in sorted((m.split()[1] for m in mounts), reverse=True):
                if target.startswith(str(self.folder)):
                    subprocess.run(["umount", target], check=False, capture_output=True)
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    running = Engine()
    why = running.start()
    if why is not None:
        running.stop()
        pytest.skip(f"no Docker engine can run here: {why}")
    try:
        yield running
        # Each build leaves the previous one's layers untagged; with the vfs driver every
        # layer is a full copy, so keep only what the next build can reuse (slow: vfs).
        running.docker("image", "prune", "--force", timeout=900, check=False)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def image(engine: Engine) -> str:
    if not engine.docker("images", "-q", BASE):
        if shutil.which("debootstrap") is None:
            pytest.skip("the Debian base image needs debootstrap (Debian's debootstrap)")
        result = subprocess.run(
            [str(REPO / "deploy" / "docker" / "debian-python-base.sh"), BASE],
            env=engine.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    engine.docker(
        "build",
        "--network",
        "host",
        "--build-arg",
        f"PYTHON_IMAGE={BASE}",
        "-t",
        IMAGE,
        str(REPO),
        timeout=1500,
    )
    return IMAGE


def test_each_service_starts_in_the_image_and_answers_healthz(engine: Engine, image: str):
    ports = {name: free_port() for name in SERVICES}
    containers = []
    try:
        for name, port in ports.items():
            containers.append(
                engine.docker(
                    "run",
                    "-d",
                    "--network",
                    "host",
                    "-e",
                    "DANVAN_ENV=development",
                    "-e",
                    "DANVAN_HTTP_HOST=127.0.0.1",
                    "-e",
                    f"DANVAN_HTTP_PORT={port}",
                    # Nothing listens there: each service starts and serves without NATS.
                    "-e",
                    "NATS_URL=nats://127.0.0.1:1",
                    image,
                    "python",
                    "-m",
                    f"services.{name}",
                ).strip()
            )
        for (name, port), container in zip(ports.items(), containers, strict=True):
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, (
                    f"{name} did not answer /healthz:\n"
                    + engine.docker("logs", container, check=False)[-3000:]
                )
                time.sleep(0.5)
            # The image's own HEALTHCHECK command agrees.
            engine.docker("exec", container, "python", "/usr/local/bin/danvan-healthcheck")
            user = engine.docker("exec", container, "id", "-u").strip()
            assert user == "10001", f"{name} runs as uid {user}"
    finally:
        for container in containers:
            engine.docker("rm", "-f", container, check=False)
