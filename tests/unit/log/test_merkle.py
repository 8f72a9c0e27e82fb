"""RFC 9162 Merkle tree: published vectors, reference roots, O(log n) reads, tamper properties."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput, ProofError
from ledger.log.merkle import (
    EMPTY_ROOT,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    MemoryNodeStore,
    MerkleAppender,
    MerkleNodeConflict,
    MerkleNodeMissing,
    NodeKey,
    ProofRangeInvalid,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "rfc9162"
VECTOR_FILES = sorted(VECTOR_DIR.rglob("*.json"))

# The eight leaves of the transparency-dev/merkle happy-path trees (verifiable-log.md §4).
RFC_LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def load_vector(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def build_store(leaf_hashes: Sequence[bytes]) -> MemoryNodeStore:
    store = MemoryNodeStore()
    appender = MerkleAppender(store, 0)
    for value in leaf_hashes:
        store.put_many(appender.append(value))
    return store


class CountingReader:
    """Wraps a reader; records every batch asked for."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner = inner
        self.calls: list[list[NodeKey]] = []

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        return self.inner.read_nodes(keys)


# --------------------------------------------------------------------------------------------
# Published vectors (transparency-dev/merkle testdata)
# --------------------------------------------------------------------------------------------


def test_vectors_are_present() -> None:
    assert (VECTOR_DIR / "LICENSE-transparency-dev-merkle").is_file()
    assert len([p for p in VECTOR_FILES if "inclusion" in p.parts]) >= 40
    assert len([p for p in VECTOR_FILES if "consistency" in p.parts]) >= 40


@pytest.mark.parametrize(
    "path", VECTOR_FILES, ids=[str(p.relative_to(VECTOR_DIR)) for p in VECTOR_FILES]
)
def test_rfc9162_vector(path: Path) -> None:
    vector = load_vector(path)
    proof = [b64(element) for element in vector["proof"] or []]
    if "leafIdx" in vector:

        def run() -> None:
            verify_inclusion(
                b64(vector["leafHash"]),
                vector["leafIdx"],
                vector["treeSize"],
                proof,
                b64(vector["root"]),
            )

    else:

        def run() -> None:
            verify_consistency(
                vector["size1"],
                vector["size2"],
                proof,
                b64(vector["root1"]),
                b64(vector["root2"]),
            )

    if vector["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


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


# --------------------------------------------------------------------------------------------
# Reference roots
# --------------------------------------------------------------------------------------------


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


def test_hash_prefixes() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert node_hash(left, right) != node_hash(right, left)
    assert leaf_hash(left + right) != node_hash(left, right)


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
# Verifier edge policies (verifiable-log.md §1)
# --------------------------------------------------------------------------------------------


def test_verifier_edge_policies() -> None:
    hashes = [leaf_hash(f"entry {i}".encode()) for i in range(5)]
    store = build_store(hashes)
    root3, root5 = tree_root(store, 3), tree_root(store, 5)
    proof = consistency_proof(store, 3, 5)

    with pytest.raises(ConsistencyProofInvalid, match="empty tree"):
        verify_consistency(0, 5, proof, EMPTY_ROOT, root5)
    with pytest.raises(ConsistencyProofInvalid, match="empty tree"):
        verify_consistency(0, 5, [], EMPTY_ROOT, root5)
    verify_consistency(5, 5, [], root5, root5)
    with pytest.raises(ConsistencyProofInvalid, match="empty proof"):
        verify_consistency(5, 5, [root5], root5, root5)
    with pytest.raises(ConsistencyProofInvalid, match="different roots"):
        verify_consistency(5, 5, [], root3, root5)
    with pytest.raises(ConsistencyProofInvalid, match="smaller"):
        verify_consistency(5, 3, proof, root5, root3)
    with pytest.raises(ConsistencyProofInvalid, match="empty consistency proof"):
        verify_consistency(3, 5, [], root3, root5)
    with pytest.raises(ConsistencyProofInvalid, match="32 bytes"):
        verify_consistency(3, 5, proof, root3[:31], root5)
    with pytest.raises(ConsistencyProofInvalid, match="32 bytes"):
        verify_consistency(3, 5, [*proof[:-1], proof[-1] + b"\x00"], root3, root5)
    with pytest.raises(ConsistencyProofInvalid, match="2\\*\\*64"):
        verify_consistency(3, 1 << 64, proof, root3, root5)

    inclusion = inclusion_proof(store, 2, 5)
    verify_inclusion(hashes[2], 2, 5, inclusion, root5)
    with pytest.raises(InclusionProofInvalid, match="32 bytes"):
        verify_inclusion(hashes[2][:31], 2, 5, inclusion, root5)
    with pytest.raises(InclusionProofInvalid, match="32 bytes"):
        verify_inclusion(hashes[2], 2, 5, inclusion, root5 + b"\x00")
    with pytest.raises(InclusionProofInvalid, match="32 bytes"):
        verify_inclusion(hashes[2], 2, 5, [inclusion[0][:16], *inclusion[1:]], root5)
    with pytest.raises(InclusionProofInvalid, match="beyond"):
        verify_inclusion(hashes[2], 5, 5, inclusion, root5)
    with pytest.raises(InclusionProofInvalid, match="beyond"):
        verify_inclusion(hashes[2], -1, 5, inclusion, root5)
    with pytest.raises(InclusionProofInvalid, match="cannot contain"):
        verify_inclusion(hashes[2], 0, 0, inclusion, root5)
    with pytest.raises(InclusionProofInvalid, match="must have 3 hashes, got 4"):
        verify_inclusion(hashes[2], 2, 5, [*inclusion, root3], root5)
    with pytest.raises(InclusionProofInvalid, match="must have 3 hashes, got 2"):
        verify_inclusion(hashes[2], 2, 5, inclusion[1:], root5)
    with pytest.raises(InclusionProofInvalid, match="not the expected root"):
        verify_inclusion(hashes[3], 2, 5, inclusion, root5)
    assert root_from_inclusion_proof(hashes[2], 2, 5, inclusion) == root5


# --------------------------------------------------------------------------------------------
# Independent RFC 9162 oracles (literal transcriptions of §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------


def rfc_verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_hash: bytes, second_hash: bytes
) -> bool:
    if first <= 0 or second < first:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def accepts_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except InclusionProofInvalid:
        return False
    return True


def accepts_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ConsistencyProofInvalid:
        return False
    return True


def flip_bit(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------

MAX_PROPERTY_SIZE = 3000


@cache
def property_tree() -> tuple[tuple[bytes, ...], MemoryNodeStore]:
    """One store of 3000 distinct leaves: it holds every prefix tree, so each size is free."""
    hashes = tuple(leaf_hash(f"property leaf {i}".encode()) for i in range(MAX_PROPERTY_SIZE))
    return hashes, build_store(hashes)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=MAX_PROPERTY_SIZE))
def test_inclusion_proofs_verify_and_resist_tampering(data: st.DataObject, size: int) -> None:
    hashes, store = property_tree()
    root = tree_root(store, size)
    assert root == root_from_leaf_hashes(hashes[:size])
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(store, index, size)
    assert len(proof) <= (size - 1).bit_length()  # ceil(log2(size))
    verify_inclusion(hashes[index], index, size, proof, root)
    assert rfc_verify_inclusion(hashes[index], index, size, proof, root)

    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    for position in range(len(proof)):
        tampered = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
        assert not accepts_inclusion(hashes[index], index, size, tampered, root)
    assert not accepts_inclusion(hashes[index], index, size, proof, flip_bit(root, bit))
    assert not accepts_inclusion(flip_bit(hashes[index], bit), index, size, proof, root)
    assert not accepts_inclusion(hashes[index], index, size, [*proof, root], root)
    if proof:
        assert not accepts_inclusion(hashes[index], index, size, proof[:-1], root)
        assert not accepts_inclusion(hashes[index], index, size, proof[1:], root)

    # Another index with the same proof and root never verifies.
    other_index = data.draw(st.integers(min_value=-1, max_value=size), label="other index")
    if other_index != index:
        assert not accepts_inclusion(hashes[index], other_index, size, proof, root)
    # The root binds the tree size: another size verifies only if the RFC algorithm walks the
    # very same path (same shape), never otherwise.
    other_size = data.draw(st.integers(min_value=0, max_value=2 * size + 1), label="other size")
    assert accepts_inclusion(hashes[index], index, other_size, proof, root) == rfc_verify_inclusion(
        hashes[index], index, other_size, proof, root
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data(), size2=st.integers(min_value=1, max_value=MAX_PROPERTY_SIZE))
def test_consistency_proofs_verify_and_resist_tampering(data: st.DataObject, size2: int) -> None:
    _hashes, store = property_tree()
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    root1, root2 = tree_root(store, size1), tree_root(store, size2)
    proof = consistency_proof(store, size1, size2)
    verify_consistency(size1, size2, proof, root1, root2)
    assert rfc_verify_consistency(size1, size2, proof, root1, root2)
    assert len(proof) <= 2 * (size2 - 1).bit_length() + 1

    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    for position in range(len(proof)):
        tampered = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
        assert not accepts_consistency(size1, size2, tampered, root1, root2)
    assert not accepts_consistency(size1, size2, proof, flip_bit(root1, bit), root2)
    assert not accepts_consistency(size1, size2, proof, root1, flip_bit(root2, bit))
    assert not accepts_consistency(size1, size2, [*proof, root2], root1, root2)
    assert not accepts_consistency(size1, size2, [root1, *proof], root1, root2)
    if proof:
        assert not accepts_consistency(size1, size2, proof[:-1], root1, root2)
        assert not accepts_consistency(size1, size2, proof[1:], root1, root2)
    if size1 != size2:
        assert not accepts_consistency(size1, size2, proof, root2, root1)

    other1 = data.draw(st.integers(min_value=0, max_value=size2 + 1), label="other size1")
    other2 = data.draw(st.integers(min_value=0, max_value=2 * size2 + 1), label="other size2")
    for s1, s2 in ((other1, size2), (size1, other2)):
        if (s1, s2) != (size1, size2):
            assert accepts_consistency(s1, s2, proof, root1, root2) == rfc_verify_consistency(
                s1, s2, proof, root1, root2
            )


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


def test_tree_size_is_bound_by_the_root_not_by_the_path() -> None:
    """RFC 9162 §2.1.3.2 (and transparency-dev/merkle) accept another tree size whose audit path
    has the same shape; it is the signed checkpoint that binds the size to the root."""
    hashes = [leaf_hash(leaf) for leaf in RFC_LEAVES]
    store = build_store(hashes)
    proof, root = inclusion_proof(store, 0, 8), tree_root(store, 8)
    for size in (5, 6, 7, 8):
        verify_inclusion(hashes[0], 0, size, proof, root)
        assert rfc_verify_inclusion(hashes[0], 0, size, proof, root)
    for size in (4, 9, 16):
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(hashes[0], 0, size, proof, root)
