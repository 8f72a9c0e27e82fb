"""Tile coordinates, paths, contents and entry bundles (C2SP tlog-tiles, verifiable-log.md §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.log import merkle, tiles
from ledger.log.merkle_store import MemoryNodeStore, MerkleNodeMissing
from tests.fakes.log import FakeLedgerLog


def fake_log(size: int) -> FakeLedgerLog:
    log = FakeLedgerLog(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    for n in range(size):
        log.append("test.tile", {"n": n}, actor="test")
    return log


@pytest.mark.parametrize(
    ("index", "path"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1_234_067, "x001/x234/067")],
)
def test_index_paths(index: int, path: str) -> None:
    assert tiles.format_index(index) == path
    assert tiles.parse_tile_path("0", path) == tiles.Tile(0, index, 256)
    assert tiles.parse_tile_path("entries", path + ".p/9") == tiles.Tile(None, index, 9)
    assert tiles.Tile(3, index, 9).path == f"tile/3/{path}.p/9"


@pytest.mark.parametrize(
    ("level", "rest"),
    [
        ("00", "000"),
        ("01", "000"),
        ("64", "000"),
        ("-1", "000"),
        ("x", "000"),
        ("0", "0"),
        ("0", "0000"),
        ("0", "x000/001"),
        ("0", "001/002"),
        ("0", "x01/002"),
        ("0", "000.p"),
        ("0", "000.p/0"),
        ("0", "000.p/010"),
        ("0", "000.p/256"),
        ("0", "000.p/+1"),
        ("0", "000.p/1/2"),
        ("0", "\u0661\u0662\u0663"),
        ("0", ""),
    ],
)
def test_malformed_paths_are_not_found(level: str, rest: str) -> None:
    with pytest.raises(tiles.TileNotFound):
        tiles.parse_tile_path(level, rest)


def test_widths_of_the_specs_example_tree_of_70000() -> None:
    size = 70_000

    def exists(level: int, index: int, width: int) -> bool:
        try:
            tiles.require_tile(size, tiles.Tile(level, index, width))
        except tiles.TileNotFound:
            return False
        return True

    present = [(0, 272, 256), (0, 273, 112), (1, 0, 256), (1, 1, 17), (2, 0, 1)]
    absent = [(0, 273, 256), (0, 273, 113), (1, 1, 18), (2, 0, 2), (3, 0, 1)]
    assert [exists(*tile) for tile in present] == [True] * len(present)
    assert [exists(*tile) for tile in absent] == [False] * len(absent)
    assert [tiles.hashes_at_level(size, level) for level in range(4)] == [70_000, 273, 1, 0]


def test_tiles_are_stored_subtree_roots() -> None:
    log = fake_log(600)
    bodies = log.read_entries(0, 600)
    leaves = [merkle.leaf_hash(body) for body in bodies]
    level0 = log.read_tile(0, 1, 256)
    assert level0 == b"".join(leaves[256:512])
    assert log.read_tile(0, 2, 88) == b"".join(leaves[512:600])
    assert log.read_tile(1, 0, 2) == log.root(256) + merkle.root_from_leaf_hashes(leaves[256:512])
    with pytest.raises(tiles.TileNotFound):
        log.read_tile(0, 2, 89)
    with pytest.raises(tiles.TileNotFound):
        log.read_tile(1, 0, 3)


def test_a_missing_node_is_an_integrity_error() -> None:
    with pytest.raises(MerkleNodeMissing):
        tiles.read_tile(MemoryNodeStore([((8, 0), b"\x01" * 32)]), 1, 0, 2)


def test_entry_bundles() -> None:
    assert tiles.entry_bundle([b"ab", b"", b"c" * 300]) == (
        b"\x00\x02ab" + b"\x00\x00" + b"\x01\x2c" + b"c" * 300
    )
    assert tiles.entry_range(tiles.Tile(None, 3, 10)) == (768, 778)
    assert len(tiles.entry_bundle([b"x" * 0xFFFF])) == 0x10001
    with pytest.raises(tiles.EntryTooLargeForBundle) as raised:
        tiles.entry_bundle([b"x", b"x" * 0x10000], first_seq=512)
    assert raised.value.details["seq"] == 513
