"""A nats-server configured as the project runs it (`shared.launcher.NATS_CONFIG`: JetStream on
file storage with `sync_interval: always`), on free ports, stopped by PID. `sync_always=False`
drops the fsync setting (nats-server's default), only to show what it costs. The benchmark's
clients connect without credentials, so the `include` of the NATS users (authorization.conf,
docs/SECURITY.md) is left out: a permission check per message costs nothing measurable next
to the fsync."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shared.launcher import NATS_CONFIG
from tests.support.nats import NatsServer, free_port, nats_server_binary, wait_for_port


class ProjectNatsServer(NatsServer):
    """The test fixture's server, started from the launcher's configuration file instead of
    command-line flags, so every benchmark pays for the same fsync policy as production."""

    def __init__(
        self, store_dir: Path, port: int | None = None, *, sync_always: bool = True
    ) -> None:
        super().__init__(store_dir, port)
        self.monitor_port = free_port()
        self.sync_always = sync_always

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats.conf"
        text = NATS_CONFIG.format(
            port=self.port, monitor_port=self.monitor_port, store=self.store_dir / "js"
        )
        text = "\n".join(line for line in text.splitlines() if not line.startswith("include "))
        if not self.sync_always:
            # nats-server's default (fsync every 2 minutes), for comparison only.
            text = "\n".join(line for line in text.splitlines() if "sync_interval" not in line)
        config.write_text(text, encoding="utf-8")
        with open(self.store_dir / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port)
