"""Attachment bytes on disk, outside the database; replicas share the folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from pathlib import Path

_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}\.[a-z]{3,4}$")


class AttachmentStore:
    """Files named by storage key ``<report_id>/<attachment_id>.<suffix>`` under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """Where a key's bytes live; keys are generated here, so anything else is refused."""
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    @staticmethod
    def key(report_id: str, attachment_id: str, suffix: str) -> str:
        """The storage key of a new attachment."""
        return f"{report_id}/{attachment_id}{suffix}"

    async def save(self, key: str, data: bytes) -> None:
        """Write durably: a temporary file, fsync, then an atomic rename."""
        await asyncio.to_thread(self._write, self.path(key), data)

    async def delete(self, key: str) -> None:
        """Remove a file whose database row was never committed."""
        await asyncio.to_thread(self._remove, self.path(key))

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{uuid.uuid4().hex}.part")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    @staticmethod
    def _remove(target: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
