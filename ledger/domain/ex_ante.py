"""The department's ex-ante assessment report (事前绩效评估报告): what it must say before finance reviews it (审核).

德政办秘〔2020〕76号, 二(三): 各部门、各单位…开展事前绩效评估，重点论证立项必要性、投入经济性、绩效目标合理性、
实施方案可行性、筹资合规性等 — the five dimensions, each with its points and its conclusion —
投资主管部门要重点评估基建投资项目的资金来源是否有保障…分年投资额…民生保障部门要重点评估…
是否做到既尽力而为又量力而行…并出具绩效评估报告。市财政部门…进行审核.

The checks are pure: :func:`checked_report` turns what was filed into an :class:`ExAnteReport` or refuses it, naming
the field, under a stable code. The rule (README, *Ex-ante assessment by the department*):

- every dimension has its points (0 to ``ex_ante_dimension_points``) and a conclusion in words; the total concludes
  support / support after revision / reject by the ruleset, as finance's own assessment does; a conclusion the report
  states must be that one (``ex-ante-conclusion-mismatch``);
- 资金来源: at least one source with a positive amount; 分年投资额: at least one year, each a positive amount, the
  project's fiscal year among them with at least the amount requested (``ex-ante-investment-short``), and the
  sources add up to the years' investment exactly (``ex-ante-funding-mismatch``: a gap is funding not secured);
- 尽力而为、量力而行: the affordability statement is required of a policy (民生政策)
  (``ex-ante-affordability-required``);
- an overall conclusion in words, and the report itself as evidence (``ex-ante-report-required``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger.domain import rules
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.values import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR, ProjectKind, enum_value, money


class ExAnteLead(StrEnum):
    """Who carried out the assessment that stands (评估主体)."""

    DEPARTMENT = "department"  # the department or its unit, itself or through a commissioned agency; finance reviewed
    FINANCE = "finance"  # finance itself (财政部门组织开展), as the ledger first recorded every assessment


class FilingStatus(StrEnum):
    """Where a filed report stands in finance's review (审核)."""

    FILED = "filed"  # 待审核
    APPROVED = "approved"  # 审核通过: its conclusion stands
    RETURNED = "returned"  # 退回: the department files again


@dataclass(frozen=True)
class ExAnteReport:
    """A filed report, checked: the points and conclusion of each dimension, the total and the conclusion the
    ruleset gives it, the sector points, the overall conclusion."""

    scores: dict[str, Decimal]
    opinions: dict[str, str]
    total: Decimal
    conclusion: str
    opinion: str
    funding_sources: dict[str, Decimal]
    annual_investment: dict[str, Decimal]  # fiscal year (as text, a JSON key) -> amount
    affordability: str

    def fields(self) -> dict[str, Any]:
        """As an event's fields."""
        return {
            "scores": dict(self.scores),
            "opinions": dict(self.opinions),
            "total": self.total,
            "conclusion": self.conclusion,
            "opinion": self.opinion,
            "funding_sources": dict(self.funding_sources),
            "annual_investment": dict(self.annual_investment),
            "affordability": self.affordability,
        }


def checked_report(
    *,
    scores: Mapping[str, Decimal],
    opinions: Mapping[str, str],
    opinion: str,
    funding_sources: Mapping[str, object],
    annual_investment: Mapping[str, object],
    affordability: str,
    stated_conclusion: str | None,
    evidence: Sequence[str],
    kind: str,
    fiscal_year: int,
    requested: Decimal,
    params: rules.RuleParameters,
) -> ExAnteReport:
    """The report filed for a project of ``kind``, ``fiscal_year`` and ``requested``, or the refusal."""
    result = rules.ex_ante_conclusion(scores, params)
    for name in opinions:
        if name not in rules.EX_ANTE_DIMENSIONS:
            raise InvalidInput(f"opinions has an unknown dimension {name!r}", field=f"opinions.{name}")
    for name in rules.EX_ANTE_DIMENSIONS:
        if not str(opinions.get(name, "")).strip():
            raise InvalidInput(f"the conclusion on {name} is required", field=f"opinions.{name}")
    if stated_conclusion is not None:
        stated = enum_value(rules.ExAnteConclusion, stated_conclusion, "conclusion")
        if stated != result.conclusion:
            raise InvalidInput(
                f"the report concludes {stated.value}, but its points ({result.total}) conclude {result.conclusion} "
                "under the ruleset in force",
                code="ex-ante-conclusion-mismatch",
                field="conclusion",
            )
    if not opinion.strip():
        raise InvalidInput("the overall conclusion (总体评估结论) is required", field="opinion")
    sources = _amounts(funding_sources, "funding_sources")
    years = _amounts(annual_investment, "annual_investment")
    for year in years:
        if not (year.isdigit() and FIRST_FISCAL_YEAR <= int(year) <= LAST_FISCAL_YEAR):
            raise InvalidInput(f"annual_investment: {year!r} is not a fiscal year", field=f"annual_investment.{year}")
    this_year = years.get(str(fiscal_year))
    if this_year is None or this_year < requested:
        raise RuleViolation(
            f"分年投资额 of {fiscal_year} ({this_year or 0}) is below the {requested} requested for that year",
            code="ex-ante-investment-short",
        )
    invested, funded = sum(years.values(), Decimal(0)), sum(sources.values(), Decimal(0))
    if invested != funded:
        raise RuleViolation(
            f"资金来源 total {funded}, 分年投资额 total {invested}: the sources must fund the investment exactly",
            code="ex-ante-funding-mismatch",
        )
    if kind == ProjectKind.POLICY and not affordability.strip():
        raise InvalidInput(
            "a policy's report states whether it is 尽力而为、量力而行 (affordability)",
            code="ex-ante-affordability-required",
            field="affordability",
        )
    if not evidence:
        raise InvalidInput(
            "file the assessment report (绩效评估报告) as evidence: its SHA-256 digest",
            code="ex-ante-report-required",
            field="evidence",
        )
    return ExAnteReport(
        scores=dict(scores),
        opinions={name: opinions[name] for name in rules.EX_ANTE_DIMENSIONS},
        total=result.total,
        conclusion=result.conclusion,
        opinion=opinion,
        funding_sources=sources,
        annual_investment=dict(sorted(years.items())),
        affordability=affordability,
    )


def _amounts(values: Mapping[str, object], field: str) -> dict[str, Decimal]:
    if not values:
        raise InvalidInput(f"{field} names at least one", field=field)
    result = {}
    for name, amount in values.items():
        if not str(name).strip():
            raise InvalidInput(f"{field} has an empty name", field=field)
        result[str(name)] = money(amount, f"{field}.{name}", allow_zero=False)
    return result
