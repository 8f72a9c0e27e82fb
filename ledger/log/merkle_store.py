"""The RFC 9162 Merkle tree over stored subtrees: roots and proofs in O(log n) reads, and appends.

Storage model (verifiable-log.md §1, "Storage"): the store keeps the root hash of every *perfect*
subtree that exists in the log, keyed by ``(level, index)``: the subtree covering leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 holds the leaf hashes. The Merkle Tree Hash
of any other range that RFC 9162 ever needs (the right border of a tree whose size is not a power
of two) is the right fold of the perfect subtrees of the range's binary decomposition. Every
generator below therefore *plans* the perfect-subtree keys it needs, reads them with one batched
:meth:`NodeReader.read_nodes` call, and assembles the answer: O(log n) keys, never a rebuild.

Hashing and the verification of the proofs made here are ``ledger.log.merkle``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ledger.errors import IntegrityError, InvalidInput
from ledger.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_TREE_SIZE,
    node_hash,
    require_hash,
    split_point,
)

NodeKey = tuple[int, int]
"""``(level, index)``: the perfect subtree of leaves ``[index << level, (index + 1) << level)``."""


class TreeSizeOutOfRange(InvalidInput):
    """A requested index or tree size lies beyond the current log."""

    problem_type = "tree-size-out-of-range"
    title = "A requested index or tree size lies beyond the current log"
    rule = "tree-size"


class ProofRangeInvalid(InvalidInput):
    """A proof or root was requested for an index or tree sizes that cannot have one."""

    problem_type = "proof-range-invalid"
    title = "A proof or root was requested for an index or tree sizes that cannot have one"
    rule = "proof-range"


class MerkleNodeMissing(IntegrityError):
    """The node store lacks (or holds a malformed hash for) a subtree the tree must contain."""

    problem_type = "merkle-node-missing"
    title = "The node store lacks (or holds a malformed hash for) a subtree the tree must contain"
    rule = "merkle-node-missing"


class MerkleNodeConflict(IntegrityError):
    """A node would be stored with a hash different from the one already stored for its key."""

    problem_type = "merkle-node-conflict"
    title = "A node would be stored with a hash different from the one already stored for its key"
    rule = "merkle-node-conflict"


class NodeReader(Protocol):
    """Batched read access to stored perfect-subtree hashes.

    One call is one round trip (one database query in the storage adapter). Keys that are not
    stored are simply absent from the returned mapping.
    """

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Hashes of the stored ``keys``, fetched in one round trip."""
        ...


class MemoryNodeStore:
    """Dict-backed :class:`NodeReader` for tests and for offline verification tools."""

    __slots__ = ("_nodes",)

    def __init__(self, nodes: Iterable[tuple[NodeKey, bytes]] = ()) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self.put_many(nodes)

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the stored hashes of ``keys``; unknown keys are left out."""
        nodes = self._nodes
        return {key: nodes[key] for key in keys if key in nodes}

    def put(self, key: NodeKey, hash_: bytes) -> None:
        """Store one node; storing the same hash twice is a no-op, a different one an error."""
        level, index = key
        if level < 0 or index < 0:
            raise InvalidInput(f"node key {key!r} must have a non-negative level and index")
        require_hash(hash_, f"hash of node {key!r}", InvalidInput)
        existing = self._nodes.get(key)
        if existing is not None and existing != hash_:
            raise MerkleNodeConflict(
                f"node {key!r} is already stored with a different hash", key=key
            )
        self._nodes[key] = bytes(hash_)

    def put_many(self, rows: Iterable[tuple[NodeKey, bytes]]) -> None:
        """Store every ``(key, hash)`` row, e.g. the rows returned by :class:`MerkleAppender`."""
        for key, hash_ in rows:
            self.put(key, hash_)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, key: object) -> bool:
        return key in self._nodes


# --------------------------------------------------------------------------------------------
# Range arithmetic
# --------------------------------------------------------------------------------------------


def _decompose(start: int, end: int) -> list[NodeKey]:
    """Perfect subtrees covering ``[start, end)``, left to right, largest first.

    Precondition (true of every range RFC 9162's recursion produces): ``start`` is a multiple of
    the smallest power of two that is >= ``end - start``. Then each piece is aligned and the right
    fold of the pieces' hashes equals MTH(D[start:end]), because each step of the fold is exactly
    the RFC's split at the largest power of two smaller than the remaining range's size.
    """
    keys: list[NodeKey] = []
    position = start
    while position < end:
        level = (end - position).bit_length() - 1
        keys.append((level, position >> level))
        position += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of the decomposition hashes: h0 ⊕ (h1 ⊕ (… ⊕ hk))."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PATH(index, D[0:size]), leaf level first (RFC 9162 §2.1.3.1)."""
    ranges: list[tuple[int, int]] = []
    low, high = 0, size
    while high - low > 1:
        middle = low + split_point(high - low)
        if index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), 0 < size1 < size2.

    Iterative form of SUBPROOF(m, D[low:high], b): the recursion always descends into one child,
    emitting the other child's MTH, which the RFC appends *after* the sub-proof; reversing the
    emission order yields the RFC order.
    """
    ranges: list[tuple[int, int]] = []
    low, high = 0, size2
    whole_old_tree = True  # RFC 9162's flag b
    while size1 != high:
        middle = low + split_point(high - low)
        if size1 <= middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


def _read_ranges(reader: NodeReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each range, with all perfect subtrees fetched in ONE ``read_nodes`` call."""
    plans = [_decompose(low, high) for low, high in ranges]
    wanted = list(dict.fromkeys(key for plan in plans for key in plan))
    if not wanted:
        return []
    found = reader.read_nodes(wanted)
    for key in wanted:
        value = found.get(key)
        if value is None or len(value) != HASH_SIZE:
            raise MerkleNodeMissing(
                f"Merkle node (level {key[0]}, index {key[1]}) is missing from the store "
                "or is not a 32-byte hash",
                level=key[0],
                index=key[1],
            )
    return [_fold([found[key] for key in plan]) for plan in plans]


def _check_size(size: int, what: str) -> None:
    if size < 0 or size > MAX_TREE_SIZE:
        raise ProofRangeInvalid(f"{what} {size} is outside 0..2**64-1", size=size)


# --------------------------------------------------------------------------------------------
# Proof generation
# --------------------------------------------------------------------------------------------


def tree_root(reader: NodeReader, size: int) -> bytes:
    """MTH(D[0:size]) (RFC 9162 §2.1.1) from the perfect subtrees of size's binary decomposition.

    Reads popcount(size) <= log2(size) + 1 nodes in one batch.
    """
    _check_size(size, "tree size")
    if size == 0:
        return EMPTY_ROOT
    return _read_ranges(reader, [(0, size)])[0]


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-level sibling first.

    At most one sibling (the right border) is not a perfect subtree, so at most
    2 * ceil(log2(size)) nodes are read, in one batch.
    """
    _check_size(size, "tree size")
    if not 0 <= index < size:
        raise ProofRangeInvalid(
            f"leaf index {index} is not in a tree of size {size}", index=index, size=size
        )
    return _read_ranges(reader, inclusion_ranges(index, size))


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1.

    Equal sizes give the empty proof. A proof from the empty tree is refused (verifiable-log.md
    §1: it is meaningless, and :func:`verify_consistency` rejects it). At most one element is not
    a perfect subtree, so O(log size2) nodes are read, in one batch.
    """
    _check_size(size1, "first tree size")
    _check_size(size2, "second tree size")
    if size1 > size2:
        raise ProofRangeInvalid(
            f"first tree size {size1} is larger than second tree size {size2}",
            size1=size1,
            size2=size2,
        )
    if size1 == 0:
        raise ProofRangeInvalid(
            "a consistency proof from the empty tree is meaningless", size1=size1, size2=size2
        )
    if size1 == size2:
        return []
    return _read_ranges(reader, _consistency_ranges(size1, size2))


# --------------------------------------------------------------------------------------------
# Appending
# --------------------------------------------------------------------------------------------


def _left_sibling_keys(index: int) -> list[NodeKey]:
    """Left siblings merged when leaf ``index`` is appended: one per trailing 1-bit of index."""
    keys: list[NodeKey] = []
    level = 0
    while (index >> level) & 1:
        keys.append((level, (index >> level) - 1))
        level += 1
    return keys


def _combine_upwards(
    index: int, leaf: bytes, siblings: Mapping[NodeKey, bytes]
) -> list[tuple[NodeKey, bytes]]:
    rows: list[tuple[NodeKey, bytes]] = [((0, index), leaf)]
    current = leaf
    for level, sibling_index in _left_sibling_keys(index):
        current = node_hash(siblings[(level, sibling_index)], current)
        rows.append(((level + 1, sibling_index >> 1), current))
    return rows


def nodes_completed_by_append(
    reader: NodeReader,
    index: int,
    leaf_hash: bytes,
    pending: Mapping[NodeKey, bytes] | None = None,
) -> list[tuple[NodeKey, bytes]]:
    """Rows to store when leaf ``index`` (= the current tree size) is appended.

    The rows are the leaf ``(0, index)`` and every perfect subtree the leaf completes: while the
    node's index at a level is odd it is merged with its left sibling at that level. Siblings are
    taken from ``pending`` (nodes written earlier in the same transaction and not yet visible to
    ``reader``) or else read from ``reader`` in one batch.
    """
    _check_size(index, "leaf index")
    require_hash(leaf_hash, "leaf hash", InvalidInput)
    known: dict[NodeKey, bytes] = dict(pending or {})
    missing = [key for key in _left_sibling_keys(index) if key not in known]
    if missing:
        found = reader.read_nodes(missing)
        for key in missing:
            value = found.get(key)
            if value is None or len(value) != HASH_SIZE:
                raise MerkleNodeMissing(
                    f"cannot append leaf {index}: left sibling (level {key[0]}, index {key[1]}) "
                    "is missing from the store",
                    level=key[0],
                    index=key[1],
                )
            known[key] = value
    return _combine_upwards(index, leaf_hash, known)


class MerkleAppender:
    """Appends leaves to a tree of known size, keeping the frontier in memory.

    The frontier is the perfect subtrees of the binary decomposition of the current size, one per
    set bit: exactly the left siblings any future append can need. It is read from the store once
    (lazily, on first use, one batch) and then maintained in memory, so many leaves can be
    appended in one transaction before any row is flushed.
    """

    __slots__ = ("_frontier", "_reader", "_size")

    def __init__(
        self, reader: NodeReader, size: int, frontier: Mapping[int, bytes] | None = None
    ) -> None:
        """``frontier``, when the caller knows it (``level -> hash`` of the perfect subtrees of
        a tree of ``size`` leaves, as :meth:`frontier` returned it), saves reading it."""
        _check_size(size, "tree size")
        self._reader = reader
        self._size = size
        self._frontier: dict[int, bytes] | None = None
        if frontier is not None:
            if sorted(frontier) != [lvl for lvl in range(size.bit_length()) if (size >> lvl) & 1]:
                raise ValueError(f"not the frontier of a tree of size {size}")
            self._frontier = dict(frontier)

    @property
    def size(self) -> int:
        """The number of leaves in the tree, including the ones appended through this object."""
        return self._size

    def _load_frontier(self) -> dict[int, bytes]:
        if self._frontier is None:
            size = self._size
            keys = [
                (level, (size >> level) - 1)
                for level in range(size.bit_length())
                if (size >> level) & 1
            ]
            frontier: dict[int, bytes] = {}
            if keys:
                found = self._reader.read_nodes(keys)
                for key in keys:
                    value = found.get(key)
                    if value is None or len(value) != HASH_SIZE:
                        raise MerkleNodeMissing(
                            f"frontier node (level {key[0]}, index {key[1]}) of a tree of size "
                            f"{size} is missing from the store",
                            level=key[0],
                            index=key[1],
                        )
                    frontier[key[0]] = value
            self._frontier = frontier
        return self._frontier

    def frontier(self) -> dict[int, bytes]:
        """The frontier of the current tree (``level -> hash``), read if not yet known."""
        return dict(self._load_frontier())

    def append(self, leaf_hash: bytes) -> list[tuple[NodeKey, bytes]]:
        """Append one leaf hash; return the rows to store (leaf first, then completed subtrees)."""
        require_hash(leaf_hash, "leaf hash", InvalidInput)
        frontier = self._load_frontier()
        index = self._size
        if index >= MAX_TREE_SIZE:
            raise ProofRangeInvalid("the tree is full (2**64-1 leaves)", size=index)
        siblings = {
            (level, sibling_index): frontier[level]
            for level, sibling_index in _left_sibling_keys(index)
        }
        rows = _combine_upwards(index, bytes(leaf_hash), siblings)
        for level, _sibling_index in siblings:
            del frontier[level]
        top_key, top_hash = rows[-1]
        frontier[top_key[0]] = top_hash
        self._size = index + 1
        return rows

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[NodeKey, bytes]]:
        """Append several leaf hashes in order; return all rows to store."""
        rows: list[tuple[NodeKey, bytes]] = []
        for value in leaf_hashes:
            rows.extend(self.append(value))
        return rows

    def root(self) -> bytes:
        """MTH of the current tree, folded from the frontier (no further reads)."""
        frontier = self._load_frontier()
        if not frontier:
            return EMPTY_ROOT
        return _fold([frontier[level] for level in sorted(frontier, reverse=True)])
