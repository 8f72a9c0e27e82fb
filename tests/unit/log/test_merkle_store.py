"""The RFC 9162 tree over stored subtrees (ledger/log/merkle_store.py): generated proofs equal
the published ones, appends match the reference root, O(log n) reads in one batch."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest

from ledger.errors import InvalidInput
from ledger.log.merkle import (
    EMPTY_ROOT,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.log.merkle_store import (
    MemoryNodeStore,
    MerkleAppender,
    MerkleNodeConflict,
    MerkleNodeMissing,
    NodeKey,
    ProofRangeInvalid,
    consistency_proof,
    inclusion_proof,
    nodes_completed_by_append,
    tree_root,
)
from tests.unit.log.trees import RFC_LEAVES, VECTOR_DIR, b64, build_store, load_vector


class CountingReader:
    """Wraps a reader; records every batch asked for."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner = inner
        self.calls: list[list[NodeKey]] = []

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        return self.inner.read_nodes(keys)


# --------------------------------------------------------------------------------------------
# Published vectors and reference roots
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        "inclusion/1/happy-path.json",
        "inclusion/2/happy-path.json",
        "consistency/1/happy-path.json",
        "consistency/2/happy-path.json",
    ],
)
def test_generated_proofs_equal_published_happy_paths(relative: str) -> None:
    vector = load_vector(VECTOR_DIR / relative)
    store = build_store([leaf_hash(leaf) for leaf in RFC_LEAVES])
    expected = [b64(element) for element in vector["proof"]]
    if "leafIdx" in vector:
        assert leaf_hash(RFC_LEAVES[vector["leafIdx"]]) == b64(vector["leafHash"])
        assert tree_root(store, vector["treeSize"]) == b64(vector["root"])
        assert inclusion_proof(store, vector["leafIdx"], vector["treeSize"]) == expected
    else:
        assert tree_root(store, vector["size1"]) == b64(vector["root1"])
        assert tree_root(store, vector["size2"]) == b64(vector["root2"])
        assert consistency_proof(store, vector["size1"], vector["size2"]) == expected


def test_known_roots() -> None:
    hashes = [leaf_hash(leaf) for leaf in RFC_LEAVES]
    assert EMPTY_ROOT.hex().startswith("e3b0c442")
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert root_from_leaf_hashes(hashes[:3]).hex().startswith("aeb6bcfe")
    assert root_from_leaf_hashes(hashes).hex().startswith("5dc9da79")
    store = build_store(hashes)
    assert tree_root(store, 0) == EMPTY_ROOT
    assert tree_root(store, 3).hex().startswith("aeb6bcfe")
    assert tree_root(store, 8).hex().startswith("5dc9da79")


def test_appender_matches_reference_for_every_small_size() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(70)]
    store = MemoryNodeStore()
    appender = MerkleAppender(store, 0)
    assert appender.root() == EMPTY_ROOT
    for size in range(1, len(hashes) + 1):
        store.put_many(appender.append(hashes[size - 1]))
        expected = root_from_leaf_hashes(hashes[:size])
        assert appender.size == size
        assert appender.root() == expected
        assert tree_root(store, size) == expected
    # A tree of n leaves stores exactly 2n - popcount(n) perfect subtrees.
    assert len(store) == 2 * 70 - bin(70).count("1")


def test_all_proofs_of_small_trees_verify() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(40)]
    store = build_store(hashes)
    roots = [tree_root(store, size) for size in range(41)]
    for size in range(1, 41):
        for index in range(size):
            proof = inclusion_proof(store, index, size)
            verify_inclusion(hashes[index], index, size, proof, roots[size])
        for size1 in range(1, size + 1):
            proof = consistency_proof(store, size1, size)
            verify_consistency(size1, size, proof, roots[size1], roots[size])


def test_appender_resumes_from_store_with_one_read() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(300)]
    store = build_store(hashes[:213])
    reader = CountingReader(store)
    appender = MerkleAppender(reader, 213)
    rows = appender.extend(hashes[213:])
    assert len(reader.calls) == 1
    assert sorted(reader.calls[0]) == sorted([(7, 0), (6, 2), (4, 12), (2, 52), (0, 212)])
    store.put_many(rows)
    assert appender.root() == root_from_leaf_hashes(hashes)
    assert tree_root(store, 300) == root_from_leaf_hashes(hashes)
    assert len(reader.calls) == 1


def test_appender_given_its_frontier_reads_nothing() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(300)]
    store = build_store(hashes[:213])
    frontier = MerkleAppender(store, 213).frontier()
    assert sorted(frontier) == [0, 2, 4, 6, 7]
    reader = CountingReader(store)
    appender = MerkleAppender(reader, 213, frontier)
    store.put_many(appender.extend(hashes[213:]))
    assert reader.calls == []
    assert appender.root() == root_from_leaf_hashes(hashes)
    assert tree_root(store, 300) == root_from_leaf_hashes(hashes)
    assert appender.frontier() == MerkleAppender(store, 300).frontier()
    with pytest.raises(ValueError, match="not the frontier of a tree of size 214"):
        MerkleAppender(reader, 214, frontier)


def test_nodes_completed_by_append_with_pending_rows() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(100)]
    store = build_store(hashes[:37])
    reader = CountingReader(store)
    pending: dict[NodeKey, bytes] = {}
    for index in range(37, 100):
        rows = nodes_completed_by_append(reader, index, hashes[index], pending)
        assert rows[0] == ((0, index), hashes[index])
        # Leaf plus one row per trailing 1-bit of the index.
        trailing_ones = (~index & (index + 1)).bit_length() - 1
        assert len(rows) == 1 + trailing_ones
        pending.update(rows)
    assert all(len(call) <= 6 for call in reader.calls)
    store.put_many(pending.items())
    assert tree_root(store, 100) == root_from_leaf_hashes(hashes)


def test_nodes_completed_by_append_reads_the_left_siblings() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(8)]
    store = build_store(hashes[:7])
    reader = CountingReader(store)
    rows = nodes_completed_by_append(reader, 7, hashes[7])
    assert reader.calls == [[(0, 6), (1, 2), (2, 0)]]
    assert [key for key, _ in rows] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert rows[-1][1] == root_from_leaf_hashes(hashes)
    assert nodes_completed_by_append(reader, 8, hashes[0]) == [((0, 8), hashes[0])]
    assert len(reader.calls) == 1  # an even index needs no sibling


# --------------------------------------------------------------------------------------------
# Store errors and argument checks
# --------------------------------------------------------------------------------------------


def test_missing_node_is_an_integrity_error() -> None:
    store = build_store([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
    with pytest.raises(MerkleNodeMissing, match=r"\(level 2, index 0\)"):
        tree_root(store, 4)
    with pytest.raises(MerkleNodeMissing):
        inclusion_proof(store, 0, 5)
    with pytest.raises(MerkleNodeMissing):
        MerkleAppender(MemoryNodeStore(), 3).append(leaf_hash(b"d"))
    with pytest.raises(MerkleNodeMissing):
        nodes_completed_by_append(MemoryNodeStore(), 1, leaf_hash(b"b"))


def test_store_refuses_conflicting_and_malformed_nodes() -> None:
    store = MemoryNodeStore([((0, 0), leaf_hash(b"a"))])
    store.put((0, 0), leaf_hash(b"a"))
    with pytest.raises(MerkleNodeConflict):
        store.put((0, 0), leaf_hash(b"b"))
    with pytest.raises(InvalidInput):
        store.put((0, 1), b"short")
    with pytest.raises(InvalidInput):
        store.put((-1, 0), leaf_hash(b"a"))
    with pytest.raises(InvalidInput):
        MerkleAppender(store, 1).append(b"\x00" * 31)
    with pytest.raises(InvalidInput):
        root_from_leaf_hashes([b"\x00" * 33])


def test_generators_refuse_impossible_ranges() -> None:
    store = build_store([leaf_hash(b"a"), leaf_hash(b"b")])
    with pytest.raises(ProofRangeInvalid):
        inclusion_proof(store, 2, 2)
    with pytest.raises(ProofRangeInvalid):
        inclusion_proof(store, -1, 2)
    with pytest.raises(ProofRangeInvalid):
        inclusion_proof(store, 0, 0)
    with pytest.raises(ProofRangeInvalid):
        consistency_proof(store, 0, 2)
    with pytest.raises(ProofRangeInvalid):
        consistency_proof(store, 2, 1)
    with pytest.raises(ProofRangeInvalid):
        tree_root(store, -1)
    with pytest.raises(ProofRangeInvalid):
        tree_root(store, 1 << 64)
    assert consistency_proof(store, 2, 2) == []
    assert inclusion_proof(store, 0, 1) == []


# --------------------------------------------------------------------------------------------
# O(log n) reads at a million leaves
# --------------------------------------------------------------------------------------------


MILLION = 10**6


PERIOD = 16


class LazyPeriodicTree:
    """A NodeReader for a tree of n synthetic leaves, leaf i = leaf_hash(bytes([i % 16])).

    It computes exactly the perfect subtrees asked for (cheaply, using the periodicity: above
    level 4 all subtrees of a level are equal), refuses keys outside the tree, and records
    every batch so the tests can count reads.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls: list[list[NodeKey]] = []
        self._cache: dict[NodeKey, bytes] = {}

    def subtree(self, level: int, index: int) -> bytes:
        index = 0 if level >= 4 else index % (PERIOD >> level)  # PERIOD == 2**4
        key = (level, index)
        if key not in self._cache:
            if level == 0:
                self._cache[key] = leaf_hash(bytes([index % PERIOD]))
            else:
                self._cache[key] = node_hash(
                    self.subtree(level - 1, 2 * index), self.subtree(level - 1, 2 * index + 1)
                )
        return self._cache[key]

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        result: dict[NodeKey, bytes] = {}
        for level, index in keys:
            assert level >= 0
            assert index >= 0
            assert (index + 1) << level <= self.size, f"({level}, {index}) is not in the tree"
            result[(level, index)] = self.subtree(level, index)
        return result


def test_lazy_periodic_tree_is_a_real_tree() -> None:
    leaves = [leaf_hash(bytes([i % PERIOD])) for i in range(300)]
    store = build_store(leaves)
    lazy = LazyPeriodicTree(300)
    for size in (1, 2, 15, 16, 17, 31, 33, 64, 100, 255, 256, 257, 300):
        assert tree_root(lazy, size) == tree_root(store, size)
        for index in (0, size // 3, size - 1):
            assert inclusion_proof(lazy, index, size) == inclusion_proof(store, index, size)
        for size1 in (1, size // 2 or 1, size):
            assert consistency_proof(lazy, size1, size) == consistency_proof(store, size1, size)


def test_million_leaf_proofs_read_olog_n_nodes_in_one_batch() -> None:
    tree = LazyPeriodicTree(MILLION)
    bound = 2 * math.ceil(math.log2(MILLION)) + 2

    root = tree_root(tree, MILLION)
    assert len(tree.calls) == 1
    assert len(tree.calls[0]) == bin(MILLION).count("1")

    for index in (0, 1, 12345, MILLION // 2, (1 << 19) - 1, 1 << 19, MILLION - 2, MILLION - 1):
        tree.calls.clear()
        proof = inclusion_proof(tree, index, MILLION)
        assert len(tree.calls) == 1
        assert len(tree.calls[0]) <= bound
        verify_inclusion(leaf_hash(bytes([index % PERIOD])), index, MILLION, proof, root)

    for size1 in (1, 2, 3, 1000, 1 << 19, (1 << 19) + 1, 999_999, MILLION - 1):
        tree.calls.clear()
        proof = consistency_proof(tree, size1, MILLION)
        assert len(tree.calls) == 1
        assert len(tree.calls[0]) <= bound
        root1 = tree_root(tree, size1)
        verify_consistency(size1, MILLION, proof, root1, root)

    tree.calls.clear()
    appender = MerkleAppender(tree, MILLION)
    assert appender.root() == root
    rows = appender.append(leaf_hash(bytes([MILLION % PERIOD])))
    assert len(tree.calls) == 1
    assert len(tree.calls[0]) == bin(MILLION).count("1")
    assert rows[0][0] == (0, MILLION)


def test_million_leaf_root_equals_reference() -> None:
    tree = LazyPeriodicTree(MILLION)
    leaves = [leaf_hash(bytes([i])) for i in range(PERIOD)] * (MILLION // PERIOD)
    assert tree_root(tree, MILLION) == root_from_leaf_hashes(leaves)
