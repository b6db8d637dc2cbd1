"""The verifier's hot loop in C (ledger/log/_speedups.c); the pure-Python reference is in ledger.log.rows and
ledger.log.merkle."""

from collections.abc import Sequence
from typing import TypeAlias

Buffer: TypeAlias = bytes | bytearray | memoryview

FAILURE_MALFORMED: int
FAILURE_INDEX: int
FAILURE_LEAF: int
FAILURE_CHAIN: int
FAILURE_TIME: int
OPENSSL_VERSION: str

def check_rows(
    rows: Sequence[Buffer], expected: int, previous: Buffer, last_time: int, /
) -> tuple[int, bytes, int, bytes, tuple[int, int, int] | None]: ...
def merkle_level(hashes: Buffer, /) -> bytes: ...
