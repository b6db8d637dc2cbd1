"""What the tests of the rules' edges share (``test_rules_survivors.py``, ``test_rules_refusals.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger.domain import rules
from ledger.domain.errors import InvalidInput
from ledger.domain.values import Indicator

D = Decimal
P = rules.DEFAULT_PARAMETERS
WEIGHTS = P.re_evaluation_weights  # decision 15, process 20, output 35, effect 30


HUNDRED = D(100)
TEN = D(10)


def indicator(operator: str = ">=", target: Decimal | str = HUNDRED, weight: Any = TEN) -> Indicator:
    return Indicator(
        key="k",
        level1="output",
        level2="quantity",
        name="指标",
        operator=operator,
        target=target,
        unit="个",
        weight=weight,
    )


def wrong(value: object) -> Any:
    """``value`` as an argument of the wrong type, on purpose: what a caller outside the type checker could pass."""
    return value


def refused_field(error: pytest.ExceptionInfo[InvalidInput]) -> str | None:
    """The field a refusal names, once it is seen to say why in a text of its own (whatever the wording)."""
    assert isinstance(error.value.detail, str)
    assert error.value.detail.strip()
    return error.value.field
