"""统一社会信用代码 (the unified social credit code, GB 32100-2015): eighteen characters, the last a check character.

Positions 1–2 are the registration authority and the organisation type, 3–8 the administrative division, 9–17 the
organisation code (组织机构代码, GB 11714-1997: eight characters and its own check character) and 18 the check
character over the seventeen before it. Both checks are pure arithmetic, so a code is refused where it was mistyped,
before it is recorded beside an agency and published with a blacklisting (信用青海 takes it as the key of the entry).
"""

from __future__ import annotations

import unicodedata
from typing import Final

from ledger.domain.errors import InvalidInput

# The 31 characters a code is written in: the digits and the capitals but I, O, S, V and Z; each worth its index.
CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^(i) mod 31, positions 1–17
ORGANISATION_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714, positions 1–8 of the organisation code
LENGTH: Final = 18


def check_character(first17: str) -> str:
    """The GB 32100 check character of a code's first seventeen characters: 31 − (Σ value × weight mod 31), 31 → 0."""
    total = sum(CHARSET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def organisation_check_character(body: str) -> str:
    """The GB 11714 check character of an organisation code's eight characters (digits 0–9, letters A=10 … Z=35):
    11 − (Σ value × weight mod 11), 10 → X, 11 → 0."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, ORGANISATION_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code(value: object, field: str = "credit_code") -> str:
    """``value`` as a valid unified social credit code, in its canonical form (NFKC, capitals, no spaces: codes are
    typed with full-width characters and in lower case as often as not); else 422 ``invalid-credit-code`` naming
    what is wrong, in Chinese and English."""
    if not isinstance(value, str):
        raise InvalidInput(
            "统一社会信用代码须为文本; the credit code must be text", code="invalid-credit-code", field=field
        )
    code = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(code) != LENGTH:
        raise InvalidInput(
            f"统一社会信用代码须为18位，而非{len(code)}位; the credit code has 18 characters, not {len(code)}",
            code="invalid-credit-code",
            field=field,
        )
    wrong = sorted({char for char in code if char not in CHARSET})
    if wrong:
        raise InvalidInput(
            f"统一社会信用代码含非法字符 {''.join(wrong)}（不使用 I、O、S、V、Z）; "
            f"the credit code has characters outside its set: {''.join(wrong)}",
            code="invalid-credit-code",
            field=field,
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            f"统一社会信用代码校验码错误（应为 {expected}）; the check character should be {expected}",
            code="invalid-credit-code",
            field=field,
        )
    organisation = organisation_check_character(code[8:16])
    if code[16] != organisation:
        raise InvalidInput(
            f"统一社会信用代码第9–17位（组织机构代码）校验码错误（应为 {organisation}）; "
            f"the organisation code in characters 9–17 should end in {organisation}",
            code="invalid-credit-code",
            field=field,
        )
    return code
