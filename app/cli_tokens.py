"""``a6ledger tokens create|revoke|list``: API token management against A6LEDGER_DATABASE_URL.

``create`` prints the token on standard output, once; it is stored only as a hash and cannot be
shown again. Creation and revocation are recorded in the ledger with the actor ``cli``.
"""

from __future__ import annotations

import argparse
import sys

from ledger.access import Role
from ledger.errors import LedgerError

CLI_ACTOR = "cli"


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _tokens_create(args: argparse.Namespace) -> int:
    from app.settings import command_database_url, get_settings
    from ledger.access import create_token
    from ledger.adapters.checkpoint_state import FileCheckpointState
    from ledger.adapters.sql.uow import SqlStorage

    settings = get_settings()
    storage = SqlStorage.open(
        command_database_url(),
        signed_elsewhere=FileCheckpointState(settings.checkpoint_state_path),
    )
    try:
        principal, token = create_token(
            storage, args.name, args.role, args.registry, actor=CLI_ACTOR
        )
    except LedgerError as exc:
        _err(f"error: {exc.message}")
        return 1
    finally:
        storage.dispose()
    bound = f" for registry {principal.registry_id}" if principal.registry_id else ""
    _err(
        f"created {principal.token_id} (role {principal.role.value}{bound}); "
        "the token below is shown only this once:"
    )
    _out(token)
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from app.settings import command_database_url
    from ledger.access import revoke_token
    from ledger.adapters.sql.uow import SqlStorage

    storage = SqlStorage.open(command_database_url())
    try:
        info = revoke_token(storage, args.token_id, actor=CLI_ACTOR)
    except LedgerError as exc:
        _err(f"error: {exc.message}")
        return 1
    finally:
        storage.dispose()
    _out(f"revoked {info.token_id}")
    return 0


def _tokens_list(_args: argparse.Namespace) -> int:
    from app.settings import command_database_url
    from ledger.access import list_tokens
    from ledger.adapters.sql.uow import SqlStorage

    storage = SqlStorage.open(command_database_url())
    try:
        tokens = list_tokens(storage)
    finally:
        storage.dispose()
    _out("TOKEN_ID\tROLE\tREGISTRY\tSTATUS\tCREATED\tNAME")
    for token in tokens:
        status = "revoked" if token.revoked else "active"
        _out(
            f"{token.token_id}\t{token.role.value}\t{token.registry_id or '-'}\t{status}\t"
            f"{token.created_at.isoformat()}\t{token.name}"
        )
    return 0


def add_token_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``tokens create|revoke|list`` to the ``a6ledger`` command line."""
    tokens = subparsers.add_parser("tokens", help="API bearer tokens").add_subparsers(
        dest="tokens", required=True
    )
    create = tokens.add_parser("create", help="issue a token and print it (only this once)")
    create.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role],
        help='what the token may do (README, "Who may do what")',
    )
    create.add_argument("--registry", help="registry id such as JPN01 (registry tokens only)")
    create.add_argument("--name", required=True, help="who or what holds the token")
    create.set_defaults(func=_tokens_create)

    revoke = tokens.add_parser("revoke", help="revoke a token; it stops working at once")
    revoke.add_argument("token_id", help="token id (tok_...)")
    revoke.set_defaults(func=_tokens_revoke)

    tokens.add_parser("list", help="list tokens (never their secrets)").set_defaults(
        func=_tokens_list
    )
