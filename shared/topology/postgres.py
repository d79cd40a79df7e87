"""A private PostgreSQL cluster under the data folder, made with the machine's binaries.

Private rather than the machine's server on 5432, so the fault tests can restart it without
disturbing anything else. Like the compose `postgres` service: superuser `danvan` with the
generated password (scram-sha-256 over TCP), `POSTGRES_INITDB_ARGS` from docker-compose.yml,
and the four databases from deploy/postgres/init-databases.sql. Local connections go through
a socket in a folder only the server's user can open.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from shared.launcher import Child, StartupError
from shared.topology.render import INIT_DATABASES_SQL

SUPERUSER = "danvan"


def bindir() -> Path:
    """The newest installed PostgreSQL's binaries (Debian: /usr/lib/postgresql/<v>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    which = shutil.which("postgres") or shutil.which("initdb")
    if which:
        return Path(which).resolve().parent
    raise StartupError(
        "PostgreSQL's server binaries (initdb, postgres) are not installed; "
        "install Debian's postgresql package or pass --postgres-url"
    )


def as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise StartupError("running as root needs a 'postgres' system account") from exc
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(path, account.pw_uid, account.pw_gid)


def check_traversable(folder: Path) -> None:
    """As root the server runs as `postgres`, which must be able to reach its folder."""
    if os.geteuid() != 0:
        return
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise StartupError(
                f"{parent} is not traversable by the 'postgres' account (mode "
                f"{oct(parent.stat().st_mode & 0o777)}): choose a --data-dir outside it"
            )


class PrivateCluster:
    """initdb once, then a supervised `postgres` child on 127.0.0.1:<port>."""

    def __init__(self, folder: Path, port: int, password: str, initdb_args: list[str]) -> None:
        self.folder = folder
        self.pgdata = folder / "data"
        self.sockets = folder / "run"
        self.port = port
        self.password = password
        self.initdb_args = initdb_args
        self.bin = bindir()

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def initdb(self) -> None:
        """Create the cluster (once): superuser danvan with the generated password."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o711)
        check_traversable(self.folder)
        for folder in (self.pgdata, self.sockets):
            folder.mkdir(mode=0o700, exist_ok=True)
            _chown_to_server_user(folder)
        descriptor, name = tempfile.mkstemp(dir=self.folder, prefix=".pw")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as pw:
                pw.write(self.password + "\n")
            _chown_to_server_user(Path(name))
            result = subprocess.run(
                [
                    *as_server_user(),
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={name}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    *self.initdb_args,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            Path(name).unlink(missing_ok=True)
        if result.returncode != 0:
            raise StartupError(f"initdb failed for {self.pgdata}:\n{result.stdout}{result.stderr}")

    def child(self, log_path: Path, env: dict[str, str]) -> Child:
        return Child(
            "postgres",
            [
                *as_server_user(),
                str(self.bin / "postgres"),
                "-D",
                str(self.pgdata),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.sockets}",
            ],
            env,
            log_path,
            stop_signal=signal.SIGINT,  # fast shutdown: do not wait for clients to leave
        )

    def ready(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return result.returncode == 0

    def psql(self, database: str, *args: str) -> subprocess.CompletedProcess[str]:
        """psql as the superuser over the private socket."""
        return subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                str(self.sockets),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-X",
                "-q",
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def create_databases(self) -> None:
        """deploy/postgres/init-databases.sql, as the compose image runs it on a new volume."""
        present = self.psql(
            "postgres", "-At", "-c", "SELECT 1 FROM pg_database WHERE datname = 'danvan_registry'"
        )
        if present.returncode != 0:
            raise StartupError(f"cannot query PostgreSQL:\n{present.stderr}")
        if present.stdout.strip() == "1":
            return
        result = self.psql("postgres", "-f", str(INIT_DATABASES_SQL))
        if result.returncode != 0:
            raise StartupError(f"{INIT_DATABASES_SQL} failed:\n{result.stderr}")


def password_refused(
    psql: Path, port: int, password: str, database: str = "danvan_registry"
) -> str | None:
    """None when `danvan` signs in over TCP with `password`; the server's answer otherwise."""
    result = subprocess.run(
        [
            str(psql),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-X",
            "-At",
            "-w",
            "-c",
            "SELECT 1",
        ],
        env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        check=False,
    )
    return None if result.returncode == 0 else (result.stderr.strip() or "refused")
