"""The indicator library, the rulesets and the re-evaluation sample: their commands."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from api.schemas.common import (
    CommandBody,
    ShortText,
    Strict,
    Year,
    with_examples,
)
from ledger.domain.values import Level1, Operator


class SampleDraw(CommandBody):
    model_config = with_examples({"fiscal_year": 2021, "seed": "2022-04-01 市财政局抽签", "effective_on": "2022-04-01"})

    fiscal_year: Year
    seed: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="Recorded with the draw so anyone can redo it; default: random"
    )
    size: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="At least the ruleset's rate (rounded up); default: exactly that"
    )


class IndicatorDefinition(Strict):
    name: ShortText
    level1: Level1
    level2: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    operator: Operator
    standard: Annotated[str, StringConstraints(max_length=400)] = ""
    unit: Annotated[str, StringConstraints(max_length=32)] = ""
    industry: Annotated[str, StringConstraints(max_length=64)] = ""


class IndicatorCreate(CommandBody):
    model_config = with_examples(
        {
            "code": "EDU-001",
            "definition": {
                "name": "受益学生人数",
                "level1": "output",
                "level2": "quantity",
                "operator": ">=",
                "standard": "按学籍统计",
                "unit": "人",
                "industry": "教育",
            },
            "effective_on": "2020-07-01",
        }
    )

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    definition: IndicatorDefinition


class IndicatorRevision(CommandBody):
    model_config = with_examples(
        {
            "definition": {
                "name": "受益学生人数",
                "level1": "output",
                "level2": "quantity",
                "operator": ">=",
                "standard": "按学籍和在校统计",
                "unit": "人",
                "industry": "教育",
            },
            "reason": "口径调整",
            "effective_on": "2021-07-01",
        }
    )

    definition: IndicatorDefinition


class IndicatorRetirement(CommandBody):
    model_config = with_examples({"reason": "被新指标取代", "effective_on": "2022-01-01"})


class RulesetAdoption(CommandBody):
    model_config = with_examples(
        {
            "version": 2,
            "parameters": {"re_evaluation_rate": "0.15"},
            "reason": "提高再评价抽查比例",
            "effective_on": "2022-01-01",
        }
    )

    version: Annotated[int, Field(ge=2)]
    parameters: dict[str, Any] = Field(
        description=(
            "Changes from the defaults (ruleset version 1), by name (the README's rules section lists them); unknown "
            "names are refused. Decimals as strings; yearly deadlines as [years after the fiscal year, month, day] "
            "(goal_submission_due [-1, 10, 31] is (Y−1)-10-31); qualitative_shares as [grade, share] pairs, "
            "好 to 较差; overall_goals_coverage as [from fiscal year, percent] pairs. A refusal names the "
            'parameter ("field"): invalid-rule-parameter, invalid-weights, or re-evaluation-rate-below-minimum '
            "(不低于10%)."
        ),
        examples=[
            {"re_evaluation_rate": "0.15"},
            {"self_evaluation_due": [1, 4, 30], "overall_goals_coverage": [[2021, "60"], [2022, "100"]]},
        ],
    )
