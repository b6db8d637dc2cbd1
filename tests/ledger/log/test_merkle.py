"""The Merkle log: published RFC 6962/9162 vectors, edge cases, and hypothesis properties against a naive MTH.

Over 500 lines: a third of it is the published vectors (RFC 6962/9162, transparency-dev), kept verbatim beside the
tests that read them, and the naive reference the properties compare against is written out here, apart from the code
it checks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log.merkle import (
    EMPTY_ROOT,
    Node,
    TreeBuilder,
    consistency_proof,
    consistency_proof_nodes,
    hash_children,
    hash_leaf,
    inclusion_proof,
    inclusion_proof_nodes,
    left_siblings_needed,
    new_nodes_for_leaf,
    perfect_levels,
    perfect_levels_packed,
    perfect_nodes,
    root_hash,
    root_nodes,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.implementations import ACCELERATORS


def h(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest)


# ---------------------------------------------------------------------------------------------------------------------
# Published vectors.
#
# The 8-leaf tree, all its complete-subtree hashes and its roots for sizes 0..8 are from
#   transparency-dev/merkle, testonly/constants.go (LeafInputs, NodeHashes, RootHashes);
# the same leaves and roots also appear in transparency-dev/merkle proof/verify_test.go and
#   google/certificate-transparency-go, merkletree/merkle_verifier_test.go.
# ---------------------------------------------------------------------------------------------------------------------

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# NodeHashes(): first index the level (0 = leaves), second the index within the level.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# RootHashes(), indexed by tree size from 0.
ROOT_HASHES = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (leaf index, tree size, PATH) from transparency-dev/merkle testonly/reference_test.go (TestRefInclusionProof);
# (0, 1), (0, 8), (5, 8), (2, 3), (1, 5) also in transparency-dev/merkle proof/verify_test.go and
# google/certificate-transparency-go merkletree/merkle_verifier_test.go, which number leaves from 1.
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 2, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# (old size, new size, PROOF) from transparency-dev/merkle testonly/reference_test.go (TestRefConsistencyProof) and
# proof/verify_test.go (consistencyProofs, which adds 6 -> 7); all but 6 -> 7 also in
# google/certificate-transparency-go merkletree/merkle_verifier_test.go.
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# Stored node ids (level, index) that transparency-dev/merkle proof/proof_test.go (TestInclusion, TestConsistency)
# expects for a proof. Their `rehash(begin, end, ...)` lists a right-edge subtree's nodes bottom up; we list them
# left to right, so that slice is reversed before comparing. Entries: (a, b, node ids, rehash slice or None).
NodeVector = tuple[int, int, list[Node], tuple[int, int] | None]
INCLUSION_NODE_VECTORS: list[NodeVector] = [
    (0, 1, [], None),
    (0, 2, [(0, 1)], None),
    (1, 2, [(0, 0)], None),
    (1, 3, [(0, 0), (0, 2)], None),
    (0, 7, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (1, 7, [(0, 0), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (2, 7, [(0, 3), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (3, 7, [(0, 2), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (4, 7, [(0, 5), (0, 6), (2, 0)], None),
    (5, 7, [(0, 4), (0, 6), (2, 0)], None),
    (6, 7, [(1, 2), (2, 0)], None),
    (2, 4, [(0, 3), (1, 0)], None),
    (3, 5, [(0, 2), (1, 0), (0, 4)], None),
    (3, 6, [(0, 2), (1, 0), (1, 2)], None),
    (4, 6, [(0, 5), (2, 0)], None),
    (10, 15, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (24, 31, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)], (2, 4)),
    (81, 95, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)], (3, 6)),
]
CONSISTENCY_NODE_VECTORS: list[NodeVector] = [
    (1, 2, [(0, 1)], None),
    (1, 4, [(0, 1), (1, 1)], None),
    (1, 6, [(0, 1), (1, 1), (1, 2)], None),
    (2, 3, [(0, 2)], None),
    (2, 8, [(1, 1), (2, 1)], None),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)], (3, 5)),
    (4, 7, [(0, 6), (1, 2)], (0, 2)),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)], None),
    (6, 7, [(1, 2), (0, 6), (2, 0)], None),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)], None),
    *((size, size, [], None) for size in (1, 2, 3, 4, 5, 7, 8)),
    (2, 4, [(1, 1)], None),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)], None),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)], None),
    (4, 6, [(1, 2)], None),
    (1, 7, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)], (1, 4)),
    (81, 95, [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)], (4, 7)),
]

# sha256SomeHash in transparency-dev/merkle proof/verify_test.go.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


# ---------------------------------------------------------------------------------------------------------------------
# Helpers: building a store with TreeBuilder, and the RFC definitions written naively over a list of leaf hashes.
# ---------------------------------------------------------------------------------------------------------------------


def build_store(leaves: list[bytes]) -> dict[Node, bytes]:
    builder = TreeBuilder(0, {})
    store: dict[Node, bytes] = {}
    for leaf in leaves:
        for node, digest in builder.append(leaf):
            assert node not in store
            store[node] = digest
    return store


def fetch(store: Mapping[Node, bytes], needed: list[Node]) -> dict[Node, bytes]:
    """What the one query returns: exactly the named nodes."""
    return {node: store[node] for node in needed}


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return hash_children(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = split(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def log_bound(n: int) -> int:
    return 2 * math.ceil(math.log2(max(n, 1))) + 2


VECTOR_LEAVES = [hash_leaf(data) for data in LEAF_INPUTS]
VECTOR_STORE = build_store(VECTOR_LEAVES)


# ---------------------------------------------------------------------------------------------------------------------
# Vectors.
# ---------------------------------------------------------------------------------------------------------------------


def test_hash_primitives() -> None:
    assert EMPTY_ROOT == ROOT_HASHES[0] == hashlib.sha256(b"").digest()
    assert hash_leaf(b"") == NODE_HASHES[0][0]
    assert hash_children(NODE_HASHES[0][0], NODE_HASHES[0][1]) == NODE_HASHES[1][0]


def test_tree_builder_stores_exactly_the_published_node_hashes() -> None:
    expected = {(level, index): digest for level, row in enumerate(NODE_HASHES) for index, digest in enumerate(row)}
    assert expected == VECTOR_STORE


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_perfect_levels_give_exactly_the_published_node_hashes(accelerator: bool) -> None:
    """What verification hashes, in pure Python and in C: every published node of the 8-leaf tree, and its root."""
    leaves = [hash_leaf(data) for data in LEAF_INPUTS]
    assert perfect_levels(leaves, accelerator=accelerator) == NODE_HASHES
    assert perfect_levels_packed(b"".join(leaves), accelerator=accelerator) == [b"".join(row) for row in NODE_HASHES]
    for size in (1, 2, 4, 8):
        assert perfect_levels(leaves[:size], accelerator=accelerator)[-1] == [ROOT_HASHES[size]]


@pytest.mark.parametrize("size", range(9))
def test_root_vectors(size: int) -> None:
    assert root_hash(size, fetch(VECTOR_STORE, root_nodes(size))) == ROOT_HASHES[size]
    builder = TreeBuilder(0, {})
    for leaf in VECTOR_LEAVES[:size]:
        builder.append(leaf)
    assert builder.size == size
    assert builder.root() == ROOT_HASHES[size]
    resumed = TreeBuilder(size, fetch(VECTOR_STORE, TreeBuilder.frontier_nodes(size)))
    assert resumed.root() == ROOT_HASHES[size]


def inclusion_probes(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes) -> Iterator[tuple[Any, ...]]:
    """corruptInclusionProof from transparency-dev/merkle proof/verify_test.go, plus every single-bit flip."""
    yield "leafIndex - 1", leaf, index - 1, size, proof, root
    yield "leafIndex + 1", leaf, index + 1, size, proof, root
    yield "leafIndex ^ 2", leaf, index ^ 2, size, proof, root
    yield "treeSize * 2", leaf, index, size * 2, proof, root
    yield "treeSize / 2", leaf, index, size // 2, proof, root
    yield "wrong leaf", b"WrongLeaf", index, size, proof, root
    yield "empty root", leaf, index, size, proof, EMPTY_ROOT
    yield "random root", leaf, index, size, proof, SOME_HASH
    yield "trailing garbage", leaf, index, size, [*proof, b""], root
    yield "trailing root", leaf, index, size, [*proof, root], root
    yield "preceding garbage", leaf, index, size, [b"", *proof], root
    yield "preceding root", leaf, index, size, [root, *proof], root
    if proof:
        yield "removed component", leaf, index, size, proof[:-1], root
    if len(proof) > 1:
        yield "inserted component", leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root
    for i in range(len(proof)):
        for bit in range(256):
            bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
            yield f"proof[{i}] bit {bit}", leaf, index, size, bad, root
    for bit in range(256):
        yield f"leaf bit {bit}", flip(leaf, bit), index, size, proof, root
        yield f"root bit {bit}", leaf, index, size, proof, flip(root, bit)


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, expected: list[bytes]) -> None:
    proof = inclusion_proof(index, size, fetch(VECTOR_STORE, inclusion_proof_nodes(index, size)))
    assert proof == expected
    leaf, root = VECTOR_LEAVES[index], ROOT_HASHES[size]
    assert verify_inclusion(leaf, index, size, expected, root)
    probes = inclusion_probes(index, size, expected, root, leaf)
    assert [probe[0] for probe in probes if verify_inclusion(*probe[1:])] == []


def consistency_probes(
    old: int, new: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> Iterator[tuple[Any, ...]]:
    """corruptConsistencyProof from transparency-dev/merkle proof/verify_test.go, plus every single-bit flip."""
    yield "size1 - 1", old - 1, new, old_root, new_root, proof
    yield "size1 + 1", old + 1, new, old_root, new_root, proof
    yield "size1 ^ 2", old ^ 2, new, old_root, new_root, proof
    yield "size2 * 2", old, new * 2, old_root, new_root, proof
    yield "size2 / 2", old, new // 2, old_root, new_root, proof
    yield "wrong root1", old, new, b"WrongRoot", new_root, proof
    yield "wrong root2", old, new, old_root, b"WrongRoot", proof
    yield "swapped roots", old, new, new_root, old_root, proof
    yield "empty proof", old, new, old_root, new_root, []
    yield "trailing garbage", old, new, old_root, new_root, [*proof, b""]
    yield "trailing root1", old, new, old_root, new_root, [*proof, old_root]
    yield "trailing root2", old, new, old_root, new_root, [*proof, new_root]
    yield "preceding garbage", old, new, old_root, new_root, [b"", *proof]
    yield "preceding root1", old, new, old_root, new_root, [old_root, *proof]
    yield "preceding root2", old, new, old_root, new_root, [new_root, *proof]
    yield "preceding proof[0]", old, new, old_root, new_root, [proof[0], *proof]
    yield "truncated proof", old, new, old_root, new_root, proof[:-1]
    for i in range(len(proof)):
        for bit in range(256):
            bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
            yield f"proof[{i}] bit {bit}", old, new, old_root, new_root, bad
    for bit in range(256):
        yield f"root1 bit {bit}", old, new, flip(old_root, bit), new_root, proof
        yield f"root2 bit {bit}", old, new, old_root, flip(new_root, bit), proof


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, expected: list[bytes]) -> None:
    proof = consistency_proof(old, new, fetch(VECTOR_STORE, consistency_proof_nodes(old, new)))
    assert proof == expected
    old_root, new_root = ROOT_HASHES[old], ROOT_HASHES[new]
    assert verify_consistency(old, new, old_root, new_root, expected)
    if expected:  # as upstream: probe only non-trivial proofs
        probes = consistency_probes(old, new, expected, old_root, new_root)
        accepted = [probe[0] for probe in probes if verify_consistency(*probe[1:])]
        assert accepted == []


def test_every_proof_of_the_vector_tree_matches_the_naive_definition_and_resists_bit_flips() -> None:
    for size in range(1, 9):
        root = ROOT_HASHES[size]
        for index in range(size):
            proof = inclusion_proof(index, size, VECTOR_STORE)
            assert proof == naive_path(index, VECTOR_LEAVES[:size])
            assert verify_inclusion(VECTOR_LEAVES[index], index, size, proof, root)
            probes = inclusion_probes(index, size, proof, root, VECTOR_LEAVES[index])
            assert [p[0] for p in probes if verify_inclusion(*p[1:])] == []
        for old in range(1, size + 1):
            proof = consistency_proof(old, size, VECTOR_STORE)
            assert proof == naive_subproof(old, VECTOR_LEAVES[:size], True)
            assert verify_consistency(old, size, ROOT_HASHES[old], root, proof)
            if proof:
                probes = consistency_probes(old, size, proof, ROOT_HASHES[old], root)
                assert [p[0] for p in probes if verify_consistency(*p[1:])] == []


def _upstream_order(ids: list[Node], rehash: tuple[int, int] | None) -> list[Node]:
    if rehash is None:
        return ids
    begin, end = rehash
    return [*ids[:begin], *reversed(ids[begin:end]), *ids[end:]]


@pytest.mark.parametrize(("index", "size", "ids", "rehash"), INCLUSION_NODE_VECTORS)
def test_inclusion_nodes_match_transparency_dev(
    index: int, size: int, ids: list[Node], rehash: tuple[int, int] | None
) -> None:
    assert inclusion_proof_nodes(index, size) == _upstream_order(ids, rehash)


@pytest.mark.parametrize(("old", "new", "ids", "rehash"), CONSISTENCY_NODE_VECTORS)
def test_consistency_nodes_match_transparency_dev(
    old: int, new: int, ids: list[Node], rehash: tuple[int, int] | None
) -> None:
    assert consistency_proof_nodes(old, new) == _upstream_order(ids, rehash)


# ---------------------------------------------------------------------------------------------------------------------
# Edge cases.
# ---------------------------------------------------------------------------------------------------------------------


def test_single_entry_inclusion() -> None:
    """TestVerifyInclusionSingleEntry (transparency-dev/merkle proof/verify_test.go)."""
    digest = hash_leaf(b"data")
    assert verify_inclusion(digest, 0, 1, [], digest)
    assert not verify_inclusion(b"", 0, 1, [], digest)
    assert not verify_inclusion(digest, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_rejects_invalid_paths(index: int, size: int) -> None:
    """TestVerifyInclusion's probes (transparency-dev/merkle proof/verify_test.go)."""
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


R1, R2 = hashlib.sha256(b"don't care 1").digest(), hashlib.sha256(b"don't care 2").digest()


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "expected"),
    [
        # TestVerifyConsistency (transparency-dev/merkle proof/verify_test.go), with 32-byte roots.
        (0, 0, R1, R2, [], False),
        (1, 1, R1, R2, [], False),
        (1, 1, R2, R2, [], True),
        (1, 0, R1, R2, [], False),
        (2, 1, R1, R2, [], False),
        (1, 2, R1, R2, [], False),
        (0, 0, EMPTY_ROOT, R2, [], False),
        (1, 1, EMPTY_ROOT, R2, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # Our choice for old_size == 0 (upstream accepts any roots): the old root must be EMPTY_ROOT.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 0, R1, R1, [], False),
        (0, 1, EMPTY_ROOT, R2, [], True),
        (0, 1, R1, R2, [], False),
        (0, 300, EMPTY_ROOT, R2, [], True),
    ],
)
def test_consistency_edge_cases(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], expected: bool
) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof) is expected


def test_consistency_from_the_empty_tree_is_the_empty_proof() -> None:
    for size in range(9):
        assert consistency_proof_nodes(0, size) == []
        assert consistency_proof(0, size, {}) == []
        assert verify_consistency(0, size, EMPTY_ROOT, ROOT_HASHES[size], [])


@pytest.mark.parametrize(
    "args",
    [
        (None, 0, 1, [], SOME_HASH),
        (SOME_HASH, True, 1, [], SOME_HASH),
        (SOME_HASH, 0, True, [], SOME_HASH),
        (SOME_HASH, 0, 1, None, SOME_HASH),
        (SOME_HASH, 0, 1, SOME_HASH, SOME_HASH),
        (SOME_HASH, 0, 2, [SOME_HASH.hex()], SOME_HASH),
        (SOME_HASH, 0, 2, [bytearray(SOME_HASH)], SOME_HASH),
        (SOME_HASH, 0, 2, [SOME_HASH[:31]], SOME_HASH),
        (SOME_HASH, 0, 2, [None], SOME_HASH),
        (SOME_HASH, 0.0, 1, [], SOME_HASH),
        (SOME_HASH, -1, 1, [], SOME_HASH),
        (SOME_HASH, 0, -1, [], SOME_HASH),
        (SOME_HASH + b"\x00", 0, 1, [], SOME_HASH + b"\x00"),
        (SOME_HASH, 0, 1, [], None),
    ],
)
def test_verify_inclusion_never_raises_on_malformed_input(args: tuple[Any, ...]) -> None:
    assert verify_inclusion(*args) is False


@pytest.mark.parametrize(
    "args",
    [
        (1, 2, None, SOME_HASH, [SOME_HASH]),
        (1, 2, SOME_HASH, SOME_HASH[:1], [SOME_HASH]),
        (1, 2, SOME_HASH, SOME_HASH, None),
        (1, 2, SOME_HASH, SOME_HASH, SOME_HASH),
        (1, 2, SOME_HASH, SOME_HASH, [b"x"]),
        (1, 2, SOME_HASH, SOME_HASH, [1]),
        (-1, 2, SOME_HASH, SOME_HASH, [SOME_HASH]),
        (1, -2, SOME_HASH, SOME_HASH, [SOME_HASH]),
        (1.0, 2, SOME_HASH, SOME_HASH, [SOME_HASH]),
        (False, 2, EMPTY_ROOT, SOME_HASH, []),
        (2, 1, SOME_HASH, SOME_HASH, []),
    ],
)
def test_verify_consistency_never_raises_on_malformed_input(args: tuple[Any, ...]) -> None:
    assert verify_consistency(*args) is False


@pytest.mark.parametrize(
    "request_",
    [
        lambda: inclusion_proof_nodes(0, 0),
        lambda: inclusion_proof_nodes(8, 8),
        lambda: inclusion_proof_nodes(-1, 8),
        lambda: inclusion_proof(3, 2, VECTOR_STORE),
        lambda: consistency_proof_nodes(3, 2),
        lambda: consistency_proof_nodes(-1, 2),
        lambda: consistency_proof(9, 8, VECTOR_STORE),
        lambda: perfect_nodes(3, 2),
        lambda: perfect_nodes(-1, 2),
        lambda: subtree_hash(5, 4, VECTOR_STORE),
        lambda: root_nodes(-1),
        lambda: left_siblings_needed(-1),
        lambda: new_nodes_for_leaf(-1, SOME_HASH, {}),
        lambda: new_nodes_for_leaf(0, b"short", {}),
        lambda: TreeBuilder(-1, {}),
        lambda: TreeBuilder(0, {}).append(b"short"),
    ],
)
def test_generators_reject_impossible_requests(request_: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"invalid|not in a tree|no consistency proof|32-byte"):
        request_()


def test_missing_nodes_raise_key_error_naming_the_node() -> None:
    store = dict(VECTOR_STORE)
    del store[(1, 2)]
    with pytest.raises(KeyError) as missing:
        root_hash(7, store)
    assert missing.value.args == ((1, 2),)
    with pytest.raises(KeyError) as missing:
        inclusion_proof(0, 7, store)
    assert missing.value.args == ((1, 2),)
    with pytest.raises(KeyError) as missing:
        consistency_proof(4, 7, store)
    assert missing.value.args == ((1, 2),)
    with pytest.raises(KeyError) as missing:
        new_nodes_for_leaf(7, VECTOR_LEAVES[7], {(0, 6): VECTOR_LEAVES[6], (2, 0): NODE_HASHES[2][0]})
    assert missing.value.args == ((1, 2),)
    with pytest.raises(KeyError) as missing:
        TreeBuilder(7, {(2, 0): NODE_HASHES[2][0], (0, 6): VECTOR_LEAVES[6]})
    assert missing.value.args == ((1, 2),)


def test_perfect_nodes_small_cases() -> None:
    assert perfect_nodes(0, 0) == []
    assert subtree_hash(3, 3, {}) == EMPTY_ROOT
    assert root_hash(0, {}) == EMPTY_ROOT
    assert perfect_nodes(0, 7) == root_nodes(7) == TreeBuilder.frontier_nodes(7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_nodes(4, 8) == [(2, 1)]
    assert perfect_nodes(4, 7) == [(1, 2), (0, 6)]
    # An unaligned range still hashes as MTH of that list (the RFC recursion never asks for one).
    assert perfect_nodes(1, 3) == [(0, 1), (0, 2)]
    assert subtree_hash(1, 3, VECTOR_STORE) == naive_mth(VECTOR_LEAVES[1:3])
    assert subtree_hash(1, 6, VECTOR_STORE) == naive_mth(VECTOR_LEAVES[1:6])


class RecordingMapping(Mapping[Node, bytes]):
    def __init__(self, data: Mapping[Node, bytes]) -> None:
        self.data = data
        self.reads: list[Node] = []

    def __getitem__(self, node: Node) -> bytes:
        self.reads.append(node)
        return self.data[node]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_left_siblings_needed_is_exactly_what_new_nodes_for_leaf_reads() -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(1100)]
    store = build_store(leaves)
    for index, leaf in enumerate(leaves):
        recording = RecordingMapping(store)
        created = new_nodes_for_leaf(index, leaf, recording)
        assert recording.reads == left_siblings_needed(index)
        assert created[0] == ((0, index), leaf)
        assert [node for node, _ in created] == [(level, (index + 1 >> level) - 1) for level in range(len(created))]
        assert all(store[node] == digest for node, digest in created)
        assert set(left_siblings_needed(index)) <= set(TreeBuilder.frontier_nodes(index))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 100, 1000, 2**20 + 1, 2**40 - 1, 2**62 + 2**31 + 7])
def test_node_counts_for_large_trees_are_logarithmic(n: int) -> None:
    assert len(root_nodes(n)) == n.bit_count()
    for index in {i for i in (0, 1, n // 3, n // 2, n - 2, n - 1) if 0 <= i < n}:
        assert len(inclusion_proof_nodes(index, n)) <= log_bound(n)
    for old in {m for m in (1, 2, n // 3, n // 2 + 1, n - 1, n) if 1 <= m <= n}:
        assert len(consistency_proof_nodes(old, n)) <= log_bound(n)


def test_node_counts_exhaustively_for_small_trees() -> None:
    for n in range(1, 130):
        assert len(perfect_nodes(0, n)) <= math.floor(math.log2(n)) + 1
        for index in range(n):
            nodes = inclusion_proof_nodes(index, n)
            assert len(nodes) <= log_bound(n)
            assert len(set(nodes)) == len(nodes)
            assert all((i + 1) << level <= n for level, i in nodes)  # all already stored at size n
        for old in range(1, n + 1):
            nodes = consistency_proof_nodes(old, n)
            assert len(nodes) <= log_bound(n)
            assert len(set(nodes)) == len(nodes)
            assert all((i + 1) << level <= n for level, i in nodes)


# ---------------------------------------------------------------------------------------------------------------------
# Properties: random trees of 1..300 random leaf hashes.
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    leaves: list[bytes]
    store: dict[Node, bytes]

    @property
    def size(self) -> int:
        return len(self.leaves)

    def root(self, size: int) -> bytes:
        return root_hash(size, fetch(self.store, root_nodes(size)))


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    n = draw(st.integers(min_value=1, max_value=300))
    seed = draw(st.binary(min_size=8, max_size=8))
    leaves = [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(n)]
    return Tree(leaves, build_store(leaves))


hashes = st.binary(min_size=32, max_size=32)
bits = st.integers(min_value=0, max_value=255)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@PROPERTY_SETTINGS
@given(tree=trees(), data=st.data())
def test_tree_builder_matches_the_naive_mth(tree: Tree, data: st.DataObject) -> None:
    n = tree.size
    assert set(tree.store) == {(level, i) for level in range(n.bit_length()) for i in range(n >> level)}
    for (level, i), digest in tree.store.items():
        assert digest == naive_mth(tree.leaves[i << level : (i + 1) << level])
    builder = TreeBuilder(0, {})
    for leaf in tree.leaves:
        builder.append(leaf)
    assert builder.size == n
    assert builder.root() == tree.root(n) == naive_mth(tree.leaves)
    size = data.draw(st.integers(min_value=0, max_value=n), label="size")
    assert tree.root(size) == naive_mth(tree.leaves[:size])
    resumed = TreeBuilder(size, fetch(tree.store, TreeBuilder.frontier_nodes(size)))
    assert resumed.root() == naive_mth(tree.leaves[:size])
    for index in range(size, n):
        assert all(tree.store[node] == digest for node, digest in resumed.append(tree.leaves[index]))
    assert resumed.root() == builder.root()


@pytest.mark.parametrize("accelerator", ACCELERATORS)
@PROPERTY_SETTINGS
@given(tree=trees(), data=st.data())
def test_perfect_levels_are_the_stored_nodes_of_any_aligned_stretch(
    tree: Tree, data: st.DataObject, accelerator: bool
) -> None:
    """What verification relies on: the levels over leaves ``[start, end)``, ``start`` a multiple of ``2**k``, are
    the stored nodes ``(L, (start >> L) + j)`` for every ``L <= k`` — and over whole levels, of any level above."""
    k = data.draw(st.integers(min_value=0, max_value=tree.size.bit_length()), label="k")
    start = data.draw(st.integers(min_value=0, max_value=(tree.size - 1) >> k), label="chunk") << k
    end = data.draw(st.integers(min_value=start, max_value=min(tree.size, start + (1 << k))), label="end")
    levels = perfect_levels(tree.leaves[start:end], accelerator=accelerator)
    assert levels[0] == tree.leaves[start:end]
    for level, hashes in enumerate(levels):
        assert len(hashes) == (end - start) >> level
        for j, digest in enumerate(hashes):
            assert digest == tree.store[(level, (start >> level) + j)]
    chunk_roots = [tree.store[(k, j)] for j in range(tree.size >> k)]
    for above, hashes in enumerate(perfect_levels(chunk_roots, accelerator=accelerator)):
        assert hashes == [tree.store[(k + above, j)] for j in range(tree.size >> (k + above))]


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_perfect_levels_of_nothing_and_of_one(accelerator: bool) -> None:
    assert perfect_levels([], accelerator=accelerator) == [[]]
    assert perfect_levels([SOME_HASH], accelerator=accelerator) == [[SOME_HASH]]
    assert perfect_levels([SOME_HASH] * 3, accelerator=accelerator) == [
        [SOME_HASH] * 3,
        [hash_children(SOME_HASH, SOME_HASH)],
    ]
    assert perfect_levels_packed(b"", accelerator=accelerator) == [b""]


@PROPERTY_SETTINGS
@given(tree=trees(), data=st.data())
def test_inclusion_proofs_verify_and_any_tampering_fails(tree: Tree, data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=tree.size), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    leaf, root = tree.leaves[index], tree.root(size)
    needed = inclusion_proof_nodes(index, size)
    assert len(needed) <= log_bound(size)
    proof = inclusion_proof(index, size, fetch(tree.store, needed))
    assert proof == naive_path(index, tree.leaves[:size])
    assert verify_inclusion(leaf, index, size, proof, root)

    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], data.draw(bits, label=f"bit of proof[{i}]")), *proof[i + 1 :]]
        assert not verify_inclusion(leaf, index, size, bad, root)
    assert not verify_inclusion(flip(leaf, data.draw(bits, label="leaf bit")), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip(root, data.draw(bits, label="root bit")))

    if size > 1:
        other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda j: j != index), label="other")
        assert not verify_inclusion(leaf, other, size, proof, root)
        assert not verify_inclusion(tree.leaves[other], other, size, proof, root)
        assert not verify_inclusion(tree.leaves[other], index, size, proof, root)

    extra = data.draw(hashes, label="extra")
    for longer in ([*proof, extra], [*proof, root], [*proof, leaf], [extra, *proof], [leaf, *proof]):
        assert not verify_inclusion(leaf, index, size, longer, root)
    for i in range(len(proof)):
        assert not verify_inclusion(leaf, index, size, proof[:i], root)
        assert not verify_inclusion(leaf, index, size, [*proof[:i], *proof[i + 1 :]], root)


@PROPERTY_SETTINGS
@given(tree=trees(), data=st.data())
def test_consistency_proofs_verify_and_any_tampering_fails(tree: Tree, data: st.DataObject) -> None:
    new = data.draw(st.integers(min_value=1, max_value=tree.size), label="new")
    old = data.draw(st.integers(min_value=1, max_value=new), label="old")
    old_root, new_root = tree.root(old), tree.root(new)
    needed = consistency_proof_nodes(old, new)
    assert len(needed) <= log_bound(new)
    proof = consistency_proof(old, new, fetch(tree.store, needed))
    assert proof == naive_subproof(old, tree.leaves[:new], True)
    assert verify_consistency(old, new, old_root, new_root, proof)

    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], data.draw(bits, label=f"bit of proof[{i}]")), *proof[i + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, bad)
    assert not verify_consistency(old, new, flip(old_root, data.draw(bits, label="old bit")), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root, data.draw(bits, label="new bit")), proof)

    extra = data.draw(hashes, label="extra")
    for longer in ([*proof, extra], [*proof, old_root], [*proof, new_root], [extra, *proof], [old_root, *proof]):
        assert not verify_consistency(old, new, old_root, new_root, longer)
    for i in range(len(proof)):
        assert not verify_consistency(old, new, old_root, new_root, proof[:i])
        assert not verify_consistency(old, new, old_root, new_root, [*proof[:i], *proof[i + 1 :]])
    if old < new:
        assert not verify_consistency(old, new, new_root, old_root, proof)
        assert not verify_consistency(old, new, tree.root(old - 1), new_root, proof)


@settings(max_examples=500, deadline=None)
@given(n=st.integers(min_value=1, max_value=2**48), data=st.data())
def test_needed_node_counts_are_logarithmic(n: int, data: st.DataObject) -> None:
    assert len(root_nodes(n)) <= math.floor(math.log2(n)) + 1
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    old = data.draw(st.integers(min_value=1, max_value=n), label="old")
    assert len(inclusion_proof_nodes(index, n)) <= log_bound(n)
    assert len(consistency_proof_nodes(old, n)) <= log_bound(n)
