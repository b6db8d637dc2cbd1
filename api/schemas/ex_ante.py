"""The department's ex-ante assessment (事前绩效评估): the agency it commissions, the report it files."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from api.schemas.common import EVIDENCE_EXAMPLE, CommandBody, LongText, Money, Points, ShortText, with_examples
from ledger.domain.rules import ExAnteConclusion


class ExAnteAgencyCommission(CommandBody):
    model_config = with_examples(
        {"agency": "某咨询评估有限公司", "effective_on": "2020-09-12", "reason": "委托第三方机构开展事前绩效评估"}
    )

    agency: ShortText = Field(
        description="The registered agency's name: refused if blacklisted or tied to the department (回避)"
    )


# A department's ex-ante report as the API documents it (for the 4,800,000-yuan 2021 project of its examples).
EX_ANTE_REPORT_EXAMPLE: dict[str, Any] = {
    "scores": {
        "necessity": 18,
        "economy": 17,
        "goal_rationality": 16,
        "feasibility": 17,
        "funding_compliance": 18,
    },
    "opinions": {
        "necessity": "落实国家营养改善计划，立项必要",
        "economy": "生均每餐5元符合国家标准",
        "goal_rationality": "目标量化可考核",
        "feasibility": "供餐方案经试点验证",
        "funding_compliance": "资金来源合规",
    },
    "opinion": "予以支持",
    "conclusion": "support",
    "funding_sources": {"市级财政": "4800000.00", "中央补助": "1200000.00"},
    "annual_investment": {"2021": "4800000.00", "2022": "1200000.00"},
    "affordability": "在本级财力可承受范围内，既尽力而为又量力而行",
    "effective_on": "2020-09-20",
    "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "ex_ante_report", "name": "事前绩效评估报告.pdf"}],
}


class ExAnteReportFiling(CommandBody):
    """出具绩效评估报告: the department's (or its commissioned agency's) ex-ante assessment; the report itself is the
    evidence (its SHA-256 digest, required)."""

    model_config = with_examples(EX_ANTE_REPORT_EXAMPLE)

    scores: dict[str, Points] = Field(
        description="Each dimension's points: necessity 立项必要性, economy 投入经济性, "
        "goal_rationality 绩效目标合理性, feasibility 实施方案可行性, funding_compliance 筹资合规性"
    )
    opinions: dict[str, LongText] = Field(description="Each of the five dimensions' conclusion in words (required)")
    opinion: LongText = Field(description="The overall conclusion in words (总体评估结论)")
    conclusion: ExAnteConclusion | None = Field(
        default=None,
        description="The conclusion the report states; it must be the one its points give under the ruleset in force "
        "(ex-ante-conclusion-mismatch). Omitted: the points' conclusion",
    )
    funding_sources: dict[ShortText, Money] = Field(description="资金来源: each source and its amount")
    annual_investment: dict[Annotated[str, StringConstraints(pattern=r"^\d{4}$")], Money] = Field(
        description="分年投资额: the investment of each year; the project's fiscal year at least the amount requested; "
        "adding up to the funding sources exactly"
    )
    affordability: LongText = Field(
        default="", description="尽力而为、量力而行: the affordability statement (required of a policy)"
    )
