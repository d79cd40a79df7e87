"""A lean HTTP/1.1 keep-alive client for the load (standard library only).

httpx spends about 1.2 ms of CPU per request on this machine, on the same two cores as the
servers it measures: that would add the same constant to the project and to its baseline and
squeeze every ratio towards 1. This client costs about 0.1-0.2 ms. Each load worker owns one
connection, as each unit's browser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any


class HttpError(Exception):
    """An answer other than the expected status."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise HttpError(f"HTTP {self.status}: {self.body[:500]!r}")


def encode_request(
    method: str, host: str, path: str, body: bytes, headers: dict[str, str]
) -> bytes:
    """The request's bytes: request line, headers (Host and Content-Length always), body."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> Response:
    """One response from the stream: Content-Length or chunked bodies."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("connection closed before the response")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise HttpError(f"not an HTTP/1.x status line: {status_line!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)  # CRLF after each chunk
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Response(status, headers, body)


class Connection:
    """One keep-alive connection to a server; reconnects when the server closed it."""

    def __init__(self, base_url: str) -> None:
        hostport = base_url.removeprefix("http://").rstrip("/")
        host, _, port = hostport.partition(":")
        self.host, self.port = host, int(port or 80)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = b""
        extra = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            extra.setdefault("Content-Type", "application/json")
        data = encode_request(method, f"{self.host}:{self.port}", path, body, extra)
        for attempt in (1, 2):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            try:
                self._writer.write(data)
                response = await read_response(self._reader)
            except (ConnectionResetError, asyncio.IncompleteReadError, BrokenPipeError):
                await self.close()
                if attempt == 2:
                    raise
                continue
            if response.headers.get("connection", "").lower() == "close":
                await self.close()
            return response
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
