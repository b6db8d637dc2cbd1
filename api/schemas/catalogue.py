"""The indicator library, the rulesets and the re-evaluation sample: their commands."""

from __future__ import annotations

import hashlib
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

# The examples' secret and contribution: fixed strings' digests, for the documentation only (a real one is 32 random
# bytes, e.g. `openssl rand -hex 32`, kept by finance until the reveal).
EXAMPLE_SECRET = hashlib.sha256("示例：财政局抽查密钥（切勿使用）".encode()).hexdigest()
EXAMPLE_COMMITMENT = hashlib.sha256(bytes.fromhex(EXAMPLE_SECRET)).hexdigest()
EXAMPLE_CONTRIBUTION = hashlib.sha256("示例：审计局随机数（切勿使用）".encode()).hexdigest()
DrawHex = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class DrawAnnouncement(CommandBody):
    model_config = with_examples(
        {"commitment": EXAMPLE_COMMITMENT, "effective_on": "2022-04-01", "reason": "2021年度财政再评价抽查公告"}
    )

    commitment: DrawHex = Field(
        description="SHA-256 (hex) of finance's secret — at least 32 random bytes, kept until the reveal; never the "
        "secret itself"
    )
    size: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="At least the ruleset's rate (rounded up); default: exactly that"
    )


class DrawContribution(CommandBody):
    model_config = with_examples({"contribution": EXAMPLE_CONTRIBUTION, "effective_on": "2022-04-06"})

    contribution: DrawHex = Field(description="The audit office's own random bytes, hex: at least 32 bytes")


class DrawReveal(CommandBody):
    model_config = with_examples({"secret": EXAMPLE_SECRET, "effective_on": "2022-04-08"})

    secret: DrawHex = Field(description="Finance's secret, hex: its SHA-256 must be the commitment announced")


class ReEvaluationCommission(CommandBody):
    model_config = with_examples({"agency": "某咨询评估有限公司", "effective_on": "2022-04-12"})

    agency: ShortText = Field(description="The agency finance commissions to re-evaluate the project")


class SampleDraw(CommandBody):
    """The single-party draw of the first releases: refused (``draw-retired``), kept so its operation stays."""

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
