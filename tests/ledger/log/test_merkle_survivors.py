"""The Merkle tree at the edges the mutation run (``make mutate``) found untested: each test pins one limit of
ledger.log.merkle (the first leaf, the largest tree a checkpoint can name, malformed input), so that a changed
comparison or constant fails it.
"""

from __future__ import annotations

import hashlib

import pytest

from ledger.log import merkle, speedups
from tests.implementations import ACCELERATORS, REQUIRED

LARGEST = 2**64 - 1  # the largest tree a checkpoint may name (ledger.log.checkpoint.MAX_TREE_SIZE)
LEAF = hashlib.sha256(b"leaf").digest()


def leaves(count: int) -> list[bytes]:
    return [merkle.hash_leaf(str(i).encode()) for i in range(count)]


# ---------------------------------------------------------------------------
# The first leaf and the empty tree
# ---------------------------------------------------------------------------


def test_a_tree_builder_starts_empty() -> None:
    builder = merkle.TreeBuilder(0, {})
    assert builder.size == 0
    assert builder.root() == merkle.EMPTY_ROOT
    assert builder.append(LEAF) == [((0, 0), LEAF)]
    assert (builder.size, builder.root()) == (1, LEAF)


def test_the_first_leaf_needs_no_sibling_and_completes_nothing() -> None:
    assert merkle.left_siblings_needed(0) == []
    assert merkle.new_nodes_for_leaf(0, LEAF, {}) == [((0, 0), LEAF)]


@pytest.mark.parametrize("index", [-1, -2])
def test_negative_leaf_indexes_and_sizes_are_refused(index: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the type is the contract, not the message
        merkle.left_siblings_needed(index)
    with pytest.raises(ValueError):  # noqa: PT011
        merkle.new_nodes_for_leaf(index, LEAF, {})
    with pytest.raises(ValueError):  # noqa: PT011
        merkle.TreeBuilder(index, {})


@pytest.mark.parametrize("leaf", [LEAF[:31], LEAF + b"\x00", b""])
def test_a_leaf_of_another_length_than_32_bytes_is_refused(leaf: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        merkle.new_nodes_for_leaf(0, leaf, {})
    with pytest.raises(ValueError):  # noqa: PT011
        merkle.TreeBuilder(0, {}).append(leaf)


@pytest.mark.parametrize("length", [1, 31, 33, 65])
def test_packed_levels_refuse_a_partial_hash(length: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        merkle.perfect_levels_packed(bytes(length), accelerator=False)


def test_packed_levels_of_an_odd_count_leave_the_last_node_unpaired() -> None:
    hashes = leaves(3)
    levels = merkle.perfect_levels_packed(b"".join(hashes), accelerator=False)
    assert levels == [b"".join(hashes), merkle.hash_children(hashes[0], hashes[1])]


# ---------------------------------------------------------------------------
# The largest tree a checkpoint can name: every node list stays logarithmic
# ---------------------------------------------------------------------------


def test_the_root_of_the_largest_tree_is_built_from_64_perfect_subtrees() -> None:
    nodes = merkle.root_nodes(LARGEST)
    assert len(nodes) == 64
    assert nodes[0] == (63, 0)
    assert nodes[-1] == (0, LARGEST - 1)


def test_proofs_in_the_largest_tree_name_at_most_two_nodes_a_level() -> None:
    # 64 levels: a proof hash is one stored node, or (where its subtree is not perfect) two.
    assert len(merkle.inclusion_proof_nodes(LARGEST - 1, LARGEST)) == 63
    assert len(merkle.inclusion_proof_nodes(0, LARGEST)) == 126
    assert len(merkle.consistency_proof_nodes(1, LARGEST)) == 126
    assert len(merkle.consistency_proof_nodes(LARGEST - 1, LARGEST)) == 64
    assert merkle.consistency_proof_nodes(LARGEST, LARGEST) == []


# ---------------------------------------------------------------------------
# Each implementation does all the work asked of it: the reference never calls the C accelerator, the accelerator
# never falls back to the reference (verification measures and cross-checks them one against the other)
# ---------------------------------------------------------------------------

needs_c = pytest.mark.skipif(not speedups.AVAILABLE and not REQUIRED, reason="the C accelerator is not built")


def refuse(*_: object) -> bytes:
    raise AssertionError("the other implementation was called")


@needs_c
def test_the_reference_never_calls_the_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.log import _speedups

    hashes = leaves(5)
    expected = merkle.perfect_levels(hashes, accelerator=True)
    monkeypatch.setattr(_speedups, "merkle_level", refuse)
    assert merkle.perfect_levels(hashes, accelerator=False) == expected
    assert merkle.perfect_levels_packed(b"".join(hashes), accelerator=False) == [b"".join(level) for level in expected]


@needs_c
def test_the_accelerator_never_falls_back_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = leaves(5)
    expected = merkle.perfect_levels(hashes, accelerator=False)
    monkeypatch.setattr(merkle, "_merkle_level", refuse)
    monkeypatch.setenv(speedups.PURE_PYTHON, "1")  # the default's switch: it gives way to an explicit choice
    assert merkle.perfect_levels(hashes, accelerator=True) == expected
    assert merkle.perfect_levels_packed(b"".join(hashes), accelerator=True) == [b"".join(level) for level in expected]


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_hashes_of_another_length_than_32_bytes_take_the_reference_path(accelerator: bool) -> None:
    # Four 16-byte items make 64 bytes: read as packed 32-byte hashes they would be two, not four.
    items = [bytes([n]) * 16 for n in range(4)]
    levels = merkle.perfect_levels(items, accelerator=accelerator)
    pairs = [merkle.hash_children(items[0], items[1]), merkle.hash_children(items[2], items[3])]
    assert levels == [items, pairs, [merkle.hash_children(*pairs)]]
