"""The Merkle log over the event leaves, as in RFC 9162 (Certificate Transparency v2) §2.1.

Leaves arrive as their leaf hashes, ``SHA-256(0x00 || canonical bytes)`` (see
:mod:`ledger.integrity`); an interior node is ``SHA-256(0x01 || left || right)``;
``MTH`` of ``n > 1`` leaves splits at ``k``, the largest power of two strictly
less than ``n``; the empty tree hashes to ``SHA-256(b"")``.

Storage model: every complete, aligned subtree is stored as it fills, keyed by
``(level, index)``; node ``(L, i)`` covers leaves ``[i * 2**L, (i + 1) * 2**L)``
and level 0 holds the leaf hashes themselves. Every split point of the RFC
recursion is aligned, so any hash a root or a proof needs is assembled from
``O(log n)`` stored nodes. Each operation therefore comes in two halves: a
``*_nodes`` function naming the stored nodes it needs (fetch them in one query)
and a function combining the fetched ``Mapping[Node, bytes]``. A missing node
raises ``KeyError`` whose argument is the node.

Verification follows the RFC algorithms (§2.1.3.2, §2.1.4.2) step by step and
returns ``False``, never raises, on malformed input.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from ledger.log import speedups

__all__ = [
    "EMPTY_ROOT",
    "Node",
    "TreeBuilder",
    "consistency_proof",
    "consistency_proof_nodes",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "left_siblings_needed",
    "new_nodes_for_leaf",
    "perfect_levels",
    "perfect_levels_packed",
    "perfect_nodes",
    "root_hash",
    "root_nodes",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

_HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

Node: TypeAlias = tuple[int, int]
"""A stored perfect subtree: ``(level, index)``, covering leaves ``[index << level, (index + 1) << level)``."""

_Range: TypeAlias = tuple[int, int]


def hash_leaf(data: bytes) -> bytes:
    """RFC 9162 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- ranges and perfect nodes ---------------------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect(start: int, end: int) -> Node | None:
    """The stored node covering exactly ``[start, end)``, if that range is a complete, aligned subtree."""
    n = end - start
    if n > 0 and n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return level, start >> level
    return None


def _check_range(start: int, end: int) -> None:
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")


def _collect(start: int, end: int, out: list[Node]) -> None:
    node = _perfect(start, end)
    if node is not None:
        out.append(node)
        return
    k = _split(end - start)
    _collect(start, start + k, out)
    _collect(start + k, end, out)


def _lookup(nodes: Mapping[Node, bytes], node: Node) -> bytes:
    try:
        return nodes[node]
    except KeyError:
        raise KeyError(node) from None


def _hash_range(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    node = _perfect(start, end)
    if node is not None:
        return _lookup(nodes, node)
    k = _split(end - start)
    return hash_children(_hash_range(start, start + k, nodes), _hash_range(start + k, end, nodes))


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The stored nodes, left to right, that the RFC recursion for ``MTH(D[start:end])`` bottoms out in."""
    _check_range(start, end)
    out: list[Node] = []
    if start < end:
        _collect(start, end, out)
    return out


def subtree_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """``MTH(D[start:end])`` from the stored nodes named by ``perfect_nodes(start, end)``."""
    _check_range(start, end)
    if start == end:
        return EMPTY_ROOT
    return _hash_range(start, end, nodes)


def _nodes_for(ranges: Sequence[_Range]) -> list[Node]:
    out: list[Node] = []
    for start, end in ranges:
        _collect(start, end, out)
    return out


def root_nodes(size: int) -> list[Node]:
    """The stored nodes the root of a tree of ``size`` leaves is built from (one per set bit of ``size``)."""
    return perfect_nodes(0, size)


def root_hash(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    """``MTH(D[0:size])``; ``EMPTY_ROOT`` for ``size == 0``."""
    return subtree_hash(0, size, nodes)


# --- inclusion proofs -----------------------------------------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """The leaf ranges whose MTHs make up ``PATH(index, D[0:size])``, in RFC order (bottom up)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[_Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def inclusion_proof_nodes(index: int, size: int) -> list[Node]:
    """Every stored node needed to build ``PATH(index, D[0:size])``."""
    return _nodes_for(_inclusion_ranges(index, size))


def inclusion_proof(index: int, size: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, in RFC order."""
    return [_hash_range(start, end, nodes) for start, end in _inclusion_ranges(index, size)]


# --- consistency proofs ---------------------------------------------------------------------------------------------


def _consistency_ranges(old_size: int, new_size: int) -> list[_Range]:
    """The leaf ranges whose MTHs make up ``SUBPROOF(old_size, D[0:new_size], true)``, in RFC order."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[_Range] = []
    start, end = 0, new_size
    have_root = True
    while True:
        m, n = old_size - start, end - start
        if m == n:
            if not have_root:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            have_root = False
    ranges.reverse()
    return ranges


def consistency_proof_nodes(old_size: int, new_size: int) -> list[Node]:
    """Every stored node needed to build ``PROOF(old_size, D[0:new_size])``."""
    return _nodes_for(_consistency_ranges(old_size, new_size))


def consistency_proof(old_size: int, new_size: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[0:new_size])`` (``SUBPROOF`` with ``b = true``).

    Empty when ``old_size == new_size`` (as the RFC gives) or ``old_size == 0`` (every tree extends the empty one).
    """
    return [_hash_range(start, end, nodes) for start, end in _consistency_ranges(old_size, new_size)]


# --- verification ---------------------------------------------------------------------------------------------------


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == _HASH_SIZE


def _hashes(proof: object) -> list[bytes] | None:
    if isinstance(proof, bytes | bytearray | str) or not isinstance(proof, Sequence):
        return None
    items = list(proof)
    if not all(_is_hash(item) for item in items):
        return None
    return items


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``?"""
    path = _hashes(proof)
    if path is None or not (_is_count(index) and _is_count(size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``?

    Edge cases the RFC algorithm leaves out: ``old_size == new_size`` needs an empty proof and equal roots;
    ``old_size == 0`` needs an empty proof and ``old_root == EMPTY_ROOT`` (the one root an empty tree has; so
    ``0 -> 0`` needs both roots to be ``EMPTY_ROOT``), and then holds for any ``new_root``.
    """
    path = _hashes(proof)
    if path is None or not (_is_count(old_size) and _is_count(new_size) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if old_size > new_size:
        return False
    if old_size == 0:
        return not path and hmac.compare_digest(old_root, EMPTY_ROOT) and (new_size > 0 or old_root == new_root)
    if old_size == new_size:
        return not path and hmac.compare_digest(old_root, new_root)
    if not path:
        return False
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root) and sn == 0


# --- building the stored nodes --------------------------------------------------------------------------------------


def left_siblings_needed(index: int) -> list[Node]:
    """The stored nodes ``new_nodes_for_leaf(index, ...)`` reads: one left sibling per perfect node leaf completes."""
    if index < 0:
        raise ValueError(f"invalid leaf index {index}")
    needed: list[Node] = []
    level, i = 0, index
    while i & 1:
        needed.append((level, i - 1))
        level, i = level + 1, i >> 1
    return needed


def new_nodes_for_leaf(index: int, leaf: bytes, left_siblings: Mapping[Node, bytes]) -> list[tuple[Node, bytes]]:
    """The nodes to store when leaf ``index`` is appended: ``(0, index)`` and every perfect node it completes."""
    if index < 0:
        raise ValueError(f"invalid leaf index {index}")
    if not _is_hash(leaf):
        raise ValueError("a leaf must be a 32-byte leaf hash")
    created: list[tuple[Node, bytes]] = [((0, index), leaf)]
    level, i, h = 0, index, leaf
    while i & 1:
        h = hash_children(_lookup(left_siblings, (level, i - 1)), h)
        level, i = level + 1, i >> 1
        created.append(((level, i), h))
    return created


class TreeBuilder:
    """Builds perfect nodes incrementally from a frontier (the rightmost perfect node at each level) held in memory.

    The frontier is a stack of perfect subtrees, largest (leftmost) first — a binary counter of the size:
    appending a leaf merges equal levels, about one hash per leaf; the root folds the stack right to left.
    """

    def __init__(self, size: int, frontier: Mapping[Node, bytes]) -> None:
        """Resume a tree of ``size`` leaves; ``frontier`` must hold ``frontier_nodes(size)`` (extras are ignored)."""
        if size < 0:
            raise ValueError(f"invalid tree size {size}")
        self._size = size
        self._stack: list[tuple[int, int, bytes]] = [
            (level, index, _lookup(frontier, (level, index))) for level, index in root_nodes(size)
        ]

    @staticmethod
    def frontier_nodes(size: int) -> list[Node]:
        """The stored nodes needed to resume at ``size`` (the same as ``root_nodes(size)``)."""
        return root_nodes(size)

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Append one leaf hash; return the new nodes to store, level 0 included."""
        if not _is_hash(leaf):
            raise ValueError("a leaf must be a 32-byte leaf hash")
        created: list[tuple[Node, bytes]] = [((0, self._size), leaf)]
        stack = self._stack
        stack.append((0, self._size, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            level, _, right = stack.pop()
            _, left_index, left = stack.pop()
            merged = (level + 1, left_index >> 1, hash_children(left, right))
            stack.append(merged)
            created.append(((merged[0], merged[1]), merged[2]))
        self._size += 1
        return created

    @property
    def size(self) -> int:
        """Leaves in the tree so far."""
        return self._size

    def root(self) -> bytes:
        """``MTH`` of the tree so far (``EMPTY_ROOT`` when empty)."""
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][2]
        for _, _, left in reversed(self._stack[:-1]):
            digest = hash_children(left, digest)
        return digest


def perfect_levels(hashes: Sequence[bytes], *, accelerator: bool | None = None) -> list[list[bytes]]:
    """Every perfect subtree over consecutive equal-level nodes, level by level, in one pass per level.

    ``levels[0]`` is ``hashes``; ``levels[L][j]`` is the hash of the perfect subtree over ``hashes[j * 2**L :
    (j + 1) * 2**L]`` (a trailing incomplete subtree is left out). When ``hashes`` are the nodes ``(l, i0 + k)``
    with ``i0`` a multiple of ``2**L``, ``levels[L][j]`` is the stored node ``(l + L, (i0 >> L) + j)``. About one
    hash per input, without the per-leaf bookkeeping of :class:`TreeBuilder` (verification rebuilds whole
    chunks of the tree this way).

    ``accelerator``: as in :mod:`ledger.speedups` (None: the C accelerator when built, else this pure-Python
    code, the reference). Both give the same levels; hashes of other lengths than 32 bytes always take the
    reference path.
    """
    if speedups.use_native(accelerator) and all(len(item) == _HASH_SIZE for item in hashes):
        packed = perfect_levels_packed(b"".join(hashes), accelerator=True)
        return [
            list(hashes),
            *([level[i : i + _HASH_SIZE] for i in range(0, len(level), _HASH_SIZE)] for level in packed[1:]),
        ]
    levels = [list(hashes)]
    interior = hashlib.sha256(b"\x01")
    level = levels[0]
    while len(level) > 1:
        pairs = iter(level)
        above: list[bytes] = []
        push = above.append
        for left, right in zip(pairs, pairs, strict=False):  # an odd last node has no pair yet
            node = interior.copy()
            node.update(left)
            node.update(right)
            push(node.digest())
        levels.append(above)
        level = above
    return levels


def perfect_levels_packed(hashes: bytes, *, accelerator: bool | None = None) -> list[bytes]:
    """:func:`perfect_levels` with each level's 32-byte hashes concatenated: ``levels[L][32 * j : 32 * (j + 1)]``
    is ``perfect_levels(...)[L][j]``. What verification uses with the C accelerator (no object per node)."""
    if len(hashes) % _HASH_SIZE:
        raise ValueError("hashes must be concatenated 32-byte hashes")
    parents_of: Callable[[bytes], bytes] = _merkle_level
    if speedups.use_native(accelerator):
        from ledger.log import _speedups  # built: use_native says so

        parents_of = _speedups.merkle_level
    levels = [bytes(hashes)]
    while len(levels[-1]) > _HASH_SIZE:
        levels.append(parents_of(levels[-1]))
    return levels


def _merkle_level(hashes: bytes) -> bytes:
    """The parents of consecutive pairs of concatenated 32-byte hashes (an odd last one has none yet)."""
    interior = hashlib.sha256(b"\x01")
    parents = []
    for i in range(0, len(hashes) - _HASH_SIZE, 2 * _HASH_SIZE):
        node = interior.copy()
        node.update(hashes[i : i + 2 * _HASH_SIZE])
        parents.append(node.digest())
    return b"".join(parents)
