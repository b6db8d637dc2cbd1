"""The log's rows as the verifier reads them: every leaf hash recomputed from the row's own bytes, every chain link,
dense positions, recorded_at never running backwards, and the Merkle nodes above the leaves that pass.

The rows come as PostgreSQL's binary COPY sends them (:data:`COLUMNS`, in that order), but nothing here reads a
database: whoever fetches them (:mod:`ledger.store.verify_log` over a live database) hands over batches of rows, and
these functions only look at bytes. Two implementations check the rows and give the same results on every input
(``tests/ledger/log/test_speedups.py``): :func:`check_rows_python`, the reference, and :func:`check_rows_native`,
the C accelerator (:mod:`ledger.log.speedups`).
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from ledger.log import merkle
from ledger.log.integrity import GENESIS_CHAIN_HASH, LEAF_HASH_PREFIX

Buffer: TypeAlias = bytes | bytearray | memoryview
"""A row as the COPY reader hands it over (psycopg's ``Buffer``)."""

COLUMNS = (
    "leaf_index",
    "recorded_at",
    "leaf_hash",
    "chain_hash",
    "originator_id",
    "originator_version",
    "topic",
    "state",
)
"""The events table's columns a verification COPY selects, in the order the row layout below reads them."""

# A row of the verification COPY, in PostgreSQL's binary format: a 16-bit field count, then each field as a 32-bit
# length and its bytes. The fixed-size fields come first, so one struct reads them and their lengths (checked: a
# row of any other shape is reported, never misread). The leaf's canonical bytes are then two slices of the row —
# the id, and everything from the version on: int64 version, 32-bit topic length, topic, 32-bit state length,
# state, which is exactly the encoding of ledger.integrity, length words included.
_ROW = struct.Struct(">hiqiqi32xi32xi16xi8xi")  # the count, lengths and values up to the topic's length
_ROW_SHAPE = (8, 8, 8, 32, 32, 16, 8)  # the field count and the lengths of the fixed-size fields
_LENGTH = struct.Struct(">i")
_LEAF_HASH, _CHAIN_HASH, _ORIGINATOR_ID = slice(30, 62), slice(66, 98), slice(102, 118)
_FROM_VERSION = 122
_TOPIC = 134
_COPY_TRAILER = b"\xff\xff"

EARLIEST = -(1 << 63)
"""Below every timestamptz in the binary format (microseconds since 2000, -infinity's value)."""

_MALFORMED = "its row does not have the shape of the events table (a column was altered)"
_ALTERED = "its stored leaf_hash does not match its contents (the event was altered)"
_BROKEN_CHAIN = "chain_hash does not follow from the leaves before it"
_OUT_OF_ORDER = "duplicated or out of order"
_BACKWARDS = "recorded_at runs backwards (its time was altered)"


def _missing(stored: int) -> str:
    return f"missing — the next stored leaf is {stored} (a row was deleted)"


@dataclass(frozen=True)
class ChunkResult:
    failure: tuple[int, str] | None  # the first leaf that fails, and why
    nodes: dict[merkle.Node, bytes]  # the chunk's own nodes and those of every checkpoint inside it (if it passed)


def _fixed_fields(row: Buffer) -> tuple[int, int, bytes] | None:
    """Leaf index, recorded_at (binary) and chain hash of a well-shaped row; None for any other row."""
    try:
        count, l1, index, l2, recorded, l3, l4, l5, l6, _ = _ROW.unpack_from(row)
    except struct.error:
        return None
    if (count, l1, l2, l3, l4, l5, l6) != _ROW_SHAPE:
        return None
    return index, recorded, bytes(row[_CHAIN_HASH])


def check_chunk(
    batches: Iterator[Sequence[Buffer]], start: int, end: int, sizes: Sequence[int], native: bool = False
) -> ChunkResult:
    """Fully check leaves [start, end), given the rows from leaf ``start - 1`` (or 0) on, in ``batches``: dense
    positions, every leaf hash recomputed from the row's own bytes, every chain link (from the stored chain hash of
    leaf ``start - 1``, which the chunk before checks), and recorded_at never running backwards. If all hold, also
    return the perfect nodes above these leaves that the roots at ``sizes`` (each in ``(start, end]``) need, and
    the chunk's own nodes.

    The rows are read in place (see :func:`check_rows_python`), by the pure-Python reference or, with ``native``,
    by the C accelerator, which gives the same results. ``batches`` is always read to its end, even after a
    failure: a COPY left half-read cannot be closed cleanly.
    """
    failure: tuple[int, str] | None = None
    first = next(batches, [])
    previous, last_time = GENESIS_CHAIN_HASH, EARLIEST
    if start > 0:
        anchor = _fixed_fields(first[0]) if first else None
        if anchor is None or anchor[0] != start - 1:
            for _ in batches:  # drain
                pass
            return ChunkResult(None, {})  # the chunk before reports leaf start - 1
        _, last_time, previous = anchor
        first = first[1:]
    if native:
        failure, expected, packed = check_rows_native(itertools.chain((first,), batches), start, previous, last_time)
    else:
        rows = itertools.chain(first, itertools.chain.from_iterable(batches))
        failure, expected, leaves = check_rows_python(rows, start, previous, last_time)
    for _ in batches:  # drain after a failure
        pass
    if failure is None and expected < end:
        failure = (expected, "missing — the log has no such row (rows were deleted)")
    if failure is not None:
        return ChunkResult(failure, {})
    nodes: dict[merkle.Node, bytes] = {}
    wanted = [node for size in (*sizes, end) for node in merkle.perfect_nodes(start, size)]
    if native:
        packed_levels = merkle.perfect_levels_packed(packed, accelerator=True)
        for level, index in wanted:
            at = (index - (start >> level)) * 32
            nodes[(level, index)] = packed_levels[level][at : at + 32]
    else:
        levels = merkle.perfect_levels(leaves, accelerator=False)
        for level, index in wanted:
            nodes[(level, index)] = levels[level][index - (start >> level)]
    return ChunkResult(None, nodes)


def check_rows_python(
    rows: Iterable[Buffer], expected: int, previous: bytes, last_time: int
) -> tuple[tuple[int, str] | None, int, list[bytes]]:
    """Check verification COPY rows in order, the first being leaf ``expected``, after chain hash ``previous``
    and recorded_at ``last_time``: the reference implementation (the C accelerator must agree with it).

    Returns the first failure (leaf index, why) or None, the leaf index after the last row that passed, and the
    leaf hashes of the rows that passed. Stops at the first failure, leaving the rest of ``rows`` unread. Each row
    is read in place: one struct for the fixed fields, two memoryview slices hashed, two compared; the COPY's
    trailer is skipped.
    """
    sha256 = hashlib.sha256
    read_row = _ROW.unpack_from
    read_length = _LENGTH.unpack_from
    prefix = sha256(LEAF_HASH_PREFIX)
    shape = _ROW_SHAPE
    leaves: list[bytes] = []
    keep = leaves.append
    failure: tuple[int, str] | None = None
    for row in rows:
        try:
            count, l1, index, l2, recorded, l3, l4, l5, l6, topic_length = read_row(row)
            state_length = read_length(row, _TOPIC + topic_length)[0]
        except struct.error:
            if row == _COPY_TRAILER:
                continue
            failure = (expected, _MALFORMED)
            break
        if (
            (count, l1, l2, l3, l4, l5, l6) != shape
            or topic_length < 0
            or state_length != len(row) - _TOPIC - 4 - topic_length
        ):
            failure = (expected, _MALFORMED)
            break
        if index != expected:
            failure = (expected, _missing(index) if index > expected else _OUT_OF_ORDER)
            break
        hasher = prefix.copy()
        hasher.update(row[_ORIGINATOR_ID])
        hasher.update(row[_FROM_VERSION:])
        leaf = hasher.digest()
        if leaf != row[_LEAF_HASH]:
            failure = (index, _ALTERED)
            break
        previous = sha256(previous + leaf).digest()
        if previous != row[_CHAIN_HASH]:
            failure = (index, _BROKEN_CHAIN)
            break
        if recorded < last_time:
            failure = (index, _BACKWARDS)
            break
        last_time = recorded
        keep(leaf)
        expected += 1
    return failure, expected, leaves


def check_rows_native(
    batches: Iterable[Sequence[Buffer]], expected: int, previous: bytes, last_time: int
) -> tuple[tuple[int, str] | None, int, bytes]:
    """:func:`check_rows_python` in C (``ledger.log._speedups.check_rows``), over the rows in batches as they
    stream in; the leaf hashes come back concatenated (32 bytes each). Stops after the batch with the first
    failure."""
    from ledger.log import _speedups  # built: the caller checked with ledger.log.speedups.use_native

    messages = {
        _speedups.FAILURE_MALFORMED: _MALFORMED,
        _speedups.FAILURE_LEAF: _ALTERED,
        _speedups.FAILURE_CHAIN: _BROKEN_CHAIN,
        _speedups.FAILURE_TIME: _BACKWARDS,
    }
    check = _speedups.check_rows
    parts: list[bytes] = []
    for batch in batches:
        expected, previous, last_time, leaves, failed = check(batch, expected, previous, last_time)
        parts.append(leaves)
        if failed is not None:
            index, kind, stored = failed
            if kind == _speedups.FAILURE_INDEX:
                return (index, _missing(stored) if stored > index else _OUT_OF_ORDER), expected, b"".join(parts)
            return (index, messages[kind]), expected, b"".join(parts)
    return None, expected, b"".join(parts)
