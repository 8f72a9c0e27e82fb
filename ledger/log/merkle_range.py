"""The root of a tree of ``size`` leaves from the hashes of a contiguous range of its leaves,
fed one at a time, and the inclusion proofs of the range's first and last leaf (RFC 9162).

A subtree of the RFC 9162 tree that holds no leaf of the range, but whose parent does, is a
left sibling on the first leaf's path or a right sibling on the last leaf's path; every other
node is computed from the range's leaves. When the root so computed is the signed root, every
leaf of the range is proven at its index exactly as its own inclusion proof would prove it
(each proof consists of nodes of this computation), but at the cost of hashing the range once:
about one node hash per leaf instead of log2(size) per leaf, and O(log size) memory whatever the
range's length.

:class:`RangeRoot` walks the tree depth first, left to right, as RFC 9162 §2.1.1 defines the
MTH, stopping whenever it needs the next leaf: a push-style traversal, so a reader can stream
entries through it in any batch size.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import ProofError
from ledger.log.merkle import HASH_SIZE, node_hash, split_point
from ledger.log.merkle_store import inclusion_ranges


class RangeProofInvalid(ProofError):
    """The range's boundary proofs have the wrong shape, or leaves are missing or extra."""

    problem_type = "range-proof-invalid"
    title = "The range's boundary proofs have the wrong shape, or leaves are missing or extra"
    rule = "range-proof"


def outside_nodes(
    start: int, end: int, size: int, first_proof: Sequence[bytes], last_proof: Sequence[bytes]
) -> dict[tuple[int, int], bytes]:
    """The subtrees ``(low, high)`` outside ``[start, end)`` that the root needs, from the
    inclusion proofs (leaf level first) of leaves ``start`` and ``end - 1``."""
    if not 0 <= start < end <= size:
        raise RangeProofInvalid(
            f"leaf range [{start}, {end}) is empty or not within the tree of size {size}"
        )
    known: dict[tuple[int, int], bytes] = {}
    for index, proof in ((start, first_proof), (end - 1, last_proof)):
        ranges = inclusion_ranges(index, size)
        if len(ranges) != len(proof) or any(len(h) != HASH_SIZE for h in proof):
            raise RangeProofInvalid(
                f"the inclusion proof of leaf {index} in the tree of size {size} has "
                f"{len(proof)} elements or a malformed hash; it must have {len(ranges)} hashes",
                index=index,
            )
        for (low, high), value in zip(ranges, proof, strict=True):
            if high <= start or low >= end:
                known[(low, high)] = bytes(value)
    return known


class RangeRoot:
    """Feed the leaf hashes of ``[start, end)`` in order with :meth:`add`; :attr:`root` is then
    the root of the tree of ``size`` they and the boundary proofs imply."""

    __slots__ = ("_known", "_rights", "_lefts", "_next", "_end", "_root")

    def __init__(
        self,
        start: int,
        end: int,
        size: int,
        first_proof: Sequence[bytes],
        last_proof: Sequence[bytes],
    ) -> None:
        self._known = outside_nodes(start, end, size, first_proof, last_proof)
        # From the root down to the current node: each ancestor's right child (middle, high),
        # and its left child's hash once known.
        self._rights: list[tuple[int, int]] = []
        self._lefts: list[bytes | None] = []
        self._next = start
        self._end = end
        self._root: bytes | None = None
        self._descend(0, size)

    @property
    def next_index(self) -> int:
        """The index of the leaf :meth:`add` expects next."""
        return self._next

    @property
    def root(self) -> bytes:
        """The root, once every leaf of the range has been added."""
        if self._root is None:
            raise RangeProofInvalid(
                f"leaves {self._next} to {self._end - 1} of the range were never added"
            )
        return self._root

    def add(self, leaf_hash: bytes) -> None:
        """The hash of leaf :attr:`next_index`."""
        if self._root is not None or self._next >= self._end:
            raise RangeProofInvalid(
                f"leaf {self._next} is beyond the range, which ends at {self._end}"
            )
        self._next += 1
        self._ascend(leaf_hash)

    def _descend(self, low: int, high: int) -> None:
        """Go down from the subtree ``[low, high)`` to the next leaf to add, taking known
        subtrees as they come."""
        known = self._known
        while True:
            value = known.get((low, high))
            if value is not None:
                self._ascend(value)
                return
            if high - low == 1:
                return  # wait for the leaf
            middle = low + split_point(high - low)
            self._rights.append((middle, high))
            self._lefts.append(None)
            high = middle

    def _ascend(self, value: bytes) -> None:
        """``value`` is the hash of the current subtree: combine it upwards, then go down into
        the next right child that is still to compute."""
        lefts = self._lefts
        while lefts:
            left = lefts[-1]
            if left is None:
                lefts[-1] = value
                self._descend(*self._rights[-1])
                return
            lefts.pop()
            self._rights.pop()
            value = node_hash(left, value)
        self._root = value
