"""RFC 9162 Merkle hashing and proof verification (ledger/log/merkle.py): published vectors,
edge policies, independent RFC oracles and tamper properties."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ProofError
from ledger.log.merkle import (
    EMPTY_ROOT,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.log.merkle_store import MemoryNodeStore, consistency_proof, inclusion_proof, tree_root
from tests.unit.log.trees import RFC_LEAVES, VECTOR_DIR, VECTOR_FILES, b64, build_store, load_vector

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


def test_hash_prefixes() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert node_hash(left, right) != node_hash(right, left)
    assert leaf_hash(left + right) != node_hash(left, right)


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
