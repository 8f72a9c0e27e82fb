"""``a6ledger export`` and ``a6ledger verify-export``: signed exports (format:
``ledger.log.export_format``).

``verify-export`` needs no server and no database: the export file (or the directory it was
unpacked into) and the log's verifier key are enough, and this module imports neither a web
framework nor a database driver until ``export`` runs. It prints ``OK: ...`` and exits 0, or
``FAIL: <file>, entry seq <n>: <reason>`` and exits 1; it exits 2 when the file or the key cannot
be read at all.

``export`` reads the database and the signer key from the settings (``A6LEDGER_*``), signs the
export with the log key and writes it to a new file (it never overwrites one). Before it signs,
it asks the partner witnesses what they cosigned of this log, as the service does
(``app.witness_check``), and refuses with one line naming the witness when one holds a tree the
stored log does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.accounting.party_export_verify import PartyExportReport
from ledger.errors import LedgerError
from ledger.log.encoding import b64encode
from ledger.log.export_format import ExportInvalid
from ledger.log.export_verify import ExportReport

if TYPE_CHECKING:
    from ledger.log import note

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_UNUSABLE = 2


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def read_vkey(value: str) -> str:
    """The verifier key text: ``value`` itself, or the first line of the file it names."""
    path = Path(value)
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        return text.splitlines()[0] if text else text
    return value.strip()


def describe(report: ExportReport | PartyExportReport) -> str:
    if isinstance(report, PartyExportReport):
        return describe_filtered(report)
    root = b64encode(report.root_hash)
    previous = (
        ""
        if report.previous_size is None or report.previous_root_hash is None
        else (
            f"; extends the previous checkpoint of size {report.previous_size}, root "
            f"{b64encode(report.previous_root_hash)}"
        )
    )
    return (
        f"OK: {report.row_count} entries (seq {report.start}..{report.end - 1}, "
        f"{report.first_timestamp} to {report.last_timestamp}) of {report.origin}, each with its "
        f"inclusion proof in the checkpoint of tree size {report.tree_size}, root {root}, "
        f"signed by {report.key_name}+{report.key_id:08x}{previous}; "
        f"{len(report.files)} files match the signed manifest"
    )


def describe_filtered(report: PartyExportReport) -> str:
    root = b64encode(report.root_hash)
    previous = (
        ""
        if report.previous_size is None
        else f"; extends the previous checkpoint of size {report.previous_size}"
    )
    tables = ", ".join(f"{title}: {rows}" for title, rows in report.aef_rows.items())
    return (
        f"OK: {report.row_count} entries of {report.party}'s AEF for {report.year} (seqs "
        f"{report.first_seq}..{report.last_seq}, {report.first_timestamp} to "
        f"{report.last_timestamp}) of {report.origin}, each with its tlog-proof in the "
        f"checkpoint of tree size {report.tree_size}, root {root}, signed by "
        f"{report.key_name}+{report.key_id:08x}{previous}; the AEF tables re-derived from them "
        f"match ({tables} rows); {len(report.files)} files match the signed manifest. A "
        "filtered export does not prove that no other entry concerns the Party: a full export "
        "of the same tree size does"
    )


def _verify_export(args: argparse.Namespace) -> int:
    from app.cli_witness import QuorumUnusable, quorum
    from app.progress import progress_to
    from ledger.adapters.export_files import verify_any_export_file
    from ledger.log.keys import InvalidKey

    path = Path(args.file)
    try:
        witnesses, required = quorum(args)
    except QuorumUnusable as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    try:
        vkey = read_vkey(args.vkey)
        trusted = None
        if args.trusted_checkpoint:
            trusted = Path(args.trusted_checkpoint).read_text(encoding="utf-8")
        with progress_to("verify-export") as reached:
            report = verify_any_export_file(path, vkey, trusted, reached)
    except OSError as exc:
        _err(f"error: cannot read {exc.filename or path}: {exc.strerror or exc}")
        return EXIT_UNUSABLE
    except InvalidKey as exc:
        _err(f"error: --vkey: {exc.message}")
        return EXIT_UNUSABLE
    except ExportInvalid as exc:
        _out(f"FAIL: {exc.message}")
        return EXIT_FAIL
    try:
        cosigned = _cosigned(path, report, trusted, witnesses, required)
    except LedgerError as exc:
        _out(f"FAIL: {exc.message}")
        return EXIT_FAIL
    _out(describe(report) + cosigned)
    return EXIT_OK


def _cosigned(
    path: Path,
    report: ExportReport | PartyExportReport,
    trusted: str | None,
    witnesses: tuple[note.Verifier, ...],
    required: int,
) -> str:
    """With ``--witness``: the k-of-n check. The export's checkpoint passes if its checkpoint
    file, or the trusted checkpoint of the same tree, carries K known cosignatures; otherwise
    the trusted checkpoint (say, the note of ``GET /v1/log/checkpoint/cosigned``), which the
    export was proven to extend, must carry them."""
    from app.cli_witness import check_quorum, describe_quorum
    from ledger.adapters.export_files import DirectorySource, ZipSource
    from ledger.log import note
    from ledger.log.export_format import CHECKPOINT_FILE
    from ledger.log.tlog_checkpoint import Checkpoint
    from ledger.log.witness import TooFewCosignatures

    if not witnesses:
        return ""
    if path.is_dir():
        checkpoint_note = DirectorySource(path).read(CHECKPOINT_FILE)
    else:
        with path.open("rb") as handle:
            checkpoint_note = ZipSource(handle).read(CHECKPOINT_FILE)
    notes = [checkpoint_note.decode("utf-8")]
    if trusted is not None:
        notes.append(trusted)
    checkpoint = Checkpoint(report.origin, report.tree_size, report.root_hash)
    try:
        found = check_quorum(checkpoint, notes, witnesses, required)
    except TooFewCosignatures:
        if trusted is None:
            raise
        kept = Checkpoint.parse(note.parse_note(trusted).text)
        found = check_quorum(kept, [trusted], witnesses, required)
        return describe_quorum(found, witnesses) + (
            f" on the trusted checkpoint of tree size {kept.size}, which the export extends"
        )
    return describe_quorum(found, witnesses)


def _export(args: argparse.Namespace) -> int:
    from app.keys import SignerKeyUnusable, load_signer
    from app.progress import progress_bar
    from app.settings import command_database_url, get_settings
    from app.witness_check import command_signing_state
    from ledger.accounting.party_export import PartyExport, check_filter, party_selection
    from ledger.adapters.export_files import write_export
    from ledger.adapters.signing_state import open_signing_state
    from ledger.adapters.sql.db import create_ledger_engine
    from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, utc_now
    from ledger.log import witness
    from ledger.log.checkpoints import checkpoint_of, guard_consistency
    from ledger.log.cosignatures import NoCosignedCheckpoint, cosignatures_of
    from ledger.log.export_stream import StreamedExport

    settings = get_settings()
    out = Path(args.out)
    if out.exists():
        _err(f"refusing to overwrite existing file {out}")
        return EXIT_FAIL
    try:
        signer = load_signer(settings.signer_key_path, settings.log_origin, create=False)
    except SignerKeyUnusable as exc:
        _err(f"error: {exc}")
        return EXIT_FAIL
    engine = create_ledger_engine(command_database_url())
    signing = open_signing_state(settings.database_url, settings.checkpoint_state_path, utc_now)
    # The service's guard: the largest tree signed, and what the partner witnesses cosigned.
    state = command_signing_state(settings, signing.everywhere, signer)
    try:
        with SqlAlchemyUnitOfWork(engine, write=False) as uow:
            guard_consistency(uow.log, state)
            size = uow.log.size()
            cosignatures: list[witness.Cosignature] = []
            if args.cosigned:
                cosigned = uow.cosignatures.latest_tree_size()
                if cosigned is None:
                    raise NoCosignedCheckpoint("no checkpoint has been cosigned by a witness yet")
                size = cosigned
                checkpoint = checkpoint_of(uow.log, settings.log_origin, size)
                cosignatures = cosignatures_of(uow, checkpoint)
            if args.party is not None or args.year is not None:
                party, year = check_filter(args.party, args.year, args.start, args.end)
                seqs = party_selection(uow.log, uow.projection, party, size)
                with progress_bar("export", len(seqs)) as advance:
                    filtered = PartyExport(
                        uow.log,
                        seqs,
                        signer,
                        settings.log_origin,
                        party,
                        year,
                        size,
                        args.previous_size,
                        clock=uow.now,
                        cosignatures=cosignatures,
                        witnesses=witness.parse_witness_keys(settings.cosigner_keys),
                        progress=advance,
                    )
                    state.record_signed(size, filtered.root_hash)
                    written, digest = write_export(filtered.members(), out)
                _out(
                    f"wrote {out}: the {len(seqs)} entries of {party}'s AEF for {year} and its "
                    f"tables, of tree size {size}, root {b64encode(filtered.root_hash)} "
                    f"(base64, as in the checkpoints), {written} bytes, SHA-256 {digest}"
                )
                return EXIT_OK
            end = size if args.end is None else args.end
            with progress_bar("export", max(0, end - args.start)) as advance:
                export = StreamedExport(
                    uow.log,
                    signer,
                    settings.log_origin,
                    args.start,
                    end,
                    args.previous_size,
                    clock=uow.now,
                    tree_size=size,
                    cosignatures=cosignatures,
                    witnesses=witness.parse_witness_keys(settings.cosigner_keys),
                    progress=advance,
                )
                state.record_signed(size, export.root_hash)
                written, digest = write_export(export.members(), out)
    except LedgerError as exc:
        _err(f"error: {exc.message}")
        return EXIT_FAIL
    except OSError as exc:
        _err(f"error: cannot write {out}: {exc.strerror or exc}")
        return EXIT_FAIL
    finally:
        signing.dispose()
        engine.dispose()
    _out(
        f"wrote {out}: entries [{args.start}, {end}) of tree size {size}, root "
        f"{b64encode(export.root_hash)} (base64, as in the checkpoints), {written} bytes, "
        f"SHA-256 {digest}"
    )
    return EXIT_OK


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def add_export_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` and ``verify-export`` to the ``a6ledger`` command line."""
    from app.cli_witness import add_quorum_arguments

    export = subparsers.add_parser(
        "export",
        help="write a signed, offline-verifiable export of a range of the log",
        description="Entries [START, END) with the current signed checkpoint, one inclusion "
        "proof per entry and a signed manifest (format: ledger/log/export_format.py).",
    )
    export.add_argument("--start", type=_non_negative, default=0, help="first seq (default 0)")
    export.add_argument(
        "--end", type=_non_negative, help="seq after the last one (default: the tree size)"
    )
    export.add_argument(
        "--previous-size",
        type=_non_negative,
        help="add a consistency proof from the checkpoint of this tree size",
    )
    export.add_argument(
        "--party",
        help="with --year: only the entries this Party's AEF for that year is built from, each "
        "with its tlog-proof, and the AEF tables derived from them (a6ledger-export/party-v1)",
    )
    export.add_argument("--year", type=_non_negative, help="the reported year, with --party")
    export.add_argument(
        "--cosigned",
        action="store_true",
        help="prove against the latest checkpoint a witness cosigned, and carry its "
        "cosignatures in checkpoint.txt (for verify-export --witness VKEY --require K)",
    )
    export.add_argument("--out", required=True, help="the ZIP file to create")
    export.set_defaults(func=_export)

    verify = subparsers.add_parser(
        "verify-export",
        help="verify an export offline with the log's verifier key (no server, no database)",
        description="Exit status: 0 verified, 1 FAIL (the reason names the file and entry "
        "seq), 2 the file or the key cannot be read.",
    )
    verify.add_argument("file", help="the export ZIP, or the directory it was unpacked into")
    verify.add_argument(
        "--vkey",
        required=True,
        help="the log's verifier key <name>+<key id>+<base64>, or a file holding it",
    )
    verify.add_argument(
        "--trusted-checkpoint",
        help="a signed checkpoint kept from before: the export must prove it extends it "
        "(export with previous_size = its tree size)",
    )
    add_quorum_arguments(verify)
    verify.set_defaults(func=_verify_export)
