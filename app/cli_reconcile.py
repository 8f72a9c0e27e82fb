"""``a6ledger reconcile --counterpart URL``: this Party's ledger against a counterpart Party's
instance, its entries verified against its signed (and cosigned) checkpoint
(``ledger.accounting.reconciliation``; the same as ``POST /v1/reconciliations``).

Prints the result as one JSON object. Exit status: 0 the pair matches, 1 a verification failed or
an inconsistency was found, 2 the command could not run (the counterpart unreachable, no key).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from ledger.errors import LedgerError

if TYPE_CHECKING:
    import httpx

    from app.settings import Settings
    from ledger.accounting.reconciliation import Reconciliation
    from ledger.log import note


def reconcile_with(
    settings: Settings,
    client: httpx.Client,
    url: str,
    party: str,
    counterpart_party: str,
    year: int,
    *,
    vkey: str | None = None,
    token: str | None = None,
    witnesses: tuple[note.Verifier, ...] = (),
    required: int = 0,
    tolerance: timedelta = timedelta(days=1),
) -> Reconciliation:
    """Reconcile the ledger of ``settings`` with the instance at ``url`` through ``client``;
    the counterpart's key and token default to its entry in ``A6LEDGER_COUNTERPARTS``."""
    from ledger.accounting.reconciliation import reconcile
    from ledger.adapters.counterpart import HttpCounterpartLog
    from ledger.adapters.sql.uow import SqlStorage
    from ledger.log import note
    from ledger.log.keys import InvalidKey

    configured = next((c for c in settings.counterparts if c.url == url), None)
    vkey = vkey or (configured.vkey if configured else None)
    token = token or (configured.token if configured else None)
    if vkey is None:
        raise InvalidKey(
            f"no log key for {url}: give --counterpart-vkey or configure A6LEDGER_COUNTERPARTS"
        )
    storage = SqlStorage.open(settings.database_url)
    try:
        with storage.unit_of_work(write=False) as uow:
            return reconcile(
                uow,
                party,
                counterpart_party,
                year,
                HttpCounterpartLog(url, client, token),
                [note.Verifier(vkey)],
                witnesses,
                required,
                tolerance,
            )
    finally:
        storage.dispose()


def _reconcile(args: argparse.Namespace) -> int:
    import httpx

    from app.cli_export import read_vkey
    from app.cli_witness import QuorumUnusable, quorum
    from app.settings import get_settings

    try:
        witnesses, required = quorum(args)  # as verify-export: all --witness keys by default
        vkey = read_vkey(args.counterpart_vkey) if args.counterpart_vkey else None
    except (QuorumUnusable, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    token = args.counterpart_token or os.environ.get("A6LEDGER_COUNTERPART_TOKEN")
    try:
        with httpx.Client(timeout=args.timeout) as client:
            result = reconcile_with(
                get_settings(),
                client,
                args.counterpart,
                args.party,
                args.counterpart_party,
                args.year,
                vkey=vkey,
                token=token,
                witnesses=witnesses,
                required=required,
                tolerance=timedelta(days=args.tolerance_days),
            )
    except LedgerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_json(), indent=2, sort_keys=True))
    return 0 if result.matches else 1


def add_reconcile_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reconcile`` to the ``a6ledger`` command line."""
    from app.cli_witness import add_quorum_arguments

    command = subparsers.add_parser(
        "reconcile",
        help="reconcile with a counterpart Party's instance, its entries verified against its "
        "signed checkpoint",
        description="Exit status: 0 the pair matches, 1 a verification failed or an "
        "inconsistency was found, 2 the command could not run.",
    )
    command.add_argument("--counterpart", required=True, help="the counterpart instance's URL")
    command.add_argument("--party", required=True, help="this instance's Party (JPN)")
    command.add_argument("--counterpart-party", required=True, help="the counterpart's Party")
    command.add_argument("--year", type=int, required=True, help="reported year")
    command.add_argument(
        "--counterpart-vkey",
        help="the counterpart log's verifier key, or a file holding it (default: its entry in "
        "A6LEDGER_COUNTERPARTS)",
    )
    command.add_argument(
        "--counterpart-token",
        help="bearer token for its entries (better: A6LEDGER_COUNTERPART_TOKEN)",
    )
    command.add_argument(
        "--tolerance-days",
        type=int,
        default=1,
        help="days two action dates may differ and still match (default 1)",
    )
    command.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    add_quorum_arguments(command)
    command.set_defaults(func=_reconcile)
