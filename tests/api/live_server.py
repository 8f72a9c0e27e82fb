"""A real ``a6ledger serve`` process on a free port of 127.0.0.1, for tests that need real
sockets, uvicorn's protocol and several concurrent clients (load, slow clients, workers).

Every server is bounded: it listens on the loopback interface only, and is stopped (SIGTERM,
then SIGKILL) when its ``with`` block ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.settings import Settings

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def settings_env(settings: Settings, **overrides: object) -> dict[str, str]:
    """``A6LEDGER_*`` variables that reproduce ``settings`` (plus ``overrides``) in a server
    process."""
    env = {
        "A6LEDGER_ENVIRONMENT": settings.environment.value,
        "A6LEDGER_DATABASE_URL": settings.database_url,
        "A6LEDGER_SIGNER_KEY_PATH": str(settings.signer_key_path),
        "A6LEDGER_CHECKPOINT_STATE_PATH": str(settings.checkpoint_state_path),
        "A6LEDGER_LOG_ORIGIN": settings.log_origin,
        "A6LEDGER_AUTO_SETUP": "true" if settings.sets_itself_up else "false",
    }
    env.update({f"A6LEDGER_{name.upper()}": str(value) for name, value in overrides.items()})
    return env


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def pid(self) -> int:
        return self.process.pid


def _server_env(env: Mapping[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("A6LEDGER_")}
    return base | dict(env)


def start_server(
    env: Mapping[str, str], log_path: Path, *, args: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """Start ``a6ledger serve`` with ``env`` (its output in ``log_path``); do not wait."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", *args],
            env=_server_env(env),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(server: LiveServer, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"the server exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer within {timeout} s:\n{server.log()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@contextmanager
def live_server(
    env: Mapping[str, str], tmp_path: Path, *, args: tuple[str, ...] = ()
) -> Iterator[LiveServer]:
    """A started server on a free port; stopped when the block ends."""
    port = free_port()
    log_path = tmp_path / f"server-{port}.log"
    process = start_server(env, log_path, args=("--host", HOST, "--port", str(port), *args))
    server = LiveServer(process, port, log_path)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop(process)
