"""``a6ledger import FILE``: load an existing registry's history into A6LEDGER_DATABASE_URL.

FILE is a JSON Lines file of dated actions (``.jsonl``) or a Party's AEF (``.xlsx``, a ``.zip`` of
CSVs, ``.json``, or Table 3 alone as ``.csv`` with ``--party``); see the README, "Loading
history". Rows are applied in action-date order, in batches of ``--batch-size`` rows (default
A6LEDGER_IMPORT_BATCH_SIZE), each batch atomic and recorded in the ledger, so the same command
run again after an interruption continues where it stopped. ``--dry-run`` reports every row that
would be refused and appends nothing. Progress goes to standard error: a bar on a terminal,
plain lines otherwise; the summary goes to standard output.

Exit status: 0 imported (or, with ``--dry-run``, no row would be refused); 1 rows refused; 2 the
file could not be read or the import could not run; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ledger.errors import LedgerError
from ledger.imports import (
    ImportFileUnreadable,
    ImportPlan,
    ImportReport,
    ImportRowRefused,
    ProgressEvent,
    Refusal,
    run_import,
)

# The server stack (settings, pydantic, SQLAlchemy, openpyxl) is imported when the command runs,
# so that the verifier commands of the same CLI run without it (README, "For auditors").

FORMATS = ("jsonl", "aef-xlsx", "aef-csv-zip", "aef-json", "aef-table3-csv")
"""The values of ``ledger.adapters.import_files.ImportFormat``, for ``--format``."""
IMPORT_ACTOR = "cli:import"
"""The actor of the entries an import from the command line appends."""
BAR_WIDTH = 30


class ProgressDisplay:
    """Progress on ``stream``: a bar redrawn in place on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, *, dry_run: bool) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.verb = "checked" if dry_run else "imported"
        self.drawn = False

    def __call__(self, event: ProgressEvent) -> None:
        if self.tty:
            filled = BAR_WIDTH * event.done // max(event.total, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {event.done}/{event.total} rows {self.verb}")
            self.drawn = True
            if event.done >= event.total:
                self.close()
        else:
            batch = event.batch
            where = (
                ""
                if batch is None
                else f" (rows {batch.first_row}-{batch.last_row} committed, entry {batch.seq})"
            )
            self.stream.write(f"import: {event.done}/{event.total} rows {self.verb}{where}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def describe(refusal: Refusal, plan_source: str) -> str:
    where = "line" if plan_source == "jsonl" else "Table 3 row"
    return f"{where} {refusal.row} ({refusal.action}): {refusal.rule}: {refusal.detail}"


def _summary(plan: ImportPlan, report: ImportReport) -> None:
    unreadable = f", {len(plan.unreadable)} unreadable" if plan.unreadable else ""
    _out(f"file sha256 {plan.file_sha256} ({plan.source}): {report.rows_total} rows{unreadable}")
    if report.dry_run:
        _out(
            f"dry run: {report.applied} rows accepted, {len(report.refusals)} refused, "
            f"{report.already_imported} already imported; nothing was appended"
        )
        for refusal in report.refusals:
            _out(describe(refusal, plan.source))
        return
    batches = ", ".join(str(b.seq) for b in report.batches) or "none"
    _out(
        f"imported {report.applied} rows in {len(report.batches)} batches (batch entries "
        f"{batches}); {report.already_imported} rows were imported before; tree size "
        f"{report.tree_size}"
    )


def _import(args: argparse.Namespace) -> int:
    from app.imports import plan_file
    from app.settings import command_database_url, get_settings
    from ledger.adapters.checkpoint_state import FileCheckpointState
    from ledger.adapters.import_files import ImportFormat
    from ledger.adapters.sql.uow import SqlStorage

    settings = get_settings()
    path = Path(args.file)
    try:
        fmt = ImportFormat(args.format) if args.format else ImportFormat.of_file(path.name)
        data = path.read_bytes()
        plan = plan_file(
            data,
            fmt,
            party=args.party,
            end_of_period_btr_after=settings.end_of_period_btr_after,
        )
    except OSError as exc:
        _err(f"error: cannot read {path}: {exc.strerror}")
        return 2
    except LedgerError as exc:
        _err(f"error: {exc.message}")
        return 2
    display = ProgressDisplay(sys.stderr, dry_run=args.dry_run)
    storage = SqlStorage.open(
        command_database_url(),
        signed_elsewhere=FileCheckpointState(settings.checkpoint_state_path),
    )
    try:
        report = run_import(
            storage,
            plan,
            IMPORT_ACTOR,
            batch_size=args.batch_size or settings.import_batch_size,
            dry_run=args.dry_run,
            progress=display,
        )
    except ImportFileUnreadable as exc:
        display.close()
        _err(f"error: {len(exc.refusals)} rows cannot be read; nothing was imported")
        for refusal in exc.refusals:
            _err(describe(refusal, plan.source))
        return 2
    except ImportRowRefused as exc:
        display.close()
        _err(f"refused: {describe(exc.refusal, plan.source)}")
        _err(
            f"{exc.imported_rows} of {len(plan.rows)} rows are imported; the batch holding the "
            "refused row was rolled back"
        )
        return 1
    except LedgerError as exc:
        display.close()
        _err(f"error: {exc.message}")
        return 2
    except KeyboardInterrupt:
        display.close()
        _err(
            "interrupted: the batch under way was rolled back; the same command continues "
            "after the last committed batch"
        )
        return 130
    finally:
        storage.dispose()
    display.close()
    _summary(plan, report)
    return 1 if report.refusals else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of rows")
    return value


def add_import_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = subparsers.add_parser(
        "import",
        help="load a registry's history: JSON Lines of dated actions, or a Party's AEF Table 3",
    )
    command.add_argument("file", help="the file (.jsonl, or an AEF: .xlsx, .zip, .json, .csv)")
    command.add_argument(
        "--format",
        choices=FORMATS,
        help="the file's format (default: from its suffix)",
    )
    command.add_argument(
        "--party", help="the Party whose AEF Table 3 this is (for Table 3 alone as CSV)"
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="report every row that would be refused; append nothing",
    )
    command.add_argument(
        "--batch-size",
        type=_positive,
        metavar="N",
        help="rows per batch, one transaction each (default: A6LEDGER_IMPORT_BATCH_SIZE)",
    )
    command.set_defaults(func=_import)
