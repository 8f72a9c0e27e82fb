"""``a6ledger consistency-check``: the secretariat's checks, run locally before submission;
``a6ledger aef-submit``: the submission itself, as the service records it.

The Party's AEF is built from this ledger; the counterpart's comes from a file (JSON, a ZIP of
CSVs, or the workbook) or from another a6ledger (``--counterpart-url``). Exit status: 0 no
inconsistencies, 1 inconsistencies identified, 2 counterpart information not available or the
command could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.accounting import aef, consistency, cycle, reporting
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.adapters.aef_files import AefFormat

# The server stack (settings, SQLAlchemy, httpx, openpyxl) is imported when the command runs, so
# that the verifier commands of the same CLI run without it (README, "For auditors").


def _aef_format(text: str) -> AefFormat:
    from ledger.adapters.aef_files import AefFormat

    try:
        return AefFormat(text)
    except ValueError:
        choices = ", ".join(f.value for f in AefFormat)
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {choices}") from None


def _counterpart(args: argparse.Namespace) -> aef.AefReport | None:
    from ledger.adapters import aef_files
    from ledger.adapters.counterpart import fetch_counterpart_aef

    if args.counterpart_url:
        token = args.counterpart_token or os.environ.get("A6LEDGER_COUNTERPART_TOKEN")
        return fetch_counterpart_aef(args.counterpart_url, token)
    if args.counterpart_file:
        path = Path(args.counterpart_file)
        by_suffix = {".json": "json", ".zip": "csv", ".xlsx": "xlsx"}
        fmt = aef_files.AefFormat(args.format or by_suffix.get(path.suffix.lower(), "json"))
        return aef_files.import_aef(path.read_bytes(), fmt)
    return None


def _consistency_check(args: argparse.Namespace) -> int:
    from app.settings import command_database_url
    from ledger.adapters.sql.uow import SqlStorage

    try:
        counterpart = _counterpart(args)
    except LedgerError as exc:
        print(f"counterpart: {exc.message}", file=sys.stderr)
        return 2
    storage = SqlStorage.open(command_database_url())
    try:
        with storage.unit_of_work(write=args.record) as uow:
            own = reporting.aef_report_for(uow, args.party, args.year, args.version)
            result = consistency.check_against_counterpart(
                own, counterpart, date_tolerance=timedelta(days=args.tolerance_days)
            )
            if args.record:
                recorded = consistency.record_findings(uow, result, "cli:consistency-check")
                uow.commit()
                print(f"recorded as ledger entry {recorded.seq}; {len(recorded.flagged)} blocks")
    except LedgerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        storage.dispose()
    print(f"{args.party} {args.year}: {result.notation.value}")
    for finding in result.findings:
        rows = ", ".join(str(r) for r in finding.rows)
        column = f" [{finding.column}]" if finding.column else ""
        print(f"- {finding.kind.value}{column}: {finding.reason} ({rows})")
    if result.notation is consistency.Notation.NO_INCONSISTENCIES:
        return 0
    return 1 if result.notation is consistency.Notation.INCONSISTENCIES else 2


def _aef_submit(args: argparse.Namespace) -> int:
    """Submit the Party's AEF for the year (``cycle.submit``: refused without the initial
    reports, 4/CMA.6 paras 26-27). A refusal prints its problem+json on stderr, exit status 1;
    nothing is recorded."""
    from app.problems import ledger_problem_body
    from app.settings import command_database_url
    from ledger.adapters.sql.uow import SqlStorage

    storage = SqlStorage.open(command_database_url())
    try:
        with storage.unit_of_work(write=True) as uow:
            version = cycle.submit(uow, args.party, args.year, f"cli:{args.actor}")
            uow.commit()
    except LedgerError as exc:
        instance = f"/v1/parties/{args.party}/aef/{args.year}/submissions"
        print(json.dumps(ledger_problem_body(exc, instance), indent=2), file=sys.stderr)
        return 1
    finally:
        storage.dispose()
    print(f"{args.party} {args.year}: submitted version {version}")
    return 0


def add_consistency_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    check = subparsers.add_parser(
        "consistency-check", help="check a Party's AEF against a counterpart's before submission"
    )
    check.add_argument("--party", required=True, help="the Party whose AEF is checked (JPN)")
    check.add_argument("--year", type=int, required=True, help="reported year")
    check.add_argument("--version", help="a submitted version (default: the current draft)")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--counterpart-url", help="AEF endpoint of the counterpart's a6ledger")
    source.add_argument("--counterpart-file", help="the counterpart's AEF (json, zip of csv, xlsx)")
    check.add_argument(
        "--counterpart-token",
        help="bearer token for --counterpart-url (better: A6LEDGER_COUNTERPART_TOKEN, which "
        "does not show in the process list)",
    )
    check.add_argument("--format", type=_aef_format, help="json, csv or xlsx (default: by suffix)")
    check.add_argument(
        "--tolerance-days",
        type=int,
        default=1,
        help="days two action dates may differ and still match (default 1)",
    )
    check.add_argument(
        "--record", action="store_true", help="record the findings and flag the blocks"
    )
    check.set_defaults(func=_consistency_check)

    submit = subparsers.add_parser(
        "aef-submit",
        help="submit a Party's AEF for a reported year (refused without its initial reports)",
    )
    submit.add_argument("--party", required=True, help="the submitting Party (JPN)")
    submit.add_argument("--year", type=int, required=True, help="reported year")
    submit.add_argument("--actor", default="aef-submit", help="recorded as cli:<actor>")
    submit.set_defaults(func=_aef_submit)
