"""``a6ledger`` command line: serve, migrate, keys, verify-db, openapi, and the command groups
of ``app/cli_*.py`` (tokens, consistency-check, export, proof, import, witness, reconcile).

The server stack (settings, FastAPI, SQLAlchemy, uvicorn) is imported by the commands that use
it, never at import time: ``verify-export`` and ``verify-proof`` run with the package installed
without its dependencies plus ``cryptography`` and ``rfc8785`` (README, "For auditors").
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

from app import __version__
from app.cli_consistency import add_consistency_commands
from app.cli_export import add_export_commands
from app.cli_import import add_import_commands
from app.cli_proof import add_proof_commands
from app.cli_reconcile import add_reconcile_commands
from app.cli_tokens import add_token_commands
from app.cli_witness import add_witness_commands

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


WORKER_HEALTHCHECK_SECONDS = 60


def _serve(args: argparse.Namespace) -> int:
    """Start the HTTP service: in development (``auto_setup``) after applying the migrations
    once and creating the signer key, otherwise only with a usable configuration, signer key
    and a database at head (:func:`app.main.startup_refusals`: one line each, exit 1)."""
    import uvicorn

    from app.keys import load_signer
    from app.logs import configure_logging
    from app.main import create_app, startup_refusals
    from app.metrics import start_multiprocess_metrics
    from app.server import uvicorn_options
    from app.settings import get_settings
    from ledger.adapters.sql.migrations import upgrade_to_head

    settings = get_settings()
    refusals = startup_refusals(settings)
    for refusal in refusals:
        print(f"a6ledger: refusing to start: {refusal}", file=sys.stderr)
    if refusals:
        return 1
    configure_logging()
    if settings.sets_itself_up:
        # Before the workers start: they then find the database at head and the key in place
        # (and several serve processes take turns, under the migration lock).
        upgrade_to_head(settings.database_url)
        load_signer(settings.signer_key_path, settings.log_origin, create=True)
    options = uvicorn_options(settings) | {"host": args.host, "port": args.port}
    if args.workers > 1:
        # /metrics merges the workers' values: a folder of this server's, emptied now.
        start_multiprocess_metrics(settings.data_dir / "metrics" / f"port-{args.port}")
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            workers=args.workers,
            # uvicorn kills (and restarts) a worker that does not answer its supervisor within
            # this many seconds; the default 5 s is shorter than a worker's start on a busy
            # host, which then never comes up (every child "died" in a loop).
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from app.logs import configure_logging
    from app.settings import command_database_url
    from ledger.adapters.sql.migrations import pending_revisions, upgrade_to_head

    database_url = command_database_url()
    configure_logging()
    _, pending = pending_revisions(database_url)
    upgrade_to_head(database_url)
    applied = f"applied {', '.join(pending)}; " if pending else ""
    print(f"{applied}database is at the latest migration")
    return 0


def _keys_generate(args: argparse.Namespace) -> int:
    from app.keys import write_signer_key
    from app.settings import get_settings

    settings = get_settings()
    path = Path(args.out) if args.out else settings.signer_key_path
    name = args.name or settings.log_origin
    try:
        vkey = write_signer_key(path, name)
    except FileExistsError:
        print(f"refusing to overwrite existing key file {path}", file=sys.stderr)
        return 1
    print(vkey)
    return 0


def _keys_show(_args: argparse.Namespace) -> int:
    from app.keys import SignerKeyUnusable, load_signer
    from app.settings import get_settings

    settings = get_settings()
    try:
        signer = load_signer(settings.signer_key_path, settings.log_origin, create=False)
    except SignerKeyUnusable as exc:
        print(f"a6ledger: {exc}", file=sys.stderr)
        return 1
    print(signer.vkey)
    return 0


def _verify_db(_args: argparse.Namespace) -> int:
    from app.progress import progress_bar
    from app.settings import command_database_url
    from ledger.adapters.sql.db import create_ledger_engine
    from ledger.adapters.sql.uow import SqlStorage
    from ledger.adapters.sql.verify import verify_database

    engine = create_ledger_engine(command_database_url())
    try:
        with SqlStorage(engine).unit_of_work(write=False) as uow:
            size = uow.log.size()
        with progress_bar("verify-db", size) as advance:
            report = verify_database(engine, advance)
    finally:
        engine.dispose()
    if report.ok:
        root = base64.b64encode(report.root_hash).decode("ascii")
        print(
            f"OK: {report.tree_size} entries verified, root {root} (base64, as in the "
            "checkpoints); the projection equals a replay of the log through the registry rules"
        )
        return 0
    if report.bad_row is not None:
        print(f"FAIL: projection row {report.bad_row} differs from the ledger: {report.reason}")
    else:
        print(f"FAIL at seq {report.first_bad_seq}: {report.reason}")
    return 1


def _demo(_args: argparse.Namespace) -> int:
    from app.progress import progress_bar
    from app.settings import command_database_url, get_settings
    from ledger.adapters.checkpoint_state import FileCheckpointState
    from ledger.adapters.sql.migrations import upgrade_to_head
    from ledger.adapters.sql.uow import SqlStorage
    from ledger.demo import load_demo

    settings = get_settings()
    database_url = command_database_url()
    with progress_bar("demo", 3, unit=" steps") as advance:
        upgrade_to_head(database_url)
        advance(1)
        storage = SqlStorage.open(
            database_url, signed_elsewhere=FileCheckpointState(settings.checkpoint_state_path)
        )
        try:
            with storage.unit_of_work(write=True) as uow:
                if uow.log.size() and uow.projection.get_party("JPN") is not None:
                    print("the demo scenario needs a fresh database: this one already has Parties")
                    return 1
                load_demo(uow)
                advance(1)
                size = uow.log.size()
                uow.commit()
                advance(1)
        finally:
            storage.dispose()
    print(f"loaded the JCM demo scenario: {size} ledger entries")
    return 0


def render_openapi() -> str:
    from app.main import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


def _openapi(args: argparse.Namespace) -> int:
    text = render_openapi()
    if args.check:
        if not OPENAPI_PATH.exists() or OPENAPI_PATH.read_text(encoding="utf-8") != text:
            print(f"{OPENAPI_PATH} is out of date: run `a6ledger openapi`", file=sys.stderr)
            return 1
        print("openapi/openapi.json is up to date")
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="a6ledger", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)

    keys = sub.add_parser("keys", help="log signer keys").add_subparsers(dest="keys", required=True)
    generate = keys.add_parser("generate", help="write a new Ed25519 signer key (0600)")
    generate.add_argument("--out", help="key file (default: A6LEDGER_SIGNER_KEY_PATH)")
    generate.add_argument("--name", help="key name (default: A6LEDGER_LOG_ORIGIN)")
    generate.set_defaults(func=_keys_generate)
    keys.add_parser("show", help="print the verifier key").set_defaults(func=_keys_show)

    sub.add_parser(
        "verify-db",
        help="re-derive every hash, link and Merkle node from storage, and the projection from "
        "a replay of the log that re-checks every rule",
    ).set_defaults(func=_verify_db)

    sub.add_parser(
        "demo", help="load a realistic multi-Party JCM scenario into a fresh database"
    ).set_defaults(func=_demo)

    openapi = sub.add_parser("openapi", help="write openapi/openapi.json from the app")
    openapi.add_argument("--check", action="store_true", help="fail if the file is out of date")
    openapi.set_defaults(func=_openapi)

    add_token_commands(sub)
    add_consistency_commands(sub)
    add_export_commands(sub)
    add_proof_commands(sub)
    add_import_commands(sub)
    add_witness_commands(sub)
    add_reconcile_commands(sub)
    return parser


def _configuration_error(exc: Exception) -> str | None:
    """The one line for settings that do not validate, if ``exc`` is that (pydantic is loaded
    only by the commands that read the settings: the verifier commands run without it)."""
    if "app.settings" not in sys.modules:
        return None
    from pydantic import ValidationError

    from app.settings import describe_settings_error

    return describe_settings_error(exc) if isinstance(exc, ValidationError) else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except Exception as exc:
        line = _configuration_error(exc)
        if line is None:
            raise
        print(f"a6ledger: {line}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
