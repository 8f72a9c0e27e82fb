"""Signed exports for auditors: one ZIP that verifies offline with the log's public key alone
(``ledger.log.export_format`` documents the format; ``a6ledger verify-export`` checks it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth import Principal, Role, require_roles
from app.deps import CheckpointStateDep, ReadUowDep, SettingsDep, SignerDep
from app.problems import problem_responses
from app.settings import Settings
from ledger.adapters.export_files import pack_export
from ledger.errors import InvalidInput
from ledger.log.checkpoints import guard_consistency
from ledger.log.export_build import build_export

router = APIRouter(prefix="/v1/exports", tags=["exports"])

MAX_INT64 = 2**63 - 1
EXPORT_PAGES = 10
"""An export holds at most ``max_page_size * EXPORT_PAGES`` entries (10,000 by default).

The export is built in memory with one inclusion proof per entry: 10,000 entries of a tree of
a million take about a second to build and verify and compress to a few megabytes. Larger
ranges are exported in several pieces (each proven against the same checkpoint), or with the
``a6ledger export`` command, which has no limit."""

ExportReaderDep = Annotated[
    Principal, Depends(require_roles(Role.auditor, Role.admin, Role.reconciler))
]


class ExportRangeTooLarge(InvalidInput):
    """An export holds at most max_page_size * 10 entries; ask for several smaller ranges."""

    problem_type = "export-range-too-large"
    title = "An export holds at most max_page_size * 10 entries; ask for several smaller ranges"
    rule = "export-range-size"


def max_export_entries(settings: Settings) -> int:
    """The most entries one ``GET /v1/exports`` returns."""
    return settings.max_page_size * EXPORT_PAGES


@router.get(
    "",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "Signed export (a6ledger-export/v1 ZIP)",
        },
        **problem_responses(401, 403, 422, 500),
    },
)
def download_export(
    uow: ReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
    _: ExportReaderDep,
    start: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    end: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
    previous_size: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
) -> Response:
    """Entries ``start`` (inclusive) to ``end`` (exclusive, default: the current tree size) with
    the signed checkpoint of the current tree, one RFC 9162 inclusion proof per entry, a
    consistency proof from the checkpoint of ``previous_size`` when given, and a manifest signed
    by the log key. Verify it offline with ``a6ledger verify-export FILE --vkey VKEY``.

    At most ``max_page_size * 10`` entries per export."""
    # First statement: read the signed-tree state before the read snapshot starts, so a tree
    # signed meanwhile by another request is never "missing" from this snapshot.
    guard_consistency(uow.log, state)
    size = uow.log.size()
    stop = size if end is None else end
    limit = max_export_entries(settings)
    if min(stop, size) - start > limit:
        raise ExportRangeTooLarge(
            f"the range [{start}, {stop}) holds {stop - start} entries; an export holds at most "
            f"{limit}",
            start=start,
            end=stop,
            limit=limit,
        )
    data = pack_export(
        build_export(
            uow.log, signer, settings.log_origin, start, stop, previous_size, clock=uow.now
        )
    )
    state.record_signed(size, uow.log.root(size))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="a6ledger-export-{start}-{stop}.zip"',
            "A6-Tree-Size": str(size),
        },
    )
