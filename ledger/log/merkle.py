"""RFC 9162 Merkle tree: hashing and proof verification.

The tree is the one of RFC 9162 §2.1 (identical to RFC 6962 §2.1): a leaf hash is
SHA-256(0x00 ‖ data), an interior node is SHA-256(0x01 ‖ left ‖ right), the empty tree's root is
SHA-256("") and a tree of n > 1 leaves splits at the largest power of two smaller than n.

This module is all an offline verifier needs (exports, proof bundles). Generating roots and
proofs from the stored subtrees, and appending leaves, is ``ledger.log.merkle_store``.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 in the shape of the transparency-dev/merkle
``proof`` package (the reference behaviour the published test vectors come from), plus the edge
policies of verifiable-log.md §1: hashes are exactly 32 bytes, ``index < size``, a consistency
proof from the empty tree is rejected, equal sizes need an empty proof and equal roots, and a
proof with an extra, missing or altered element fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger.errors import InvalidInput, ProofError
from ledger.log.encoding import b64encode

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

MAX_TREE_SIZE = (1 << 64) - 1
"""Tree sizes and leaf indices are uint64 in RFC 9162 (§4.1 ``tree_size``, ``leaf_index``)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree, MTH({}) = SHA-256() (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class InclusionProofInvalid(ProofError):
    """An inclusion proof (RFC 9162 §2.1.3) does not prove the leaf is in the tree."""

    problem_type = "inclusion-proof-invalid"
    title = "An inclusion proof (RFC 9162 §2.1.3) does not prove the leaf is in the tree"
    rule = "inclusion-proof"


class ConsistencyProofInvalid(ProofError):
    """A consistency proof (RFC 9162 §2.1.4) does not prove the second tree extends the first."""

    problem_type = "consistency-proof-invalid"
    title = "A consistency proof (RFC 9162 §2.1.4) does not prove the second tree extends the first"
    rule = "consistency-proof"


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 ‖ d) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node hash SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def require_hash(value: bytes, what: str, error: type[InvalidInput] | type[ProofError]) -> None:
    """Raise ``error`` unless ``value`` is a 32-byte hash."""
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, bytes | bytearray | memoryview) else None
        raise error(f"{what} must be {HASH_SIZE} bytes, got {length}", length=length)


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): RFC 9162 §2.1.1's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Reference MTH straight from RFC 9162 §2.1.1's recursive definition: O(n), no store."""
    for position, value in enumerate(leaf_hashes):
        require_hash(value, f"leaf hash {position}", InvalidInput)
    if not leaf_hashes:
        return EMPTY_ROOT

    def mth(low: int, high: int) -> bytes:
        if high - low == 1:
            return leaf_hashes[low]
        middle = low + split_point(high - low)
        return node_hash(mth(low, middle), mth(middle, high))

    return mth(0, len(leaf_hashes))


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def _decompose_inclusion_proof(index: int, size: int) -> tuple[int, int]:
    """(inner, border) lengths of an inclusion proof, as transparency-dev/merkle computes them.

    ``inner`` proof elements are siblings below the point where the leaf's path leaves the right
    border of the tree; ``border`` elements are left siblings on that border.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for position, sibling in enumerate(proof):
        if (index >> position) & 1 == 0:
            seed = node_hash(seed, sibling)
        else:
            seed = node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for position, sibling in enumerate(proof):
        if (index >> position) & 1 == 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof implies (RFC 9162 §2.1.3.2 steps 1-4), after strict checks.

    Raises :class:`InclusionProofInvalid` if the index is not below the size, a hash is not 32
    bytes, or the proof has more or fewer elements than a path for ``(index, tree_size)`` has.
    """
    if not 0 < tree_size <= MAX_TREE_SIZE:
        raise InclusionProofInvalid(
            f"tree size {tree_size} cannot contain a leaf (must be 1..2**64-1)",
            tree_size=tree_size,
        )
    if not 0 <= index < tree_size:
        raise InclusionProofInvalid(
            f"leaf index {index} is beyond the tree size {tree_size}",
            index=index,
            tree_size=tree_size,
        )
    require_hash(leaf_hash, "leaf hash", InclusionProofInvalid)
    inner, border = _decompose_inclusion_proof(index, tree_size)
    if len(proof) != inner + border:
        raise InclusionProofInvalid(
            f"inclusion proof for leaf {index} in a tree of size {tree_size} must have "
            f"{inner + border} hashes, got {len(proof)}",
            index=index,
            tree_size=tree_size,
            expected=inner + border,
            got=len(proof),
        )
    for position, sibling in enumerate(proof):
        require_hash(sibling, f"inclusion proof element {position}", InclusionProofInvalid)
    computed = _chain_inner(bytes(leaf_hash), proof[:inner], index)
    return _chain_border_right(computed, proof[inner:])


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns ``None`` on success, raises :class:`InclusionProofInvalid` with a
    message naming what failed otherwise.
    """
    require_hash(root, "root hash", InclusionProofInvalid)
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    if computed != root:
        raise InclusionProofInvalid(
            f"inclusion proof for leaf {index} leads to root {b64encode(computed)}, "
            f"not the expected root {b64encode(bytes(root))} of the tree of size {tree_size}",
            index=index,
            tree_size=tree_size,
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``.

    RFC 9162 §2.1.4.2 (shape of transparency-dev/merkle ``proof.VerifyConsistency``). Returns
    ``None`` on success, raises :class:`ConsistencyProofInvalid` naming what failed otherwise.
    """
    require_hash(root1, "first root hash", ConsistencyProofInvalid)
    require_hash(root2, "second root hash", ConsistencyProofInvalid)
    details = {"size1": size1, "size2": size2}
    if not (0 <= size1 <= MAX_TREE_SIZE and 0 <= size2 <= MAX_TREE_SIZE):
        raise ConsistencyProofInvalid(
            f"tree sizes {size1} and {size2} must be in 0..2**64-1", **details
        )
    if size2 < size1:
        raise ConsistencyProofInvalid(
            f"second tree size {size2} is smaller than first tree size {size1}", **details
        )
    if size1 == size2:
        if proof:
            raise ConsistencyProofInvalid(
                f"trees of equal size {size1} need an empty proof, got {len(proof)} hashes",
                **details,
            )
        if root1 != root2:
            raise ConsistencyProofInvalid(
                f"trees of equal size {size1} have different roots "
                f"{b64encode(bytes(root1))} and {b64encode(bytes(root2))}",
                **details,
            )
        return
    if size1 == 0:
        raise ConsistencyProofInvalid(
            "a consistency proof from the empty tree is meaningless", **details
        )
    if not proof:
        raise ConsistencyProofInvalid(
            f"empty consistency proof for sizes {size1} < {size2}", **details
        )

    inner, border = _decompose_inclusion_proof(size1 - 1, size2)
    shift = ((size1 & -size1).bit_length()) - 1  # trailing zero bits of size1
    inner -= shift  # the proof starts at the level of the largest perfect subtree ending at size1
    if size1 == 1 << shift:
        seed, start = bytes(root1), 0  # size1 is itself that perfect subtree: its root is root1
    else:
        seed, start = proof[0], 1
    expected = start + inner + border
    if len(proof) != expected:
        raise ConsistencyProofInvalid(
            f"consistency proof from size {size1} to {size2} must have {expected} hashes, "
            f"got {len(proof)}",
            expected=expected,
            got=len(proof),
            **details,
        )
    for position, element in enumerate(proof):
        require_hash(element, f"consistency proof element {position}", ConsistencyProofInvalid)
    seed = bytes(seed)
    path = proof[start:]
    mask = (size1 - 1) >> shift

    computed1 = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if computed1 != root1:
        raise ConsistencyProofInvalid(
            f"consistency proof leads to first root {b64encode(computed1)}, not the expected "
            f"{b64encode(bytes(root1))} of the tree of size {size1}",
            **details,
        )
    computed2 = _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])
    if computed2 != root2:
        raise ConsistencyProofInvalid(
            f"consistency proof leads to second root {b64encode(computed2)}, not the expected "
            f"{b64encode(bytes(root2))} of the tree of size {size2}",
            **details,
        )
