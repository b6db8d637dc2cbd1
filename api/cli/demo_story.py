"""The demo's story (``jixiao demo``): a county-level city's fiscal year 2021, its projects and what befalls them.

Eight departments, 32 projects across the four budget books, two agencies: the data here, and which projects the
story singles out; :mod:`api.cli.demo` runs it day by day.

The story, beside the ordinary projects that run cleanly:
- 智慧文旅平台建设 is rejected at the ex-ante assessment (不予支持);
- 基本公共卫生服务项目's goals are rated 中, revised, then rated 良; 旅游发展专项资金's goals come in three days
  late (warned of on 24 October, missed on 1 November);
- 老旧小区改造 PPP 项目 has a goal adjustment approved, 城乡低保资金 one rejected;
- every project is warned on 8 August that its January–July monitoring report is due; 国有资本收益上缴调入 files
  it late;
- the scheduler finds deviations the morning after a report: 高标准农田建设 and 老旧小区改造 are yellow in April
  (answered in time: continue), then 高标准农田建设 red in July (budget reduced) and 老旧小区改造 yellow
  (continue); 农村饮水安全巩固提升 is yellow in July and nobody answers, so its funding is suspended automatically
  and a rectification required;
- 国有企业改革成本支出 self-evaluates two days late;
- finance draws the re-evaluation sample; one self-evaluation is caught as inflated (自评虚高);
- 青海某会计师事务所 does the key evaluation of 高标准农田建设, is then found to have falsified it and is
  blacklisted; 某咨询评估有限公司 re-does it;
- rectifications follow: one accepted, one rejected then accepted, one left overdue;
- goals are disclosed with the budget, results with the final accounts.

The projects, their goals and the indicator library are data, in ``demo_2021.toml`` beside this module: one table to
read beside the district report the story follows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources

from ledger.domain import rules
from ledger.domain.organisations import department_id
from ledger.domain.values import Indicator, Principal

YEAR = 2021
FINANCE = Principal("caizheng-001", "finance", "市财政局")
OK_AGENCY = "某咨询评估有限公司"
BAD_AGENCY = "青海某会计师事务所"
SAMPLE_SEED = "2022-04-08 市财政局局务会 抽签"

# (level1, level2, name, operator, target, unit); weights are assigned from the ruleset's group weights.
Spec = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class DemoProject:
    code: str
    name: str
    department: str
    book: str
    requested: str
    indicators: tuple[Spec, ...]
    new_major: bool = False
    special: str | None = None
    kind: str = "project"
    library_ref: str | None = None


def _load(name: str) -> tuple[tuple[DemoProject, ...], dict[str, dict[str, str]]]:
    """The year's projects and indicator library, from the data file beside this module."""
    data = tomllib.loads(resources.files(__package__ or "api.cli").joinpath(name).read_text(encoding="utf-8"))
    shared: dict[str, Spec] = {key: tuple(spec) for key, spec in data["shared_indicators"].items()}
    projects = tuple(
        DemoProject(
            **{key: value for key, value in item.items() if key != "indicators"},
            indicators=tuple(shared[spec] if isinstance(spec, str) else tuple(spec) for spec in item["indicators"]),
        )
        for item in data["projects"]
    )
    return projects, data["library"]


PROJECTS, LIBRARY = _load("demo_2021.toml")
DEPARTMENTS: tuple[str, ...] = tuple(dict.fromkeys(project.department for project in PROJECTS))
WITH_OVERALL_GOALS = DEPARTMENTS[:6]  # 75% coverage: the source plan asks for at least 60% in 2021

REJECTED_EX_ANTE = "WT-02"  # filed by its department, 不予支持, the conclusion approved by finance
EX_ANTE_BY_AGENCY = "NY-01"  # filed by the agency its department commissioned; returned once, then approved
EX_ANTE_BY_FINANCE = "ZJ-01"  # assessed by finance itself; the other new-major projects' reports are departments'
GOALS_RETURNED = "WJ-01"
ADJUSTED = "ZJ-01"
ADJUSTMENT_REJECTED = "MZ-01"
RED_DEVIATION = "NY-01"
YELLOW_DEVIATION = "ZJ-01"
UNANSWERED_DEVIATION = "NY-02"
LATE_GOALS = "WT-04"  # submitted 2020-11-03, after the 2020-10-31 deadline
LATE_MONITORING = "GZ-04"  # the January–July report filed 2021-08-18, after 2021-08-15
LATE_SELF_EVALUATION = "GZ-02"  # 2022-04-02, after 2022-03-31
CLOSING_DAY = date(2022, 9, 30)
WEAK = {"JY-04": Decimal("0.80"), "NY-02": Decimal("0.70"), "ZJ-04": Decimal("0.65"), "GZ-02": Decimal("0.50")}
KEY_EVALUATED = "NY-01"


def department_principal(name: str) -> Principal:
    return Principal(f"{department_id(name).hex[:8]}-user", "department", name)


def indicators_for(spec: DemoProject, params: rules.RuleParameters) -> list[Indicator]:
    """Give each indicator its share of its level-1 group's weight (output and cost share one group)."""
    groups: dict[str, list[int]] = {}
    for position, item in enumerate(spec.indicators):
        groups.setdefault("output" if item[0] in ("output", "cost") else item[0], []).append(position)
    budget = {
        "output": params.output_weight,
        "effect": params.effect_weight,
        "satisfaction": params.satisfaction_weight,
    }
    weights: dict[int, Decimal] = {}
    for group, positions in groups.items():
        share = (budget[group] / len(positions)).quantize(Decimal("0.01"))
        for position in positions:
            weights[position] = share
        weights[positions[-1]] += budget[group] - share * len(positions)
    result = []
    for position, (level1, level2, name, operator, target, unit) in enumerate(spec.indicators):
        ref = next((code for code, item in LIBRARY.items() if item["name"] == name), None)
        result.append(
            Indicator(
                key=f"I{position + 1}",
                level1=level1,
                level2=level2,
                name=name,
                operator=operator,
                target=target if operator == "qualitative" else Decimal(target),
                unit=unit,
                weight=weights[position],
                library_ref=ref,
            )
        )
    return result


def actuals_for(indicators: list[Indicator], share: Decimal) -> dict[str, object]:
    """What a department reports at year end: targets met, or ``share`` of them for weak projects."""
    result: dict[str, object] = {}
    for indicator in indicators:
        if indicator.operator == "qualitative":
            result[indicator.key] = "好" if share >= 1 else "一般"
            continue
        target = Decimal(indicator.target)
        if share >= 1:
            result[indicator.key] = str(target)
        elif indicator.operator in ("<=", "<"):
            result[indicator.key] = str((target / share).quantize(Decimal("0.01")))
        else:
            result[indicator.key] = str((target * share).quantize(Decimal("0.01")))
    return result
