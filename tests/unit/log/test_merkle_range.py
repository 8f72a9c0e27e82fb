"""The root of a tree from a range of its leaves and the range's two boundary proofs."""

from __future__ import annotations

import pytest

from ledger.log.merkle import leaf_hash, root_from_leaf_hashes
from ledger.log.merkle_range import RangeProofInvalid, RangeRoot
from ledger.log.merkle_store import MemoryNodeStore, MerkleAppender, inclusion_proof


def tree(size: int) -> tuple[list[bytes], MemoryNodeStore]:
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    store = MemoryNodeStore()
    store.put_many(MerkleAppender(store, 0).extend(leaves))
    return leaves, store


def range_root(leaves: list[bytes], store: MemoryNodeStore, start: int, end: int) -> RangeRoot:
    size = len(leaves)
    first = inclusion_proof(store, start, size)
    last = inclusion_proof(store, end - 1, size)
    computed = RangeRoot(start, end, size, first, last)
    for index in range(start, end):
        assert computed.next_index == index
        computed.add(leaves[index])
    return computed


@pytest.mark.parametrize("size", range(1, 34))
def test_every_range_of_small_trees_gives_the_root(size: int) -> None:
    leaves, store = tree(size)
    root = root_from_leaf_hashes(leaves)
    for start in range(size):
        for end in range(start + 1, size + 1):
            assert range_root(leaves, store, start, end).root == root


def test_an_altered_leaf_gives_another_root() -> None:
    leaves, store = tree(100)
    root = root_from_leaf_hashes(leaves)
    for position in (10, 37, 63, 64, 99):
        altered = list(leaves)
        altered[position] = leaf_hash(b"forged")
        size = len(leaves)
        computed = RangeRoot(
            10, 100, size, inclusion_proof(store, 10, size), inclusion_proof(store, 99, size)
        )
        for index in range(10, 100):
            computed.add(altered[index])
        assert computed.root != root


def test_missing_extra_and_malformed_leaves_or_proofs_are_refused() -> None:
    leaves, store = tree(20)
    first, last = inclusion_proof(store, 3, 20), inclusion_proof(store, 9, 20)
    short = RangeRoot(3, 10, 20, first, last)
    short.add(leaves[3])
    with pytest.raises(RangeProofInvalid, match="leaves 4 to 9"):
        _ = short.root
    full = range_root(leaves, store, 3, 10)
    with pytest.raises(RangeProofInvalid, match="beyond the range"):
        full.add(leaves[10])
    with pytest.raises(RangeProofInvalid, match="must have"):
        RangeRoot(3, 10, 20, first[:-1], last)
    with pytest.raises(RangeProofInvalid, match="must have"):
        RangeRoot(3, 10, 20, first, [*last[:-1], b"short"])
    with pytest.raises(RangeProofInvalid, match="not within"):
        RangeRoot(3, 3, 20, first, last)
