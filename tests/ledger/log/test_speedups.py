"""The C accelerator (ledger._speedups) against the pure-Python reference: the same results on every input.

Rows are built as PostgreSQL's binary COPY sends them for verify_log's query, their hashes from
``ledger.integrity`` (not from the code under test), then tampered with at random — flipped bytes anywhere or in a
chosen field, truncated or extended rows, another field count, NULLs, a narrowed column, deleted, duplicated,
swapped or re-indexed rows, times running backwards, stray trailers and garbage — and both implementations must
name the same first failure, stop at the same leaf and return the same leaf hashes. Named cases check that each
failure is the one the reference gives, so agreeing on "no failure" everywhere could not pass.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log import merkle, speedups
from ledger.log.integrity import chain_hash, leaf_hash_raw
from ledger.log.rows import check_rows_native, check_rows_python
from tests.implementations import ACCELERATORS, REQUIRED

needs_c = pytest.mark.skipif(
    not speedups.AVAILABLE and not REQUIRED,
    reason="the C accelerator ledger._speedups is not built in this installation",
)

Field = bytes | None  # None: SQL NULL (length -1, no bytes)
TRAILER = b"\xff\xff"
EARLIEST = -(1 << 63)


@dataclass(frozen=True)
class Row:
    """One row of the verification COPY, field by field: leaf_index, recorded_at, leaf_hash, chain_hash,
    originator_id, originator_version, topic, state."""

    fields: tuple[Field, ...]

    def encode(self) -> bytes:
        out = [struct.pack(">h", len(self.fields))]
        for field in self.fields:
            out.append(struct.pack(">i", -1) if field is None else struct.pack(">i", len(field)) + field)
        return b"".join(out)

    def with_field(self, position: int, value: Field) -> Row:
        fields = list(self.fields)
        fields[position] = value
        return replace(self, fields=tuple(fields))


@dataclass(frozen=True)
class Log:
    start: int  # the leaf index of the first row
    previous: bytes  # the chain hash before it
    last_time: int  # the recorded_at before it
    rows: list[Row]


def int8(value: int) -> bytes:
    return struct.pack(">q", value)


@st.composite
def logs(draw: st.DrawFn) -> Log:
    start = draw(st.integers(min_value=0, max_value=1 << 40), label="start")
    previous = draw(st.binary(min_size=32, max_size=32), label="previous")
    last_time = draw(st.one_of(st.just(EARLIEST), st.integers(min_value=-(1 << 62), max_value=1 << 62)))
    count = draw(st.integers(min_value=0, max_value=12), label="rows")
    time = max(last_time, -(1 << 62))
    chain = previous
    rows = []
    for i in range(count):
        originator = draw(st.binary(min_size=16, max_size=16))
        version = draw(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))
        topic = draw(st.binary(max_size=40))
        state = draw(st.binary(max_size=300))
        time += draw(st.integers(min_value=0, max_value=10**9))
        leaf = leaf_hash_raw(originator, version, topic, state)
        chain = chain_hash(chain, leaf)
        rows.append(Row((int8(start + i), int8(time), leaf, chain, originator, int8(version), topic, state)))
    return Log(start, previous, last_time, rows)


def row_edits(rows: list[Row], data: st.DataObject) -> list[Row]:
    """Tampering with the rows' fields and their order."""
    rows = list(rows)
    for _ in range(data.draw(st.integers(min_value=0, max_value=3), label="row edits")):
        kinds = ["null", "narrow", "count", "field", "backwards", "index", "duplicate"]
        if rows:
            kinds += ["delete", "swap"]
        else:
            break
        kind = data.draw(st.sampled_from(kinds), label="row edit")
        i = data.draw(st.integers(min_value=0, max_value=len(rows) - 1), label="row")
        row = rows[i]
        if kind in ("null", "narrow", "field", "backwards", "index") and len(row.fields) < 8:
            kind = "count"  # an earlier edit dropped a column: edits of a field apply to whole rows only
        if kind == "null":
            rows[i] = row.with_field(data.draw(st.integers(min_value=0, max_value=7)), None)
        elif kind == "narrow":  # originator_version altered to integer: 4 bytes
            rows[i] = row.with_field(5, struct.pack(">i", data.draw(st.integers(-(1 << 31), (1 << 31) - 1))))
        elif kind == "count":  # a column dropped or added
            if data.draw(st.booleans()) and row.fields:
                rows[i] = replace(row, fields=row.fields[:-1])
            else:
                rows[i] = replace(row, fields=(*row.fields, data.draw(st.binary(max_size=8))))
        elif kind == "field":  # a field of another length or value
            position = data.draw(st.integers(min_value=0, max_value=len(row.fields) - 1))
            rows[i] = row.with_field(position, data.draw(st.binary(max_size=40)))
        elif kind == "backwards":
            recorded_at = row.fields[1]  # an earlier edit may have left it NULL or of another length
            time = struct.unpack(">q", recorded_at)[0] if recorded_at is not None and len(recorded_at) == 8 else 0
            earlier = max(time - data.draw(st.integers(min_value=1, max_value=10**12)), -(1 << 63))
            rows[i] = row.with_field(1, int8(earlier))
        elif kind == "index":
            rows[i] = row.with_field(0, int8(data.draw(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 2))))
        elif kind == "duplicate":
            rows.insert(i, row)
        elif kind == "delete":
            del rows[i]
        else:
            j = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
            rows[i], rows[j] = rows[j], rows[i]
    return rows


# Where each field's bytes lie in a well-shaped row (the topic's are from 134 on; the state's last).
REGIONS = {
    "count": (0, 2),
    "index": (6, 14),
    "recorded_at": (18, 26),
    "leaf_hash": (30, 62),
    "chain_hash": (66, 98),
    "originator_id": (102, 118),
    "version": (122, 130),
    "topic length": (130, 134),
    "lengths": (2, 6),
}


def byte_edits(encoded: list[bytes], data: st.DataObject) -> list[bytes]:
    """Tampering with the rows' bytes."""
    encoded = list(encoded)
    for _ in range(data.draw(st.integers(min_value=0, max_value=3), label="byte edits")):
        kinds = ["trailer", "garbage"]
        if encoded:
            kinds += ["flip", "flip field", "flip state", "truncate", "extend"]
        kind = data.draw(st.sampled_from(kinds), label="byte edit")
        if kind in ("trailer", "garbage"):
            at = data.draw(st.integers(min_value=0, max_value=len(encoded)))
            encoded.insert(at, TRAILER if kind == "trailer" else data.draw(st.binary(max_size=160)))
            continue
        i = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1), label="row")
        row = bytearray(encoded[i])
        if kind == "truncate":
            encoded[i] = bytes(row[: data.draw(st.integers(min_value=0, max_value=max(len(row) - 1, 0)))])
            continue
        if kind == "extend":
            encoded[i] = bytes(row) + data.draw(st.binary(min_size=1, max_size=8))
            continue
        if not row:
            continue
        if kind == "flip":
            lo, hi = 0, len(row)
        elif kind == "flip state":
            lo, hi = max(len(row) - 8, 0), len(row)
        else:
            lo, hi = REGIONS[data.draw(st.sampled_from(sorted(REGIONS)))]
            lo, hi = min(lo, len(row) - 1), min(hi, len(row))
        at = data.draw(st.integers(min_value=lo, max_value=max(hi - 1, lo)))
        row[at] ^= data.draw(st.integers(min_value=1, max_value=255))
        encoded[i] = bytes(row)
    return encoded


def batched(rows: Sequence[bytes | memoryview], size: int) -> list[list[bytes | memoryview]]:
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)] or [[]]


Checked = tuple[tuple[int, str] | None, int, bytes]


def check_python(log: Log, rows: Sequence[bytes | memoryview]) -> Checked:
    failure, expected, leaves = check_rows_python(rows, log.start, log.previous, log.last_time)
    return failure, expected, b"".join(leaves)


def check_c(log: Log, rows: Sequence[bytes | memoryview], batch: int = 1024) -> Checked:
    return check_rows_native(batched(rows, batch), log.start, log.previous, log.last_time)


@needs_c
@settings(max_examples=1500, deadline=None)
@given(log=logs(), data=st.data())
def test_c_and_python_agree_on_random_and_tampered_rows(log: Log, data: st.DataObject) -> None:
    rows: list[bytes | memoryview] = list(byte_edits([row.encode() for row in row_edits(log.rows, data)], data))
    if data.draw(st.booleans(), label="memoryviews"):  # what the COPY reader hands over
        rows = [memoryview(row) for row in rows]
    batch = data.draw(st.integers(min_value=1, max_value=16), label="batch")
    expected = check_python(log, rows)
    assert check_c(log, rows, batch) == expected


@needs_c
@settings(max_examples=300, deadline=None)
@given(log=logs())
def test_intact_rows_pass_with_their_leaf_hashes(log: Log) -> None:
    rows = [row.encode() for row in log.rows] + [TRAILER]
    leaves = b"".join(row.fields[2] or b"" for row in log.rows)
    assert check_python(log, rows) == (None, log.start + len(log.rows), leaves)
    assert check_c(log, rows) == (None, log.start + len(log.rows), leaves)


def intact(count: int = 5) -> Log:
    rows, chain, time = [], bytes(32), 1_000
    for i in range(count):
        originator, topic, state = bytes([i]) * 16, f"ledger.Topic{i}".encode(), f'{{"n": {i}}}'.encode()
        leaf = leaf_hash_raw(originator, i + 1, topic, state)
        chain = chain_hash(chain, leaf)
        time += 10
        rows.append(Row((int8(10 + i), int8(time), leaf, chain, originator, int8(i + 1), topic, state)))
    return Log(10, bytes(32), 0, rows)


def flip(row: bytes, at: int) -> bytes:
    return row[:at] + bytes([row[at] ^ 1]) + row[at + 1 :]


LOG = intact()
ENCODED = [row.encode() for row in LOG.rows]
MALFORMED = "its row does not have the shape of the events table (a column was altered)"
NAMED_CASES: dict[str, tuple[list[bytes], tuple[int, str] | None]] = {
    "intact": (ENCODED, None),
    "intact, then the trailer": ([*ENCODED, TRAILER], None),
    "altered state": (
        [*ENCODED[:2], flip(ENCODED[2], len(ENCODED[2]) - 1), *ENCODED[3:]],
        (12, "its stored leaf_hash does not match its contents (the event was altered)"),
    ),
    "altered stored leaf hash": (
        [*ENCODED[:2], flip(ENCODED[2], 40), *ENCODED[3:]],
        (12, "its stored leaf_hash does not match its contents (the event was altered)"),
    ),
    "altered chain hash": (
        [*ENCODED[:3], flip(ENCODED[3], 70), *ENCODED[4:]],
        (13, "chain_hash does not follow from the leaves before it"),
    ),
    "deleted row": ([*ENCODED[:1], *ENCODED[2:]], (11, "missing — the next stored leaf is 12 (a row was deleted)")),
    "duplicated row": ([*ENCODED[:2], ENCODED[1], *ENCODED[2:]], (12, "duplicated or out of order")),
    "swapped rows (indexes swapped too)": (
        [
            *ENCODED[:1],
            LOG.rows[2].with_field(0, int8(11)).encode(),
            LOG.rows[1].with_field(0, int8(12)).encode(),
            *ENCODED[3:],
        ],
        (11, "chain_hash does not follow from the leaves before it"),
    ),
    "time running backwards": (
        [*ENCODED[:4], LOG.rows[4].with_field(1, int8(1_000)).encode()],
        (14, "recorded_at runs backwards (its time was altered)"),
    ),
    "truncated row": ([*ENCODED[:1], ENCODED[1][:-1], *ENCODED[2:]], (11, MALFORMED)),
    "row shorter than the fixed fields": ([ENCODED[0][:100]], (10, MALFORMED)),
    "a field too many": ([Row((*LOG.rows[0].fields, b"")).encode()], (10, MALFORMED)),
    "a NULL state": ([LOG.rows[0].with_field(7, None).encode()], (10, MALFORMED)),
    "version narrowed to integer": ([LOG.rows[0].with_field(5, struct.pack(">i", 1)).encode()], (10, MALFORMED)),
    "negative topic length": ([ENCODED[0][:130] + struct.pack(">i", -4) + ENCODED[0][134:]], (10, MALFORMED)),
}


@pytest.mark.parametrize("accelerator", ACCELERATORS)
@pytest.mark.parametrize("case", list(NAMED_CASES))
def test_each_kind_of_tampering_names_the_same_leaf_and_reason(case: str, accelerator: bool) -> None:
    rows, failure = NAMED_CASES[case]
    checked = check_c(LOG, rows, batch=2) if accelerator else check_python(LOG, rows)
    assert checked[0] == failure


@needs_c
def test_the_c_functions_refuse_what_they_cannot_read() -> None:
    from ledger.log import _speedups

    with pytest.raises(ValueError, match="32-byte"):
        _speedups.check_rows([], 0, b"short", 0)
    with pytest.raises(TypeError):
        _speedups.check_rows(5, 0, bytes(32), 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _speedups.check_rows(["not bytes"], 0, bytes(32), 0)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="32-byte"):
        _speedups.merkle_level(bytes(33))
    assert _speedups.merkle_level(b"") == b""
    assert _speedups.merkle_level(bytes(32)) == b""


@needs_c
def test_a_leaf_index_past_the_largest_bigint_is_refused_not_wrapped() -> None:
    from ledger.log import _speedups

    last = (1 << 63) - 1
    originator, topic, state = bytes(16), b"t", b"s"
    leaf = leaf_hash_raw(originator, 1, topic, state)
    row = Row((int8(last), int8(0), leaf, chain_hash(bytes(32), leaf), originator, int8(1), topic, state)).encode()
    with pytest.raises(OverflowError):
        _speedups.check_rows([row], last, bytes(32), 0)


# ----------------------------------------------------------------------------------------------------- the tree


def python_level(hashes: bytes) -> bytes:
    """RFC 9162 parents of consecutive pairs, written out here (not the code under test)."""
    pairs = range(0, len(hashes) - 63, 64)
    return b"".join(hashlib.sha256(b"\x01" + hashes[i : i + 64]).digest() for i in pairs)


@needs_c
@settings(max_examples=300, deadline=None)
@given(hashes=st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_merkle_levels_agree(hashes: list[bytes]) -> None:
    from ledger.log import _speedups

    joined = b"".join(hashes)
    assert _speedups.merkle_level(joined) == python_level(joined)
    assert _speedups.merkle_level(memoryview(joined)) == python_level(joined)
    reference = merkle.perfect_levels(hashes, accelerator=False)
    assert merkle.perfect_levels(hashes, accelerator=True) == reference
    packed = [b"".join(level) for level in reference]
    assert merkle.perfect_levels_packed(joined, accelerator=True) == packed
    assert merkle.perfect_levels_packed(joined, accelerator=False) == packed


@needs_c
def test_hashes_of_other_lengths_take_the_reference_path() -> None:
    odd = [b"a" * 31, b"b" * 33]
    assert merkle.perfect_levels(odd, accelerator=True) == merkle.perfect_levels(odd, accelerator=False)


@needs_c
def test_which_implementation_runs() -> None:
    assert speedups.use_native(True) is True
    assert speedups.use_native(False) is False
    assert speedups.describe(True).startswith("C accelerator, OpenSSL ")
    assert speedups.describe(False) == "pure-Python reference"


@needs_c
def test_the_environment_forces_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(speedups.PURE_PYTHON, raising=False)
    assert speedups.use_native() is True
    monkeypatch.setenv(speedups.PURE_PYTHON, "1")
    assert speedups.use_native() is False
    assert speedups.use_native(True) is True  # an explicit choice wins
    monkeypatch.setenv(speedups.PURE_PYTHON, "0")
    assert speedups.use_native() is True


def test_without_the_extension_the_reference_runs_and_c_cannot_be_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speedups, "AVAILABLE", False)
    monkeypatch.delenv(speedups.PURE_PYTHON, raising=False)
    assert speedups.use_native() is False
    assert speedups.use_native(False) is False
    with pytest.raises(speedups.AcceleratorUnavailable, match="not built"):
        speedups.use_native(True)
