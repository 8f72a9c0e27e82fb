"""The root of a tree of ``size`` leaves from the hashes of a contiguous range of its leaves,
fed one at a time, and the inclusion proofs of the range's first and last leaf (RFC 9162).

A subtree of the RFC 9162 tree that holds no leaf of the range, but whose parent does, is a
left sibling on the first leaf's path or a right sibling on the last leaf's path; every other
node is computed from the range's leaves. When the root so computed is the signed root, every
leaf of the range is proven at its index exactly as its own inclusion proof would prove it
(each proof consists of nodes of this computation), but at the cost of hashing the range once:
about one node hash per leaf instead of log2(size) per leaf, and O(log size) memory whatever the
range's length.

:class:`RangeRoot` folds the leaves, as they are pushed in any batch size, into the range's
maximal complete subtrees (a compact range: every complete subtree of the tree's leaves is a node
of the RFC 9162 tree), then walks the tree from the top as RFC 9162 §2.1.1 defines the MTH,
taking each subtree from the boundary proofs or the compact range.
"""

from __future__ import annotations

import hashlib
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
    """Feed the leaf hashes of ``[start, end)`` in order with :meth:`add` or :meth:`extend`;
    :attr:`root` is then the root of the tree of ``size`` they and the boundary proofs imply.

    The leaves are folded as they come into the range's maximal complete subtrees (a compact
    range: about one node hash per leaf, O(log size) hashes held); :attr:`root` then walks the
    tree from the top, taking each subtree from the boundary proofs or the compact range."""

    __slots__ = ("_known", "_fixed", "_carry", "_next", "_end", "_size", "_root")

    def __init__(
        self,
        start: int,
        end: int,
        size: int,
        first_proof: Sequence[bytes],
        last_proof: Sequence[bytes],
    ) -> None:
        self._known = outside_nodes(start, end, size, first_proof, last_proof)
        # The compact range of the leaves added so far, as complete subtrees (low, high, hash):
        # those whose left sibling lies before the range (no later leaf completes their
        # parent), and per level the last node, if its right sibling has not come yet.
        self._fixed: list[tuple[int, int, bytes]] = []
        self._carry: list[tuple[int, int, bytes] | None] = []
        self._next = start
        self._end = end
        self._size = size
        self._root: bytes | None = None

    @property
    def next_index(self) -> int:
        """The index of the leaf :meth:`add` expects next."""
        return self._next

    @property
    def root(self) -> bytes:
        """The root, once every leaf of the range has been added."""
        if self._next < self._end:
            raise RangeProofInvalid(
                f"leaves {self._next} to {self._end - 1} of the range were never added"
            )
        if self._root is None:
            known = dict(self._known)
            for low, high, value in (*self._fixed, *filter(None, self._carry)):
                known[(low, high)] = value
            self._root = _root_of(known, self._size)
        return self._root

    def add(self, leaf_hash: bytes) -> None:
        """The hash of leaf :attr:`next_index`."""
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """The hashes of the leaves from :attr:`next_index` on, in order.

        Level by level: the nodes the new leaves complete on a level are consecutive, so each
        level is paired and hashed in one list comprehension (about one node hash per leaf,
        with no Python loop step per node)."""
        if self._next + len(leaf_hashes) > self._end:
            raise RangeProofInvalid(
                f"leaf {self._end} is beyond the range, which ends at {self._end}"
            )
        sha256, carry = hashlib.sha256, self._carry
        nodes, first, level = list(leaf_hashes), self._next, 0
        self._next += len(nodes)
        while nodes:
            # ``nodes`` are the level's nodes of index first, first + 1, ...
            if level == len(carry):
                carry.append(None)
            if first % 2:
                left = carry[level]
                if left is not None:  # the last node so far on this level, index first - 1
                    nodes.insert(0, left[2])
                    first -= 1
                    carry[level] = None
                else:  # its left sibling lies before the range
                    self._fixed.append((first << level, (first + 1) << level, nodes.pop(0)))
                    first += 1
            if len(nodes) % 2:
                last = first + len(nodes) - 1
                carry[level] = (last << level, (last + 1) << level, nodes.pop())
            pairs = iter(nodes)
            nodes = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            first //= 2
            level += 1


def _root_of(known: dict[tuple[int, int], bytes], size: int) -> bytes:
    """The root of the tree of ``size`` leaves, every subtree it needs being one of ``known``
    or made of them (RFC 9162 §2.1.1's split)."""

    def subtree(low: int, high: int) -> bytes:
        value = known.get((low, high))
        if value is not None:
            return value
        if high - low == 1:
            raise RangeProofInvalid(f"leaf {low} is neither in the range nor in a proof")
        middle = low + split_point(high - low)
        return node_hash(subtree(low, middle), subtree(middle, high))

    return subtree(0, size)
