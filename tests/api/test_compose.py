"""The compose stack, where no container engine runs: compose.yaml is read (PyYAML) and the
processes it declares are started directly, with the commands and environment it declares
(and the image's, from the Dockerfile), against the test PostgreSQL server: the migration job
on an empty database, then the two API replicas. Both answer ``/readyz``, and the checkpoints
they serve verify with the log's key and are consistent (an RFC 9162 consistency proof between
them verifies).

What a container engine would provide is mapped onto this machine, and only that:

- the compose network's ``postgres`` service is the test PostgreSQL server (same driver; the
  declared user, password and database name are those of the compose file's own server);
- container paths under a service's mounts (its named volumes, its secrets at
  ``/run/secrets/<name>``, the image's anonymous ``VOLUME``) are folders of the test;
- each container has its own network namespace, so each replica listens on a free port of
  127.0.0.1 instead of 0.0.0.0:8000;
- ``${VAR}``, ``${VAR:?message}`` and ``${VAR:-default}`` are interpolated as compose does.

The reverse proxy (nginx) is not started: it only forwards to the replicas.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed; only safe_load is used
from sqlalchemy import make_url

from app.keys import write_signer_key
from ledger.access import create_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.log import merkle, note
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from tests.api.live_server import HOST, PROJECT_ROOT, LiveServer, free_port, stop, wait_until_up
from tests.conftest import DatabaseFactory

ORIGIN = "registry.example/log"
TIMEOUT = 30.0
REPLICAS = ("api-1", "api-2")


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("compose.yaml runs the replicas on PostgreSQL")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:?message}`` and ``${VAR:-default}``."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise AssertionError(f"compose.yaml needs {name}: {argument}")
        return argument if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:\?|:-)([^}]*))?\}", one, value)


@dataclass(frozen=True)
class Image:
    """What the Dockerfile gives every container of the image: its ENV, VOLUMEs and CMD."""

    environment: dict[str, str]
    volumes: tuple[str, ...]
    command: tuple[str, ...]

    @classmethod
    def read(cls, dockerfile: Path) -> Image:
        # Instructions, with their continuation lines joined (the Dockerfile's own syntax).
        text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
        instructions = [line.strip().split(None, 1) for line in text.splitlines()]
        runtime = [i for i in instructions if len(i) == 2 and not i[0].startswith("#")]
        # The final stage's instructions (after its FROM).
        last_from = max(n for n, (word, _) in enumerate(runtime) if word == "FROM")
        stage = runtime[last_from:]
        environment: dict[str, str] = {}
        for word, rest in stage:
            if word == "ENV":
                for pair in shlex.split(rest):
                    key, value = pair.split("=", 1)
                    environment[key] = value
        volumes = tuple(v for word, rest in stage if word == "VOLUME" for v in json.loads(rest))
        (command,) = [json.loads(rest) for word, rest in stage if word == "CMD"]
        return cls(environment, volumes, tuple(command))


@dataclass(frozen=True)
class Container:
    """One service as it would run: its command and environment, container paths mapped."""

    name: str
    command: tuple[str, ...]
    environment: dict[str, str]


def containers(tmp_path: Path, database_url: str) -> dict[str, Container]:
    compose: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    image = Image.read(PROJECT_ROOT / "Dockerfile")
    variables = {"POSTGRES_PASSWORD": "not-used-here", "A6LEDGER_LOG_ORIGIN": ORIGIN}
    secrets = {
        name: tmp_path / Path(str(spec["file"])).relative_to(".")
        for name, spec in compose["secrets"].items()
    }
    declared: dict[str, Container] = {}
    for name, service in compose["services"].items():
        if str(service.get("image", "")).split(":")[0] != "a6ledger":
            continue  # postgres (the test server) and the proxy
        mounts = {
            f"/run/secrets/{secret}": secrets[secret] for secret in service.get("secrets", [])
        }
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            mounts[target] = tmp_path / "volumes" / source
        for target in image.volumes:
            mounts.setdefault(target, tmp_path / "volumes" / f"{name}-anonymous")
        for target, folder in mounts.items():
            is_secret = target.startswith("/run/secrets/")
            (folder.parent if is_secret else folder).mkdir(parents=True, exist_ok=True)

        def mapped(value: str, mounts: dict[str, Path] = mounts) -> str:
            for target in sorted(mounts, key=len, reverse=True):
                if value == target or value.startswith(target + "/"):
                    return str(mounts[target]) + value[len(target) :]
            return value

        environment = dict(image.environment)
        for key, value in (service.get("environment") or {}).items():
            environment[key] = interpolate(str(value), variables)
        url = environment["A6LEDGER_DATABASE_URL"]
        assert make_url(url).drivername == make_url(database_url).drivername
        assert make_url(url).host == "postgres"
        environment["A6LEDGER_DATABASE_URL"] = database_url
        environment = {key: mapped(value) for key, value in environment.items()}
        command = tuple(service.get("command") or image.command)
        declared[name] = Container(name, command, environment)
    return declared


def process_env(container: Container) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("A6LEDGER_")}
    return base | container.environment


def local_command(command: tuple[str, ...], port: int | None = None) -> list[str]:
    """The container's command on this machine: the installed ``a6ledger``, and, for a
    server, 127.0.0.1 and its own port instead of 0.0.0.0:8000."""
    assert command[0] == "a6ledger"
    args = list(command[1:])
    if port is not None:
        args[args.index("--host") + 1] = HOST
        args[args.index("--port") + 1] = str(port)
    return [sys.executable, "-m", "app.cli", *args]


@pytest.fixture
def stack_database(database_factory: DatabaseFactory) -> Iterator[str]:
    url = database_factory.empty_url()
    yield url
    database_factory.drop(url)


def test_the_compose_processes_migrate_then_serve_consistent_checkpoints(
    stack_database: str, tmp_path: Path
) -> None:
    declared = containers(tmp_path, stack_database)
    assert set(declared) == {"migrate", *REPLICAS}
    # The key, as the compose file's comment makes it, where its secret points.
    key_path = Path(declared["api-1"].environment["A6LEDGER_SIGNER_KEY_PATH"])
    vkey = write_signer_key(key_path, ORIGIN)
    key_path.chmod(0o444)

    migrate = declared["migrate"]
    job = subprocess.run(
        local_command(migrate.command),
        env=process_env(migrate),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert job.returncode == 0, job.stderr
    assert "database is at the latest migration" in job.stdout

    servers: list[LiveServer] = []
    try:
        for name in REPLICAS:
            replica = declared[name]
            assert replica.environment["A6LEDGER_ENVIRONMENT"] == "production"
            port = free_port()
            log_path = tmp_path / f"{name}.log"
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    local_command(replica.command, port),
                    env=process_env(replica),
                    cwd=PROJECT_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            servers.append(LiveServer(process, port, log_path))
        for server in servers:
            wait_until_up(server)
            ready = httpx.get(server.base_url + "/readyz", timeout=TIMEOUT)
            assert ready.status_code == 200, ready.text

        storage = SqlStorage.open(stack_database)
        try:
            create_token(storage, "first", "auditor", actor="test")
            first = checkpoint_of(servers[0], vkey)
            create_token(storage, "second", "auditor", actor="test")
        finally:
            storage.dispose()
        second = checkpoint_of(servers[1], vkey)
        assert first.size < second.size
        assert checkpoint_of(servers[0], vkey) == second
        proof = httpx.get(
            servers[1].base_url + "/v1/log/proofs/consistency",
            params={"first": first.size, "second": second.size},
            timeout=TIMEOUT,
        )
        assert proof.status_code == 200, proof.text
        hashes = [base64.b64decode(h, validate=True) for h in proof.json()["consistency"]]
        merkle.verify_consistency(
            first.size, second.size, hashes, first.root_hash, second.root_hash
        )
        # Each replica kept the largest tree it signed in its own volume.
        for name in REPLICAS:
            state = Path(declared[name].environment["A6LEDGER_CHECKPOINT_STATE_PATH"])
            assert state.parent == tmp_path / "volumes" / f"{name}-state"
            assert state.exists()
    finally:
        for server in servers:
            stop(server.process)


def checkpoint_of(server: LiveServer, vkey: str) -> Checkpoint:
    """The replica's checkpoint, verified with the log's key as the operator published it."""
    response = httpx.get(server.base_url + "/v1/log/checkpoint", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    checkpoint, _ = open_checkpoint(response.text, [note.Verifier(vkey)])
    assert checkpoint.origin == ORIGIN
    return checkpoint
