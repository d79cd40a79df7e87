"""The embedded SMTP sink keeps every message it receives as a .eml file."""

from __future__ import annotations

import asyncio
import contextlib
import email
import signal
import smtplib
import subprocess
import sys
import time
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from services.reminders.smtp_sink import serve
from tests.support.nats import free_port, wait_for_port


def send(port: int, to: str) -> None:
    message = EmailMessage()
    message["From"] = "Phòng Nội vụ <pnv@honglinh.test>"
    message["To"] = to
    message["Subject"] = "Nhắc hạn báo cáo: 6 tháng đầu năm 2023"
    message.set_content("Kính gửi: UBND phường Bắc Hồng\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message, to_addrs=[to, "bcc@honglinh.test"])


def stored(directory: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email_policy.default)  # type: ignore[misc]
        for path in sorted(directory.glob("*.eml"))
    ]


async def test_every_received_message_is_stored_as_an_eml_file(tmp_path: Path) -> None:
    port = free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(tmp_path / "mail", "127.0.0.1", port, stop))
    try:
        await asyncio.to_thread(wait_for_port, port)
        await asyncio.to_thread(send, port, "vanphong@bachong.test")
        await asyncio.to_thread(send, port, "lanhdao@bachong.test")
    finally:
        stop.set()
        await server

    messages = stored(tmp_path / "mail")
    assert [m["To"] for m in messages] == ["vanphong@bachong.test", "lanhdao@bachong.test"]
    assert messages[0]["Subject"] == "Nhắc hạn báo cáo: 6 tháng đầu năm 2023"
    assert messages[0]["X-Envelope-To"] == "vanphong@bachong.test, bcc@honglinh.test"
    assert messages[0].get_content().startswith("Kính gửi: UBND phường Bắc Hồng")
    assert not list((tmp_path / "mail").glob(".*.part"))


def test_command_line_sink_runs_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.reminders.smtp_sink",
            "--port",
            str(port),
            "--dir",
            str(tmp_path / "mail"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        send(port, "vanphong@bachong.test")
        deadline = time.monotonic() + 5
        while not stored(tmp_path / "mail") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(stored(tmp_path / "mail")) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
