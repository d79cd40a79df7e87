"""The load client's HTTP/1.1 framing and the /proc readers, on fixed bytes."""

from __future__ import annotations

import asyncio
import os

import pytest

from bench.http1 import HttpError, encode_request, read_response
from bench.procfs import CLOCK_TICKS, cpu_seconds, parse_cpu_seconds, parse_rss_mib, rss_mib


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def test_request_carries_host_length_headers_and_body():
    data = encode_request("PUT", "127.0.0.1:8002", "/v1/reports/r1", b'{"a":1}', {"X-Key": "k"})
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "PUT /v1/reports/r1 HTTP/1.1"
    assert "Host: 127.0.0.1:8002" in lines
    assert "Content-Length: 7" in lines
    assert "X-Key: k" in lines
    assert body == b'{"a":1}'


async def test_response_with_content_length():
    raw = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8\r\n\r\n{"v": 2}'
    response = await read_response(reader_of(raw + b"HTTP/1.1 204 No Content\r\n\r\n"))
    assert response.status == 200
    assert response.json() == {"v": 2}
    response.raise_for_status()


async def test_two_responses_on_one_connection_are_read_apart():
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
    second = b"HTTP/1.1 409 Conflict\r\nContent-Length: 3\r\n\r\nxyz"
    reader = reader_of(first + second)
    assert (await read_response(reader)).body == b"ab"
    conflict = await read_response(reader)
    assert (conflict.status, conflict.body) == (409, b"xyz")
    with pytest.raises(HttpError):
        conflict.raise_for_status()


async def test_chunked_response():
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!"
    )
    reader = reader_of(raw)
    assert (await read_response(reader)).body == b"Wikipedia"
    assert (await read_response(reader)).body == b"!"


async def test_a_closed_connection_is_a_reset_and_garbage_is_an_error():
    with pytest.raises(ConnectionResetError):
        await read_response(reader_of(b""))
    with pytest.raises(HttpError):
        await read_response(reader_of(b"SSH-2.0-OpenSSH\r\n\r\n"))


def test_parse_rss():
    status = "Name:\tpython\nVmPeak:\t  300000 kB\nVmRSS:\t  122880 kB\nThreads:\t3\n"
    assert parse_rss_mib(status) == 120.0
    assert parse_rss_mib("Name:\tkthreadd\n") is None


def test_parse_cpu_counts_fields_after_the_command_even_with_spaces_in_it():
    fields = ["S", *["0"] * 10, str(3 * CLOCK_TICKS), str(CLOCK_TICKS), *["0"] * 30]
    stat = "4242 (python -m (odd) name) " + " ".join(fields)
    assert parse_cpu_seconds(stat) == 4.0


def test_this_process_has_memory_and_cpu_time_and_a_gone_one_has_none():
    assert (rss_mib(os.getpid()) or 0) > 1
    assert (cpu_seconds(os.getpid()) or 0) > 0
    assert rss_mib(None) is None and cpu_seconds(None) is None
    assert rss_mib(2**22 + 12345) is None
