"""``a6ledger verify-proof``: one entry's C2SP tlog-proof, verified offline.

Like ``verify-export`` it needs no server, no database and no web framework: the proof bundle
(``GET /v1/log/proofs/bundle?index=N``), the entry's canonical bytes (line ``N`` of
``GET /v1/log/entries``, or entry ``N mod 256`` of entry bundle ``N // 256``) and the log's
verifier key are enough, and only ``ledger.log`` (``cryptography``, ``rfc8785``) is imported.
With ``--witness VKEY ... --require K`` it also requires K distinct known witnesses to have
cosigned the bundle's checkpoint (``GET /v1/log/proofs/bundle?index=N&cosigned=true``).
It prints ``OK: ...`` and exits 0, ``FAIL: <reason>`` and exits 1, or exits 2 when a file or the
key cannot be read at all.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from app.cli_export import EXIT_FAIL, EXIT_OK, EXIT_UNUSABLE, read_vkey
from app.cli_witness import (
    QuorumUnusable,
    add_quorum_arguments,
    check_quorum,
    describe_quorum,
    quorum,
)
from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.log.export_verify import log_verifier
from ledger.log.keys import InvalidKey
from ledger.log.tlog_proof import parse_tlog_proof, verify_tlog_proof


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _verify_proof(args: argparse.Namespace) -> int:
    try:
        bundle = Path(args.proof).read_text(encoding="utf-8")
        entry_bytes = Path(args.entry).read_bytes()
        verifier = log_verifier(read_vkey(args.vkey))
    except OSError as exc:
        _err(f"error: cannot read {exc.filename}: {exc.strerror or exc}")
        return EXIT_UNUSABLE
    except UnicodeDecodeError:
        _err(f"error: {args.proof} is not UTF-8 text")
        return EXIT_UNUSABLE
    except InvalidKey as exc:
        _err(f"error: --vkey: {exc.message}")
        return EXIT_UNUSABLE
    try:
        witnesses, required = quorum(args)
    except QuorumUnusable as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    # A line copied from /v1/log/entries keeps its newline; canonical bytes never end in one.
    entry_bytes = entry_bytes.removesuffix(b"\n")
    try:
        checkpoint = verify_tlog_proof(bundle, entry_bytes, [verifier])
        parsed = parse_tlog_proof(bundle)
        index = parsed.index
        entry = Entry.from_canonical(entry_bytes)
        cosigned = check_quorum(checkpoint, [parsed.signed_checkpoint], witnesses, required)
    except LedgerError as exc:
        _out(f"FAIL: {exc.message}")
        return EXIT_FAIL
    if entry.seq != index:
        _out(f"FAIL: the entry says seq {entry.seq} but the proof is for leaf {index}")
        return EXIT_FAIL
    root = base64.b64encode(checkpoint.root_hash).decode("ascii")
    _out(
        f"OK: entry seq {entry.seq} ({entry.kind}, {entry.timestamp.isoformat()}) of "
        f"{checkpoint.origin} is leaf {index} of the checkpoint of tree size {checkpoint.size}, "
        f"root {root}, signed by {verifier.name}+{verifier.key_id:08x}"
        f"{describe_quorum(cosigned, witnesses)}"
    )
    return EXIT_OK


def add_proof_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify-proof`` to the ``a6ledger`` command line."""
    verify = subparsers.add_parser(
        "verify-proof",
        help="verify one entry's tlog-proof offline with the log's verifier key",
        description="Exit status: 0 verified, 1 FAIL, 2 a file or the key cannot be read. "
        "With --witness, the bundle's checkpoint must carry the cosignatures of K of those "
        "witnesses (fetch the bundle with ?cosigned=true).",
    )
    verify.add_argument("proof", help="the tlog-proof bundle (GET /v1/log/proofs/bundle)")
    verify.add_argument("--entry", required=True, help="a file holding the entry's canonical bytes")
    verify.add_argument(
        "--vkey",
        required=True,
        help="the log's verifier key <name>+<key id>+<base64>, or a file holding it",
    )
    add_quorum_arguments(verify)
    verify.set_defaults(func=_verify_proof)
