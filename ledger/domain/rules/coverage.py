"""Coverage targets (覆盖面目标): the share of departments whose overall goals (整体绩效目标) a year requires."""

from __future__ import annotations

from decimal import Decimal

from ledger.domain.rules.parameters import RuleParameters
from ledger.domain.values import fiscal_year


def overall_goals_target(year: int, params: RuleParameters) -> Decimal:
    """The percentage of departments that must have overall goals in fiscal year ``year``.

    Each entry of ``overall_goals_coverage`` applies from its year until the next one's (by default 60% from 2021 —
    the plan's "编制2021年部门预算时…覆盖面要达到60%" — and 100% from 2022); a year before the first entry takes the
    first, the least the plan ever asked.
    """
    chosen = fiscal_year(year)
    schedule = params.overall_goals_coverage
    target = schedule[0][1]
    for start, percent in schedule:
        if start <= chosen:
            target = percent
    return target
