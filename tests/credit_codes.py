"""Valid 统一社会信用代码 for tests: one agency per code, so each agency a test registers needs its own."""

from __future__ import annotations

from hashlib import sha256

from ledger.domain.credit_code import check_character, organisation_check_character
from ledger.domain.values import key


def credit_code(n: int) -> str:
    """The ``n``-th valid code (an enterprise, 91, of 德令哈 632800): GB 11714 and GB 32100 check characters right."""
    body = f"{n:08d}"
    first17 = "91632800" + body + organisation_check_character(body)
    return first17 + check_character(first17)


def code_of(name: str) -> str:
    """A valid code of the agency ``name``'s own (from its key: every spelling of one name has one code)."""
    return credit_code(int.from_bytes(sha256(key(name).encode()).digest()[:4]) % 10**8)
