"""The demo's story (``jixiao demo``): a county-level city's fiscal years 2021 and 2022, their projects and what
befalls them.

Eight departments and five of their budget units, 32 projects of 2021 across the four budget books and 9 of 2022,
two agencies: the data here, and which projects the story singles out; :mod:`api.cli.demo` runs it day by day.

Fiscal 2021, beside the ordinary projects that run cleanly:
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
- 民政局 commissions 某咨询评估有限公司 itself to evaluate 养老服务购买 after the year (部门委托第三方机构), under
  两审一督导 as finance's are: the agency's plan and report reviewed by finance, finance's supervision finding
  answered; the results are applied on its 良;
- rectifications follow: one accepted, one rejected then accepted, one left overdue — escalated by the scheduler,
  and finance recovers (收回) part of the budget;
- the audit office (市审计局) records two findings of its audit of the 2021 budget's execution (审计发现, citing its
  report 审财报〔2022〕9号), about 住房和城乡建设局 and about 城乡低保资金: the first is answered in time, the second by
  民政局 a week late (warned on 4 August, missed on the 12th);
- goals are disclosed with the budget, results with the final accounts;
- five of the eight departments (62.5%: the plan asks 60% in the 2021 budget) set structured overall goals
  (整体绩效目标, six dimensions), approved with the budget and disclosed with it.

Fiscal 2022, where 2021's results shape the budgets:
- every department and every unit sets overall goals (the plan's 全覆盖 by the 2022 budget); finance returns one
  unit's (中) before approving them all; without them no 2022 project budget would be approved (the gate);
- four 2021 projects are continued: 义务教育学生营养改善计划 (优: 优先保障, recorded as priority), 城镇污水管网建设
  (中: 调减 10%, approved at the cap), 重大传染病防控 (中: 调减, but finance overrides the cap with its reason) and
  旅游发展专项资金 (差: 取消 — the approval is refused, shown among the refusals);
- the 2021 overall results set each department's 2022 control figure (控制数);
- after the 2021 ranking finance praises (通报表扬) the first department and interviews (约谈) 国有资产服务中心 on
  its 差 project; the interview's rectification is reported and accepted;
- every department discloses its 2022 project and overall goals within the 20 days but 市社会福利院, whose overall
  goals come six days late: the scheduler warns, then records the duty missed.

**When 2021's results can reach 2022's budget.** A budget is approved early in its year (2021's on 15 January, after
the people's congress), while a year's results are normally in only by the next summer (self-evaluations by 31
March, results applied in June): 2021's ordinary results inform the 2023 budget, as the story's apply_results
reason says. What can shape the 2022 budget is the year-end evaluation (年终评价) of December 2021 — the month the
ledger first allows a year to be evaluated, for a project's self-evaluation and for an organisation's overall one
alike: the four continued projects and the five departments self-evaluate on 1 December 2021 on their execution to
date, one department is evaluated by an agency, and finance applies the results on 10 December, while the 2022
budget draft is being finished (二上二下: control figures are issued in December, the congress approves the budget in
January). The continuations are declared with their goals on 13 December, after the results they rest on (the ledger
refuses a continuation of a project without results), approved — or refused — with the rest of the 2022 budget on
15 January 2022, and the control figures the overall results set are the 2022 ones. A budget approved after the
summer's results would have been easier to write and untrue to the calendar.

The projects, their goals and the indicator library are data, in ``demo_2021.toml`` and ``demo_2022.toml`` beside
this module, the units and the organisations' overall goals in ``demo_overall.toml``: tables to read beside the
district report the story follows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from ledger.domain import rules
from ledger.domain.organisations import department_id
from ledger.domain.values import Indicator, Principal

YEAR = 2021
NEXT_YEAR = 2022
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
    year: int = YEAR
    unit: str | None = None
    continues: str | None = None  # the code of the project of the year before that it continues
    override: str | None = None  # finance's reason for approving it beyond what the earlier result allows


@dataclass(frozen=True)
class DemoDecision:
    """A decision finance records on an organisation (通报/表彰/约谈) and, for an interview, its follow-up."""

    kind: str
    organisation: str
    basis: str
    on: date
    reason: str
    project: str | None = None  # basis "evaluation": the code of the evaluated project of the year
    reported: date | None = None
    measures: str = ""
    accepted: date | None = None


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__ or "api.cli").joinpath(name).read_text(encoding="utf-8"))


def _specs(items: list[Any], shared: dict[str, Any]) -> tuple[Spec, ...]:
    """Indicators as given, or named from ``shared``."""
    found = [shared[item] if isinstance(item, str) else item for item in items]
    return tuple((a, b, c, d, e, f) for a, b, c, d, e, f in found)


def _load(data: dict[str, Any], year: int) -> tuple[DemoProject, ...]:
    """The year's projects, from its data file."""
    shared = data["shared_indicators"]
    return tuple(
        DemoProject(
            **{key: value for key, value in item.items() if key != "indicators"},
            indicators=_specs(item["indicators"], shared),
            year=year,
        )
        for item in data["projects"]
    )


_2021, _2022, _OVERALL = _read("demo_2021.toml"), _read("demo_2022.toml"), _read("demo_overall.toml")
PROJECTS = _load(_2021, YEAR)
LIBRARY: dict[str, dict[str, str]] = _2021["library"]
PROJECTS_2022 = _load(_2022, NEXT_YEAR)
DEPARTMENTS: tuple[str, ...] = tuple(dict.fromkeys(project.department for project in PROJECTS))
UNITS: dict[str, str] = _OVERALL["units"]  # unit -> its department
ORGANISATIONS: tuple[str, ...] = DEPARTMENTS + tuple(UNITS)
OVERALL_GOALS: dict[str, tuple[Spec, ...]] = {
    name: _specs(item["indicators"], _OVERALL["shared"]) for name, item in _OVERALL["goals"].items()
}
# 2021: the departments with overall goals (the plan's 60%: five of eight), their control figures, how far their
# self-evaluations reach, and the one evaluation by an agency.
WITH_OVERALL_GOALS: tuple[str, ...] = tuple(_2021["overall"]["departments"])
CONTROL_FIGURES: dict[str, str] = _2021["overall"]["control_figures"]
OVERALL_SELF_SHARES: dict[str, Decimal] = {
    name: Decimal(share) for name, share in _2021["overall"]["self_shares"].items()
}
OVERALL_EVALUATION: dict[str, Any] = _2021["overall"]["evaluation"]
DECISIONS = tuple(DemoDecision(**item) for item in _2022["decisions"])
LATE_DISCLOSURE: str = _2022["late_disclosure"]["organisation"]
LATE_DISCLOSURE_ON: date = _2022["late_disclosure"]["on"]
OVERALL_RETURNED = "市人民医院"  # its 2022 overall goals are rated 中 and revised before approval

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
WEAK = {
    "JY-04": Decimal("0.80"),
    "NY-02": Decimal("0.70"),
    "ZJ-04": Decimal("0.65"),
    "GZ-02": Decimal("0.50"),
    "WJ-04": Decimal("0.70"),
    "WT-04": Decimal("0.50"),
}
KEY_EVALUATED = "NY-01"
# 部门委托第三方机构: 民政局 commissions 某咨询评估有限公司 to evaluate its 养老服务购买 after the year, under
# 两审一督导 (finance reviews and supervises); not drawn for re-evaluation, its results are applied on the agency's
# score.
DEPARTMENT_COMMISSIONED = "MZ-03"
# The 2021 projects 2022 continues: evaluated at the year's end, so their results reach the 2022 budget.
CONTINUED: tuple[str, ...] = tuple(spec.continues for spec in PROJECTS_2022 if spec.continues)
# 审计发现: the audit office's report on the 2021 budget's execution, and what it finds (the subject, the findings,
# the day the party answers and its answer: 民政局's late).
AUDIT_REPORT = "审财报〔2022〕9号"
AUDIT_FOUND_ON = date(2022, 7, 12)
AUDIT_FINDINGS: tuple[tuple[str, str, list[str], date, str], ...] = (
    (
        "department",
        "住房和城乡建设局",
        ["部分项目绩效目标未细化量化，与预算资金关联不紧密", "绩效运行监控流于形式，偏差原因分析不充分"],
        date(2022, 8, 2),
        "已逐项细化量化绩效目标，建立监控台账并按月分析偏差原因",
    ),
    (
        "project",
        "MZ-01",
        ["向不符合条件的对象发放低保金12.6万元", "低保对象动态管理不及时"],
        date(2022, 8, 19),
        "已追回违规发放资金12.6万元，建立低保对象季度复核机制",
    ),
)
YEAR_END = date(2021, 12, 1)  # the year-end self-evaluations (年终评价), the first day the ledger allows them
YEAR_END_RESULTS = date(2021, 12, 10)  # finance applies those results (projects and departments)
CONTINUATIONS_DECLARED = date(2021, 12, 13)


def department_principal(name: str) -> Principal:
    """A member of staff of the department, or of the budget unit, ``name``."""
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


def overall_indicators_for(organisation: str, params: rules.RuleParameters) -> list[Indicator]:
    """``organisation``'s overall goals: one indicator per dimension, weighted as the ruleset weighs the dimension."""
    weights = dict(params.overall_evaluation_weights)
    return [
        Indicator(
            key=f"Z{position + 1}",
            level1=level1,
            level2=level2,
            name=name,
            operator=operator,
            target=target if operator == "qualitative" else Decimal(target),
            unit=unit,
            weight=weights[level1],
        )
        for position, (level1, level2, name, operator, target, unit) in enumerate(OVERALL_GOALS[organisation])
    ]
