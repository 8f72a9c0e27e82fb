"""Signed exports for auditors: one ZIP that verifies offline with the log's public key alone
(``ledger.log.export_format`` documents the format; ``a6ledger verify-export`` checks it).

An export of any size is streamed (format ``a6ledger-export/v2``): the entries are read in
batches from the request's snapshot and written into the ZIP as they come, so the server's
memory does not grow with the export. The range, the proofs and the consistency proof are
checked before the response starts, so every refusal is a problem document; a log whose entries
turn out not to reproduce its root stops the stream before anything is signed (the client gets
a truncated archive that does not verify, and the error is logged).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from app.auth import Principal, Role, require_roles
from app.deps import CheckpointStateDep, ReadUowDep, SettingsDep, SignerDep
from app.problems import problem_responses
from app.routes.witness import WitnessesDep
from app.settings import Settings
from ledger.accounting.party_export import PartyExport, check_filter, party_selection
from ledger.adapters.export_files import export_chunks
from ledger.log import note, witness
from ledger.log.checkpoints import CheckpointState, checkpoint_of, guard_consistency
from ledger.log.cosignatures import NoCosignedCheckpoint, cosignatures_of
from ledger.log.export_stream import Member, StreamedExport
from ledger.ports import UnitOfWork

router = APIRouter(prefix="/v1/exports", tags=["exports"])

MAX_INT64 = 2**63 - 1

ExportReaderDep = Annotated[
    Principal, Depends(require_roles(Role.auditor, Role.admin, Role.reconciler))
]


@router.get(
    "",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "Signed export (a6ledger-export/v2 ZIP, streamed)",
        },
        **problem_responses(401, 403, 404, 422, 500),
    },
)
def download_export(
    uow: ReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
    witnesses: WitnessesDep,
    _: ExportReaderDep,
    start: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    end: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
    previous_size: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
    party: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Z]{3}$",
            description="With `year`: a filtered export (`a6ledger-export/party-v1`) of the "
            "entries this Party's AEF for that year is built from, each with its tlog-proof, and "
            "the AEF tables derived from them; not with `start`/`end`",
        ),
    ] = None,
    year: Annotated[
        int | None,
        Query(ge=1990, le=2100, description="The reported year (1990 to 2100), with `party`"),
    ] = None,
    cosigned: Annotated[
        bool,
        Query(
            description="Prove against the latest checkpoint a witness cosigned, whose note in "
            "checkpoint.txt then carries the witnesses' cosignatures (for `verify-export "
            "--witness VKEY --require K`); 404 while none is cosigned"
        ),
    ] = False,
) -> StreamingResponse:
    """Entries ``start`` (inclusive) to ``end`` (exclusive, default: the current tree size) with
    the signed checkpoint of the current tree, the C2SP tlog-proofs of the first and the last
    entry (which with the entries prove every entry of the range), a consistency proof from the
    checkpoint of ``previous_size`` when given, and a manifest signed by the log key. Verify it
    offline with ``a6ledger verify-export FILE --vkey VKEY``.

    Any size: the archive (``a6ledger-export/v2``) is streamed as the entries are read."""
    # First statement: read the signed-tree state before the read snapshot starts, so a tree
    # signed meanwhile by another request is never "missing" from this snapshot.
    guard_consistency(uow.log, state)
    size = uow.log.size()
    cosignatures: list[witness.Cosignature] = []
    if cosigned:
        latest = uow.cosignatures.latest_tree_size()
        if latest is None:
            raise NoCosignedCheckpoint("no checkpoint has been cosigned by a witness yet")
        size = latest
        cosignatures = cosignatures_of(uow, checkpoint_of(uow.log, settings.log_origin, size))
    if party is not None or year is not None:
        return _party_export(
            uow,
            signer,
            settings,
            state,
            witnesses,
            party,
            year,
            start,
            end,
            size,
            previous_size,
            cosignatures,
        )
    stop = size if end is None else end
    export = StreamedExport(
        uow.log,
        signer,
        settings.log_origin,
        start,
        stop,
        previous_size,
        clock=uow.now,
        tree_size=size,
        cosignatures=cosignatures,
        witnesses=witnesses,
    )
    state.record_signed(size, export.root_hash)
    return _zip_response(export.members(), f"a6ledger-export-{start}-{stop}.zip", size)


def _party_export(
    uow: UnitOfWork,
    signer: note.Signer,
    settings: Settings,
    state: CheckpointState,
    witnesses: tuple[note.Verifier, ...],
    wanted_party: str | None,
    wanted_year: int | None,
    start: int,
    end: int | None,
    size: int,
    previous_size: int | None,
    cosignatures: list[witness.Cosignature],
) -> StreamingResponse:
    party, year = check_filter(wanted_party, wanted_year, start, end)
    seqs = party_selection(uow.log, uow.projection, party, size)
    export = PartyExport(
        uow.log,
        seqs,
        signer,
        settings.log_origin,
        party,
        year,
        size,
        previous_size,
        clock=uow.now,
        cosignatures=cosignatures,
        witnesses=witnesses,
    )
    state.record_signed(size, export.root_hash)
    return _zip_response(export.members(), f"a6ledger-export-{party}-{year}.zip", size)


def _zip_response(members: Iterator[Member], filename: str, size: int) -> StreamingResponse:
    """The export's members streamed as a ZIP archive named ``filename``, of tree size ``size``."""
    return StreamingResponse(
        export_chunks(members),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "A6-Tree-Size": str(size),
        },
    )
