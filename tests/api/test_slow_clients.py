"""Slow and numerous clients against a real server: slowloris connections are closed within a
bound, connections beyond the cap get a 503 problem, stalled bodies neither stay open nor hold
memory, and repeated bad tokens get 429 problems.

Before the fix, 300 slowloris connections stayed open 45 s (and longer) and 50 stalled 1 MB
bodies grew the server's memory by 50 MB. The server here runs with short limits (5 s to send
the headers, 2 s to send a body, 50 connections, 4 bodies in flight) so that the test is quick;
traffic goes to 127.0.0.1 only and every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.api.live_server import HOST, LiveServer, live_server, settings_env

HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 2.0
MAX_CONNECTIONS = 50
BODIES_IN_FLIGHT = 4
CLOSE_BOUND = 15.0
"""Seconds within which the server closes a connection that a limit applies to (the limits are
5 s for headers and 2 s for bodies; the rest is slack for a loaded 2-core CI machine)."""


@pytest.fixture
def server(app_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    env = settings_env(
        app_settings,
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        max_connections=MAX_CONNECTIONS,
        max_bodies_in_flight=BODIES_IN_FLIGHT,
        auth_failure_limit=5,
    )
    with live_server(env, tmp_path) as running:
        yield running


async def _read_until_closed(reader: asyncio.StreamReader, bound: float) -> bytes:
    """What the server sent before it closed the connection (fails after ``bound`` s)."""
    received = b""
    async with asyncio.timeout(bound):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionError:  # reset, or a broken pipe seen while reading
                return received
            if not chunk:
                return received
            received += chunk


async def _slowloris(server: LiveServer, trickle: asyncio.Event) -> tuple[bytes, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: a6ledger\r\n")

    async def drip() -> None:
        for n in range(100):
            if trickle.is_set() or writer.is_closing():
                return
            try:
                writer.write(f"X-Slow-{n}: a\r\n".encode())
            except OSError:  # closed by the server
                return
            await asyncio.sleep(0.5)

    dripping = asyncio.create_task(drip())
    try:
        received = await _read_until_closed(reader, CLOSE_BOUND)
    finally:
        dripping.cancel()
        writer.close()
    return received, time.perf_counter() - started


async def _slowloris_attack(server: LiveServer) -> list[tuple[bytes, float]]:
    stop = asyncio.Event()
    try:
        return await asyncio.gather(*(_slowloris(server, stop) for _ in range(300)))
    finally:
        stop.set()


def test_slowloris_connections_are_closed_and_those_beyond_the_cap_get_503(
    server: LiveServer,
) -> None:
    results = asyncio.run(_slowloris_attack(server))
    assert max(elapsed for _, elapsed in results) < CLOSE_BOUND
    refused = [received for received, _ in results if received.startswith(b"HTTP/1.1 503")]
    # How many connections show their 503 is not a bound the test can state: the server closes a
    # refused connection while the client is still dripping headers into it, so the client may
    # see a reset before it reads the answer (counted here as a silent close). What always
    # holds: the cap refused some, every answer given is the problem, and nothing stays open.
    assert refused, "no connection beyond the cap was refused"
    assert b"application/problem+json" in refused[0]
    assert b"retry-after: 1" in refused[0]
    assert b"urn:a6ledger:problem:service-unavailable" in refused[0]
    # The others are closed without an answer; the server answers again at once.
    assert all(received == b"" for received, _ in results if received not in refused)
    assert httpx.get(server.base_url + "/healthz", timeout=5).status_code == 200


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


async def _stalled_body(server: LiveServer) -> tuple[bytes, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, server.port)
    writer.write(
        b"POST /v1/parties HTTP/1.1\r\nHost: a6ledger\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n" + b'{"name": "' + b"x" * 900_000
    )
    try:
        await writer.drain()
        received = await _read_until_closed(reader, CLOSE_BOUND + 5)
    finally:
        writer.close()
    return received, time.perf_counter() - started


async def _stall_bodies(server: LiveServer) -> tuple[list[tuple[bytes, float]], int]:
    attack = asyncio.gather(*(_stalled_body(server) for _ in range(50)))
    await asyncio.sleep(BODY_TIMEOUT * 0.75)
    during = _rss_kib(server.pid())
    return await attack, during


def test_stalled_bodies_are_cut_off_and_do_not_hold_memory(server: LiveServer) -> None:
    httpx.get(server.base_url + "/v1/parties", timeout=5)
    before = _rss_kib(server.pid())
    results, during = asyncio.run(_stall_bodies(server))
    assert during - before < 20_000, f"RSS grew by {(during - before) // 1024} MiB"
    statuses = sorted({received.split(b" ", 2)[1] for received, _ in results})
    assert statuses <= [b"408", b"503"], statuses
    assert all(b"application/problem+json" in received for received, _ in results)
    assert any(b"urn:a6ledger:problem:request-timeout" in received for received, _ in results)
    assert max(elapsed for _, elapsed in results) < CLOSE_BOUND + 5


def test_repeated_bad_tokens_get_429_problems(server: LiveServer) -> None:
    bad = {"Authorization": "Bearer a6l_tok_aaaaaaaaaaaa_" + "B" * 43}
    transport = httpx.HTTPTransport(local_address="127.0.4.1")
    with httpx.Client(base_url=server.base_url, transport=transport, timeout=10) as client:
        statuses = [client.get("/v1/parties", headers=bad).status_code for _ in range(8)]
        refused = client.get("/v1/parties", headers=bad)
    assert statuses == [401] * 5 + [429] * 3
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["type"] == "urn:a6ledger:problem:too-many-requests"
    # Another address is not affected.
    assert httpx.get(server.base_url + "/v1/parties", headers=bad).status_code == 401
