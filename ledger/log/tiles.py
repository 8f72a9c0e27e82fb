"""The log as C2SP tlog-tiles (verifiable-log.md §7): tile coordinates, paths, contents, bundles.

A tile of level ``l`` and index ``n`` holds, for ``i`` in ``0..width-1``, the Merkle Tree Hash of
leaves ``[(n·256 + i)·256^l, (n·256 + i + 1)·256^l)``: the root of a *perfect* subtree of height
``8·l``. Those are exactly the rows the node store keeps under key ``(8·l, n·256 + i)``
(``ledger.log.merkle_store``), so a tile is one batched read of at most 256 stored hashes, never a
rehash of the log. Entry bundle ``n`` holds the entries whose leaf hashes make up level-0 tile
``n``, each as a big-endian uint16 length followed by its canonical bytes.

Pure: no I/O beyond the :class:`~ledger.log.merkle_store.NodeReader` a caller passes in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import IntegrityError, NotFound
from ledger.log.merkle import HASH_SIZE
from ledger.log.merkle_store import MerkleNodeMissing, NodeKey, NodeReader

TILE_HEIGHT = 8
"""Levels of the Merkle tree one tile spans (fixed by the spec)."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile, and entries in a full entry bundle: 256."""
MAX_LEVEL = 63
"""The highest tile level a path may name."""
MAX_BUNDLED_ENTRY = 0xFFFF
"""The longest entry an entry bundle can hold: its length is a uint16."""


class TileNotFound(NotFound):
    """No such tile: the path is not a tlog-tiles path, or the tile lies beyond the tree."""

    problem_type = "tile-not-found"
    title = "No such tile: the path is not a tlog-tiles path, or the tile lies beyond the tree"
    rule = "tile-path"


class EntryTooLargeForBundle(IntegrityError):
    """An entry is longer than the 65,535 bytes a tlog-tiles entry bundle can hold."""

    problem_type = "entry-too-large-for-bundle"
    title = "An entry is longer than the 65,535 bytes a tlog-tiles entry bundle can hold"
    rule = "entry-bundle-size"


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile: ``level`` is ``None`` for an entry bundle; ``width`` is 1..256 (256 = full)."""

    level: int | None
    index: int
    width: int

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """The tile's path below the log's prefix, e.g. ``tile/0/x001/x234/067.p/8``."""
        level = "entries" if self.level is None else str(self.level)
        suffix = "" if self.is_full else f".p/{self.width}"
        return f"tile/{level}/{format_index(self.index)}{suffix}"


def format_index(index: int) -> str:
    """``N`` as zero-padded 3-digit path elements, all but the last prefixed with ``x``."""
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _is_group(text: str) -> bool:
    return len(text) == 3 and text.isascii() and text.isdigit()


def parse_tile_path(level: str, rest: str) -> Tile:
    """The tile named by ``tile/<level>/<rest>`` (``level`` is a decimal level or ``entries``).

    Strict, as the spec writes paths: no leading zeros in ``L`` or ``W``, every element but the
    last ``x``-prefixed, ``W`` in 1..255. Anything else is :class:`TileNotFound`.
    """
    path = f"tile/{level}/{rest}"
    if level == "entries":
        tile_level: int | None = None
    elif level.isascii() and level.isdigit() and (level == "0" or not level.startswith("0")):
        tile_level = int(level)
        if tile_level > MAX_LEVEL:
            raise TileNotFound(f"{path}: level {tile_level} is above {MAX_LEVEL}", path=path)
    else:
        raise TileNotFound(f"{path}: {level!r} is not a tile level", path=path)
    elements = rest.split("/")
    width = TILE_WIDTH
    if len(elements) >= 2 and elements[-2].endswith(".p"):
        width_text = elements.pop()
        elements[-1] = elements[-1].removesuffix(".p")
        if (
            not (width_text.isascii() and width_text.isdigit() and not width_text.startswith("0"))
            or not 1 <= int(width_text) < TILE_WIDTH
        ):
            raise TileNotFound(f"{path}: partial width must be 1..255", path=path)
        width = int(width_text)
    *upper, last = elements
    if not _is_group(last) or not all(
        element.startswith("x") and _is_group(element[1:]) for element in upper
    ):
        raise TileNotFound(f"{path}: not a tile index", path=path)
    index = 0
    for element in [*(element[1:] for element in upper), last]:
        index = index * 1000 + int(element)
    tile = Tile(tile_level, index, width)
    if tile.path != path:  # e.g. a leading x000 group: one tile, one path
        raise TileNotFound(f"{path}: not the canonical path of {tile.path}", path=path)
    return tile


def hashes_at_level(size: int, level: int) -> int:
    """How many tile hashes level ``level`` has in a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def require_tile(size: int, tile: Tile) -> None:
    """:class:`TileNotFound` unless ``tile`` exists in the tree of ``size`` leaves.

    A tile of width ``w`` exists once its level has at least ``n·256 + w`` hashes: a full tile
    from then on, a partial one too (its content never changes, so it stays servable after its
    full tile exists, which the spec allows).
    """
    available = hashes_at_level(size, 0 if tile.level is None else tile.level)
    if tile.index * TILE_WIDTH + tile.width > available:
        raise TileNotFound(
            f"{tile.path} lies beyond the tree of size {size}", path=tile.path, tree_size=size
        )


def tile_node_keys(level: int, index: int, width: int) -> list[NodeKey]:
    """The node-store keys of the hashes of tile ``(level, index)``, left to right."""
    first = index * TILE_WIDTH
    return [(TILE_HEIGHT * level, first + i) for i in range(width)]


def read_tile(reader: NodeReader, level: int, index: int, width: int) -> bytes:
    """The tile's bytes: ``width`` concatenated 32-byte hashes, read in one batch."""
    keys = tile_node_keys(level, index, width)
    found = reader.read_nodes(keys)
    hashes: list[bytes] = []
    for key in keys:
        value = found.get(key)
        if value is None or len(value) != HASH_SIZE:
            raise MerkleNodeMissing(
                f"Merkle node (level {key[0]}, index {key[1]}) of tile {level}/{index} is "
                "missing from the store or is not a 32-byte hash",
                level=key[0],
                index=key[1],
            )
        hashes.append(value)
    return b"".join(hashes)


def entry_range(tile: Tile) -> tuple[int, int]:
    """The entries ``[start, end)`` of entry bundle ``tile``."""
    start = tile.index * TILE_WIDTH
    return start, start + tile.width


def entry_bundle(entries: Iterable[bytes], first_seq: int = 0) -> bytes:
    """Entries as one bundle: each a big-endian uint16 length, then its bytes."""
    parts: list[bytes] = []
    for offset, entry in enumerate(entries):
        if len(entry) > MAX_BUNDLED_ENTRY:
            raise EntryTooLargeForBundle(
                f"entry {first_seq + offset} is {len(entry)} bytes, more than an entry bundle "
                f"holds ({MAX_BUNDLED_ENTRY})",
                seq=first_seq + offset,
                length=len(entry),
            )
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)
