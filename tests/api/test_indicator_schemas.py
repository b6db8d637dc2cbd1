"""An indicator's request schema turns itself into the ledger's ``Indicator`` (one method, for project goals and for
overall goals alike): the documented examples become the indicators the domain checks and accepts."""

from __future__ import annotations

from decimal import Decimal

from api.schemas.overall import OVERALL_GOALS_EXAMPLE, OverallIndicatorIn
from api.schemas.projects import GOALS_EXAMPLE, IndicatorIn
from ledger.domain import rules
from ledger.domain.overall import validate_overall_goals
from ledger.domain.values import Indicator


def test_a_project_indicator_keeps_every_field_and_its_library_reference() -> None:
    item = IndicatorIn.model_validate({**GOALS_EXAMPLE[0], "library_ref": "JY-OUT-01"})
    assert item.indicator() == Indicator(
        "I1", "output", "quantity", "受益学生人数", ">=", Decimal(5000), "人", Decimal(30), "JY-OUT-01"
    )
    indicators = [IndicatorIn.model_validate(example).indicator() for example in GOALS_EXAMPLE]
    rules.validate_goals(indicators, rules.DEFAULT_PARAMETERS)


def test_an_overall_indicator_takes_a_qualitative_target_as_its_plain_text() -> None:
    indicators = [OverallIndicatorIn.model_validate(example).indicator() for example in OVERALL_GOALS_EXAMPLE]
    social = next(item for item in indicators if item.key == "social")
    assert (social.operator, social.target, social.library_ref) == ("qualitative", "较好", None)
    assert type(social.target) is str
    assert indicators[0].target == Decimal(100)
    validate_overall_goals(indicators)
