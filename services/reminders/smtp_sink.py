"""A local SMTP sink for the embedded default: every message received is kept as a .eml file.

Run: python -m services.reminders.smtp_sink --port 8025 --dir .data/mail
Nothing is relayed anywhere; open the .eml files with any mail program to see what the
reminders service sent. The envelope sender and recipients are added as X-Envelope-* headers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class MailSink:
    """aiosmtpd handler writing each message atomically into a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message; 250 once it is on disk."""
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        header = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{os.getpid()}-{next(self._sequence):06d}.eml"
        try:
            await asyncio.to_thread(self._write, name, header + content)
        except OSError:
            log.exception("could not store message %s", name)
            return "451 4.3.0 Could not store the message"
        log.info("stored %s for %d recipient(s)", name, len(envelope.rcpt_tos))
        return "250 2.0.0 Message stored"

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(self.directory / name)


async def serve(directory: Path, host: str, port: int, stop: asyncio.Event) -> None:
    """Accept mail on host:port until `stop` is set."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    handler = MailSink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, enable_SMTPUTF8=True),
        host=host,
        port=port,
    )
    log.info("SMTP sink on %s:%d storing mail in %s", host, port, directory)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    """Command line entry: run the sink until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="SMTP sink: lưu thư nhắc việc thành tệp .eml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".data") / "mail")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(args.dir, args.host, args.port, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
