"""The log as C2SP tlog-tiles (verifiable-log.md §7): ``/checkpoint``, ``/tile/<L>/<N>[.p/<W>]``
and ``/tile/entries/<N>[.p/<W>]``, for any tlog-tiles client, mirror or HTTP cache.

These routes serve bytes in the spec's formats, not JSON, and their paths are the spec's: they are
left out of the OpenAPI document (``include_in_schema=False``), which describes the JSON API; the
README's "For auditors" section documents them. Errors are still RFC 9457 problems.
"""

from __future__ import annotations

import gzip

from fastapi import APIRouter, Request, Response

from app.deps import CheckpointStateDep, PublicReadUowDep, SettingsDep, SignerDep
from app.routes.log import EntriesReaderDep, LogReaderDep, checkpoint_response
from ledger.log import tiles

router = APIRouter(tags=["tiles"], include_in_schema=False)

FULL_TILE_CACHE = "public, max-age=31536000, immutable"
"""A full tile never changes: any cache may keep it for a year."""
PARTIAL_TILE_CACHE = "public, max-age=60"
"""A partial tile is replaced by a wider one as the log grows: clients ask again soon."""
OCTET_STREAM = "application/octet-stream"


def _tile_response(tile: tiles.Tile, content: bytes, request: Request | None = None) -> Response:
    headers = {"Cache-Control": FULL_TILE_CACHE if tile.is_full else PARTIAL_TILE_CACHE}
    if request is not None:
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            content = gzip.compress(content, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return Response(content, media_type=OCTET_STREAM, headers=headers)


@router.get("/checkpoint")
def read_checkpoint(
    request: Request,
    uow: PublicReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
) -> Response:
    """The latest signed checkpoint note: the same as ``/v1/log/checkpoint``."""
    return checkpoint_response(request, uow, signer, settings, state)


@router.get("/tile/entries/{rest:path}")
def read_entry_bundle(
    request: Request, _: EntriesReaderDep, uow: PublicReadUowDep, rest: str
) -> Response:
    """Entry bundle ``N``: the entries whose leaf hashes form level-0 tile ``N``, each a
    big-endian uint16 length then its canonical bytes; gzip when the client accepts it."""
    tile = tiles.parse_tile_path("entries", rest)
    tiles.require_tile(uow.log.size(), tile)
    start, end = tiles.entry_range(tile)
    bundle = tiles.entry_bundle(uow.log.read_entries(start, end), first_seq=start)
    return _tile_response(tile, bundle, request)


@router.get("/tile/{level}/{rest:path}")
def read_tile(_: LogReaderDep, uow: PublicReadUowDep, level: str, rest: str) -> Response:
    """Hash tile ``(L, N)``: ``W`` (256 when full) concatenated 32-byte subtree roots."""
    tile = tiles.parse_tile_path(level, rest)
    if tile.level is None:  # routed to read_entry_bundle first; never reached
        raise tiles.TileNotFound(f"{tile.path} is an entry bundle", path=tile.path)
    return _tile_response(tile, uow.log.read_tile(tile.level, tile.index, tile.width))
