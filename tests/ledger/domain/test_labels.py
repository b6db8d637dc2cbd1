"""Every code the ledger records has its Chinese label (ledger/domain/labels.toml), and the labels kept elsewhere
before it agree with it."""

from __future__ import annotations

import re

from ledger.domain.aggregates import AGGREGATES
from ledger.domain.decisions import KIND_ZH
from ledger.domain.labels import ENUMS, LABELS, label

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_member_of_every_labelled_enum_has_a_chinese_label() -> None:
    for vocabulary, enum in ENUMS.items():
        for member in enum:
            found = label(vocabulary, member.value)
            assert found, f"{vocabulary}: {member.value!r} has no label"
            assert CHINESE.search(found), f"{vocabulary}: {member.value!r} is labelled {found!r}"


def test_every_label_is_chinese_and_unknown_codes_have_none() -> None:
    assert len(LABELS) > 20
    for vocabulary, codes in LABELS.items():
        assert codes, vocabulary
        for code, text in codes.items():
            assert CHINESE.search(text), f"{vocabulary}: {code!r} is labelled {text!r}"
    assert label("stage", "closed") == "已关闭"
    assert label("budget_book", "government_fund") == "政府性基金预算"
    assert label("result_decision", "prioritise") == "优先保障"
    assert label("stage", "no-such-stage") is None


def test_the_decision_kinds_named_before_the_vocabulary_agree_with_it() -> None:
    assert LABELS["decision_kind"] == KIND_ZH


def test_every_aggregate_is_labelled_as_an_object_type() -> None:
    """The trail and the history name each object's type in Chinese: every aggregate the ledger records has one."""
    assert {aggregate.__name__ for aggregate in AGGREGATES} <= set(LABELS["object_type"])
