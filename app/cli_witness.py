"""``a6ledger witness push``: ask the partner witnesses to cosign this log's checkpoint.

For each witness in ``A6LEDGER_WITNESS_PARTNERS`` it sends the current signed checkpoint with the
consistency proof from the size that witness cosigned last (C2SP tlog-witness), and records the
cosignature it gets back as a ``checkpoint.cosigned`` entry, so that
``GET /v1/log/checkpoint/cosigned`` serves it. Run it from a scheduler (cron, a systemd timer)
after writes; each run prints one JSON object per witness. Before it signs, it asks every partner
witness what it cosigned of this log, as the service does (``app.witness_check``), and refuses to
sign when one holds a tree the stored log does not (or a required one is silent). Exit status: 0
every witness cosigned, 1 a witness refused or did not answer, 2 the command could not run
(a refusal to sign included: one line naming the witness).

It also holds the k-of-n options of the verifiers (``verify-proof``, ``verify-export``):
``--witness VKEY ... --require K``. Those run without the server stack, so this module imports
nothing of it at import time.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ledger.errors import LedgerError

if TYPE_CHECKING:
    import httpx

    from app.settings import Settings
    from ledger.log import note
    from ledger.log.tlog_checkpoint import Checkpoint
    from ledger.log.witness import Cosignature
    from ledger.log.witnessing import PushResult

ACTOR = "cli:witness-push"


class QuorumUnusable(Exception):
    """The k-of-n options cannot be used as given (a bad key, K out of range)."""


def add_quorum_arguments(parser: argparse.ArgumentParser) -> None:
    """``--witness VKEY`` (repeatable) and ``--require K`` of a verifier command."""
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness's cosigner key (C2SP vkey, type 0x04), or a file holding it; repeat",
    )
    parser.add_argument(
        "--require",
        type=int,
        metavar="K",
        help="fail unless K distinct --witness keys cosigned the checkpoint (default: all)",
    )


def quorum(args: argparse.Namespace) -> tuple[tuple[note.Verifier, ...], int]:
    """The witness keys and K from ``--witness`` and ``--require``; :class:`QuorumUnusable`."""
    from app.cli_export import read_vkey
    from ledger.log.witness import parse_witness_keys

    try:
        witnesses = parse_witness_keys([read_vkey(text) for text in args.witness])
    except LedgerError as exc:
        raise QuorumUnusable(f"--witness: {exc.message}") from exc
    except OSError as exc:
        raise QuorumUnusable(f"--witness: cannot read {exc.filename}") from exc
    required = len(witnesses) if args.require is None else args.require
    if not 0 <= required <= len(witnesses):
        raise QuorumUnusable(
            f"--require {required}: give between 0 and the {len(witnesses)} --witness keys"
        )
    return witnesses, required


def check_quorum(
    checkpoint: Checkpoint,
    notes: list[str],
    witnesses: tuple[note.Verifier, ...],
    required: int,
) -> tuple[Cosignature, ...]:
    """The known cosignatures of ``checkpoint`` in ``notes``; raises ``TooFewCosignatures``
    (or ``SignatureInvalid`` for a known key's line that fails) below ``required``."""
    from ledger.log.witness import require_cosignatures

    return require_cosignatures(checkpoint, notes, witnesses, required)


def describe_quorum(found: tuple[Cosignature, ...], witnesses: tuple[note.Verifier, ...]) -> str:
    if not witnesses:
        return ""
    names = ", ".join(f"{c.key_name}+{c.key_id_hex}" for c in found) or "none"
    return f"; cosigned by {len(found)} of {len(witnesses)} known witnesses ({names})"


def push_to_partners(
    settings: Settings, client: httpx.Client, only: str | None = None
) -> list[PushResult]:
    """Push this log's current checkpoint to every configured partner witness (or the one whose
    URL is ``only``), through ``client``; one result per witness.

    Before it signs, the service's guard: the largest tree signed (every replica, the file) and
    what every partner witness cosigned of this log, asked through ``client``; a refusal
    (``WitnessedTreeMissing``, ``RequiredWitnessSilent``) is raised and nothing is pushed."""
    from app.keys import load_signer
    from app.witness_check import command_signing_state
    from ledger.adapters.signing_state import open_signing_state
    from ledger.adapters.sql.db import create_ledger_engine
    from ledger.adapters.sql.uow import SqlStorage, utc_now
    from ledger.adapters.witness_http import HttpWitnessTransport
    from ledger.log import note, witness, witnessing
    from ledger.log.checkpoints import guard_consistency

    signer = load_signer(settings.signer_key_path, settings.log_origin, create=False)
    witnesses = witness.parse_witness_keys(settings.cosigner_keys)
    transport = HttpWitnessTransport(client)
    signing = open_signing_state(settings.database_url, settings.checkpoint_state_path, utc_now)
    state = command_signing_state(settings, signing.everywhere, signer, client)
    storage = SqlStorage(
        create_ledger_engine(settings.database_url), signed_elsewhere=signing.outside_database
    )
    results: list[PushResult] = []
    try:
        with storage.unit_of_work(write=False) as uow:
            guard_consistency(uow.log, state)
        for partner in settings.witness_partners:
            if only is not None and partner.url != only:
                continue
            target = witnessing.PartnerWitness(partner.url, note.Verifier(partner.vkey))
            try:
                result = witnessing.push_checkpoint(
                    storage,
                    signer,
                    settings.log_origin,
                    state,
                    witnesses,
                    target,
                    transport,
                    ACTOR,
                )
            except LedgerError as exc:
                result = witnessing.PushResult(
                    target.label, partner.url, 0, 0, cosigned=False, detail=exc.message
                )
            results.append(result)
    finally:
        storage.dispose()
        signing.dispose()
    return results


def _push(args: argparse.Namespace) -> int:
    from app.keys import SignerKeyUnusable
    from app.settings import get_settings
    from app.witness_check import witness_client

    settings = get_settings()
    if not settings.witness_partners:
        print("error: no partner witness configured (A6LEDGER_WITNESS_PARTNERS)", file=sys.stderr)
        return 2
    try:
        with witness_client(args.timeout) as client:
            results = push_to_partners(settings, client, args.url)
    except (LedgerError, SignerKeyUnusable) as exc:
        message = exc.message if isinstance(exc, LedgerError) else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    if not results:
        print(f"error: no configured partner witness has the URL {args.url}", file=sys.stderr)
        return 2
    for result in results:
        print(json.dumps(result.as_json(), sort_keys=True))
    return 0 if all(r.cosigned for r in results) else 1


def add_witness_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``witness push`` to the ``a6ledger`` command line."""
    group = subparsers.add_parser(
        "witness", help="mutual witnessing with partner registries (C2SP tlog-witness)"
    ).add_subparsers(dest="witness", required=True)
    push = group.add_parser(
        "push",
        help="send this log's checkpoint to the partner witnesses and record their cosignatures",
        description="Exit status: 0 every witness cosigned, 1 a witness refused or did not "
        "answer, 2 the command could not run.",
    )
    push.add_argument("--url", help="only the partner witness with this submission URL")
    push.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    push.set_defaults(func=_push)
