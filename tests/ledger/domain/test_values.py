"""Unit tests for ledger.values: money, scores, text, evidence, enums, principals, fiscal years."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.values import (
    CONTROL_CHARACTER,
    LONG_TEXT,
    MAX_MONEY,
    SHORT_TEXT,
    SURROGATE,
    SYSTEM,
    BudgetBook,
    Principal,
    Role,
    enum_value,
    evidence,
    fiscal_year,
    key,
    money,
    reason,
    score,
    text,
)

DIGEST = "ab" * 32  # a well-formed SHA-256 hex digest
OTHER_DIGEST = "0123456789abcdef" * 4


# ---------------------------------------------------------------------------
# money
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("12.30", "12.30"),
        ("12.3", "12.30"),
        (12, "12.00"),
        (0, "0.00"),
        (Decimal("4800000"), "4800000.00"),
        (Decimal("0.01"), "0.01"),
        (Decimal("12.300"), "12.30"),  # trailing zero beyond fen is not a third place
        (str(MAX_MONEY), str(MAX_MONEY)),
    ],
)
def test_money_accepts_strings_integers_and_decimals_as_two_place_decimal(given: object, expected: str) -> None:
    result = money(given)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2
    assert str(result) == expected


@pytest.mark.parametrize(
    "given",
    [
        "-0.01",
        -1,
        Decimal("-12.30"),
        "0.001",
        "12.305",
        Decimal("0.001"),
        1.5,
        0.0,
        float("nan"),
        float("inf"),
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        True,
        False,
        "abc",
        "",
        None,
        [12],
        "1000000000000.00",  # one fen above MAX_MONEY
    ],
)
def test_money_refuses_malformed_or_out_of_range_amounts(given: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        money(given, "requested")
    assert excinfo.value.code == "invalid-money"
    assert excinfo.value.field == "requested"


@pytest.mark.parametrize("given", ["1e309", "1e26", Decimal("1E+40"), 10**30])
def test_money_refuses_absurdly_large_amounts_with_invalid_money(given: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        money(given)
    assert excinfo.value.code == "invalid-money"


def test_money_refuses_float_even_when_exact() -> None:
    with pytest.raises(InvalidInput, match="not a float"):
        money(1.5)


def test_money_refuses_zero_when_not_allowed() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        money("0.00", allow_zero=False)
    assert excinfo.value.code == "invalid-money"


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("given", [0, "0", "100", 100, Decimal("99.99"), Decimal("0.01"), "50.5"])
def test_score_accepts_zero_to_hundred_inclusive(given: int | str | Decimal) -> None:
    assert score(given) == Decimal(given)


@pytest.mark.parametrize("given", ["-0.01", "100.01", 101, -1, 1.0, True, "NaN", "Infinity", "1e309", "x"])
def test_score_refuses_out_of_range_or_malformed(given: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        score(given)
    assert excinfo.value.code == "invalid-score"


def test_score_respects_custom_maximum() -> None:
    assert score("20", maximum=Decimal(20)) == Decimal(20)
    with pytest.raises(InvalidInput):
        score("20.01", maximum=Decimal(20))


# ---------------------------------------------------------------------------
# text and reason
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["Caf" + "e\u0301", "\uf900城区", "ＡＢＣ评估公司", "某某（集团）", "教育局\u3000"])
def test_text_is_stored_exactly_as_given(given: str) -> None:
    """No normalisation on write: NFC would rewrite U+F900 as U+8C48, and an audit ledger keeps what it was given."""
    assert text(given, "name") == given


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Caf" + "e\u0301", "Caf\u00e9"),  # NFD and NFC
        ("\uf900城区", "\u8c48城区"),  # a CJK compatibility ideograph and its canonical ideograph
        ("ＡＢＣ评估公司", "ABC评估公司"),  # full-width Latin, as a Chinese input method types it
        ("abc评估公司", "ABC评估公司"),
        ("某某（集团）", "某某(集团)"),
        ("教育局\u3000", "教育局"),  # an ideographic space typed after it
        ("  老旧小区   改造 ", "老旧小区 改造"),
        ("ＪＹ－０１", "jy-01"),
    ],
)
def test_spellings_of_one_name_have_one_key(one: str, other: str) -> None:
    assert one != other
    assert key(one) == key(other)
    assert key(key(one)) == key(one)
    assert unicodedata.is_normalized("NFKC", key(one))


@pytest.mark.parametrize(
    ("one", "other"), [("教育局", "教育厅"), ("衛生局", "卫生局"), ("JY-01", "JY-1"), ("老旧小区改造", "老旧小区 改造")]
)
def test_different_names_keep_different_keys(one: str, other: str) -> None:
    assert key(one) != key(other)


def test_text_keeps_traditional_and_damaged_text_exactly() -> None:
    for value in ("衛生健康委員會", "教育局\ufffd", "  前后空格  "):
        assert text(value, "name") == value


@pytest.mark.parametrize(("limit", "call"), [(SHORT_TEXT, text), (LONG_TEXT, reason)])
def test_text_length_limit(limit: int, call: object) -> None:
    assert callable(call)
    assert call("字" * limit, "field") == "字" * limit
    with pytest.raises(InvalidInput) as excinfo:
        call("字" * (limit + 1), "field")
    assert excinfo.value.code == "text-too-long"
    assert excinfo.value.field == "field"


def test_text_length_counted_as_read() -> None:
    # 200 decomposed é are 400 code points but 200 as read (NFC): accepted, and kept decomposed.
    assert text("e\u0301" * SHORT_TEXT, "name") == "e\u0301" * SHORT_TEXT


@pytest.mark.parametrize("char", ["\x00", "\x07", "\r", "\x1b", "\x7f", "\x85"])
def test_text_refuses_control_characters(char: str) -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        text(f"abc{char}def", "name")


def test_text_allows_newline_and_tab() -> None:
    assert text("第一行\n\t第二行", "name") == "第一行\n\t第二行"


def test_text_refuses_unpaired_surrogates() -> None:
    with pytest.raises(InvalidInput, match="surrogates"):
        text("abc\ud800", "name")


@pytest.mark.parametrize("given", [None, "", "   ", "\n\t"])
def test_text_required(given: object) -> None:
    with pytest.raises(InvalidInput, match="required"):
        text(given, "name")
    assert text(given, "name", required=False) == (given or "")


@pytest.mark.parametrize("given", [12, b"bytes", ["x"]])
def test_text_refuses_non_text(given: object) -> None:
    with pytest.raises(InvalidInput, match="must be text"):
        text(given, "name")


def test_reason_optional_unless_required() -> None:
    assert reason(None) == ""
    with pytest.raises(InvalidInput) as excinfo:
        reason("  ", required=True)
    assert excinfo.value.code == "reason-required"


# ---------------------------------------------------------------------------
# evidence
# ---------------------------------------------------------------------------


def test_evidence_lower_cases_and_deduplicates_keeping_order() -> None:
    result = evidence([DIGEST.upper(), OTHER_DIGEST, DIGEST, OTHER_DIGEST.upper()])
    assert result == [DIGEST, OTHER_DIGEST]


@pytest.mark.parametrize("given", [None, [], ()])
def test_evidence_empty(given: object) -> None:
    assert evidence(given) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "item",
    [
        "ab" * 31,  # short
        "ab" * 32 + "a",  # long
        "g" * 64,  # not hex
        " " + "ab" * 32,
        "ab" * 32 + "\n",
        "md5:" + "ab" * 30,
        "",
        12,
        None,
    ],
)
def test_evidence_refuses_non_digests(item: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        evidence([DIGEST, item])  # type: ignore[list-item]
    assert excinfo.value.code == "invalid-evidence"


def test_evidence_refuses_more_than_hundred_documents() -> None:
    many = [f"{i:064x}" for i in range(101)]
    assert len(evidence(many[:100])) == 100
    with pytest.raises(InvalidInput) as excinfo:
        evidence(many)
    assert excinfo.value.code == "invalid-evidence"


# ---------------------------------------------------------------------------
# enums, principals, fiscal years
# ---------------------------------------------------------------------------


def test_enum_value_accepts_member_values() -> None:
    assert enum_value(BudgetBook, "state_capital", "budget_book") is BudgetBook.STATE_CAPITAL


def test_enum_value_refusal_lists_allowed_values() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        enum_value(BudgetBook, "local_bonds", "budget_book")
    message = str(excinfo.value)
    for member in BudgetBook:
        assert member.value in message
    assert "local_bonds" in message
    assert excinfo.value.field == "budget_book"


@pytest.mark.parametrize("role", ["finance", Role.FINANCE])
def test_principal_stores_role_as_plain_str(role: str) -> None:
    principal = Principal("fin-01", role, "市财政局")
    assert principal.role == "finance"
    assert type(principal.role) is str
    assert principal == Principal("fin-01", "finance", "市财政局")
    assert not principal.is_system


def test_principal_refuses_unknown_role() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Principal("x-01", "mayor", "市政府")
    assert excinfo.value.field == "principal.role"
    assert "finance" in str(excinfo.value)


def test_principal_requires_an_id_but_not_an_organisation() -> None:
    with pytest.raises(InvalidInput):
        Principal("", "finance", "市财政局")
    assert Principal("pub", "public", "").organisation == ""


def test_system_principal() -> None:
    assert SYSTEM.is_system
    assert SYSTEM.role == "system"


@pytest.mark.parametrize("year", [2000, 2021, 2100])
def test_fiscal_year_accepts_bounds(year: int) -> None:
    assert fiscal_year(year) == year


@pytest.mark.parametrize("year", [1999, 2101, "2021", 2021.0, True, None])
def test_fiscal_year_refuses_out_of_range_or_non_int(year: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        fiscal_year(year)
    assert excinfo.value.field == "fiscal_year"


def test_the_control_and_surrogate_classes_are_exactly_unicodes_categories() -> None:
    every = "".join(map(chr, range(0x110000)))
    assert set(CONTROL_CHARACTER.findall(every)) == {
        ch for ch in every if unicodedata.category(ch) == "Cc" and ch not in "\n\t"
    }
    assert set(SURROGATE.findall(every)) == {ch for ch in every if unicodedata.category(ch) == "Cs"}
