"""The rule parameters (规则集参数): every number the rules use, as one validated value.

The numbers are parameters of a ruleset, never constants: the defaults of :class:`RuleParameters` are ruleset
version 1 (DOMAIN.md), and each later version is adopted as an event of the ruleset, which stores them through
:meth:`RuleParameters.to_dict` and reads them back through :meth:`RuleParameters.from_dict` (a version the ledger
already holds through :meth:`RuleParameters.from_stored`). A stored version without a parameter added since takes
its default — the number the code used before it was a parameter — so every ledger reads as it did.

Every refusal names the parameter (``field``), in Chinese and English, under a stable code: ``invalid-rule-parameter``
for a value malformed or out of its range, ``invalid-weights`` for weights that do not add up, and
``re-evaluation-rate-below-minimum`` for a re-evaluation rate under the plan's floor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.errors import InvalidInput
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from ledger.domain.rules import parameter_checks as checks
from ledger.domain.rules.parameter_checks import RATE_BELOW_FLOOR, RULE_PARAMETER, YearDate
from ledger.domain.values import FIRST_FISCAL_YEAR, HUNDRED, LAST_FISCAL_YEAR, Grade, Qualitative, money, number

ZERO = Decimal(0)
ONE = Decimal(1)

# Ex-ante assessment dimensions 事前绩效评估维度:
# 立项必要性, 投入经济性, 绩效目标合理性, 实施方案可行性, 筹资合规性
EX_ANTE_DIMENSIONS: tuple[str, ...] = ("necessity", "economy", "goal_rationality", "feasibility", "funding_compliance")

# The plan's floor under the re-evaluation rate — 市财政部门按照不低于10%的比例，随机对部门绩效自评结果开展绩效再评价
# (德政办秘〔2020〕76号, 二(六)) — a bound on the parameter, not a parameter: no ruleset may be adopted below it.
RE_EVALUATION_RATE_FLOOR = Decimal("0.10")

# The qualitative grades (定性评价), best first: the order their shares must be listed and descend in.
QUALITATIVE_GRADES: tuple[str, ...] = tuple(member.value for member in Qualitative)

# The grades (等级), best first: the order a mapping from grade must be listed in.
GRADES: tuple[str, ...] = tuple(member.value for member in Grade)

# The last day a monitoring report of fiscal year Y is taken, (Y+1)-01-31 (Project.report_monitoring): the report
# cannot be due after it.
MONITORING_REPORTS_UNTIL: YearDate = (1, 1, 31)


@dataclass(frozen=True)
class RuleParameters:
    """Ruleset parameters; the defaults are ruleset version 1 (DOMAIN.md)."""

    ex_ante_threshold: Decimal = Decimal("3000000.00")  # 事前评估金额门槛 (yuan)
    ex_ante_dimension_points: Decimal = Decimal(20)  # each of the 5 dimensions
    ex_ante_support_min: Decimal = Decimal(80)  # 予以支持
    ex_ante_revise_min: Decimal = Decimal(60)  # 调整完善后支持
    # 财政部门审核: finance reviews a department's filed ex-ante report within these working days of its filing (no
    # source fixes the period; the ledger's choice, as long as a deviation's answer).
    ex_ante_review_working_days: int = 10
    execution_rate_weight: Decimal = Decimal(10)  # 预算执行率 share of 100
    output_weight: Decimal = Decimal(50)  # 产出, including 成本
    effect_weight: Decimal = Decimal(30)  # 效益
    satisfaction_weight: Decimal = Decimal(10)  # 满意度
    grade_excellent_min: Decimal = Decimal(90)  # 优
    grade_good_min: Decimal = Decimal(80)  # 良
    grade_fair_min: Decimal = Decimal(60)  # 中
    deviation_thresholds: tuple[tuple[int, Decimal], ...] = (
        (4, Decimal(25)),
        (6, Decimal(40)),
        (8, Decimal(60)),
        (10, Decimal(80)),
    )  # (month, minimum execution rate %) 执行进度要求
    red_margin_points: Decimal = Decimal(15)  # 红色预警: this far below the threshold
    indicator_lag_points: Decimal = Decimal(10)  # 指标完成滞后于预算执行
    deviation_response_working_days: int = 10  # 偏差纠正时限 (working days)
    re_evaluation_rate: Decimal = Decimal("0.10")  # 再评价抽查比例, never below RE_EVALUATION_RATE_FLOOR
    # 再评价抽查: the working days after its announcement by which the audit office contributes and finance reveals
    # its secret; a draw not revealed by then is recorded as failed.
    draw_reveal_working_days: int = 10
    inflation_threshold: Decimal = Decimal(10)  # 自评虚高
    re_evaluation_weights: tuple[tuple[str, Decimal], ...] = (
        ("decision", Decimal(15)),  # 决策
        ("process", Decimal(20)),  # 过程
        ("output", Decimal(35)),  # 产出
        ("effect", Decimal(30)),  # 效益
    )
    reduce_rate: Decimal = Decimal("0.10")  # 中 → 调减下年预算
    blacklist_years: int = 3  # 失信黑名单期限
    deadline_warning_days: int = 7  # 临期提醒
    # The yearly deadlines the scheduler watches (时限), each a day relative to the fiscal year Y.
    goal_submission_due: YearDate = (-1, 10, 31)  # 绩效目标申报, before budget preparation: (Y−1)-10-31
    monitoring_report_month: int = 7  # 绩效监控报告: January to this month (1–7月) …
    monitoring_report_due: YearDate = (0, 8, 15)  # … due Y-08-15
    self_evaluation_due: YearDate = (1, 3, 31)  # 单位自评: (Y+1)-03-31
    # 定性指标: the share of its weight each grade earns, best first (好 100%, 较好 80%, 一般 60%, 较差 0%).
    qualitative_shares: tuple[tuple[str, Decimal], ...] = (
        (Qualitative.GOOD.value, Decimal(1)),
        (Qualitative.FAIRLY_GOOD.value, Decimal("0.8")),
        (Qualitative.AVERAGE.value, Decimal("0.6")),
        (Qualitative.POOR.value, ZERO),
    )
    # 部门和单位整体绩效目标覆盖面 (% of departments), each from its fiscal year on: the plan's 60% in the 2021
    # budget and every department and unit by 2022. A year before the first takes the first.
    overall_goals_coverage: tuple[tuple[int, Decimal], ...] = ((2021, Decimal(60)), (2022, Decimal(100)))
    # 整体绩效目标 gate: in a year whose coverage target is 100%, a project's budget above this amount is not
    # approved while its department's overall goals for the year are not (0: every approval).
    overall_goals_budget_threshold: Decimal = Decimal("0.00")
    # Disclosure (信息公开): a department publishes on the 预决算公开平台 within these days (预算法 第十四条:
    # 部门预算、决算 批复后二十日内公开) …
    goals_disclosure_days: int = 20  # … its project's goals, after the budget is approved with them
    results_disclosure_days: int = 20  # … its project's results, after they are applied
    # … and finance submits to the people's congress (报送人大) — no source fixes the day; a local calendar:
    congress_goals_due: YearDate = (-1, 12, 31)  # goals with the budget draft of Y (随同预算草案)
    congress_results_due: YearDate = (1, 6, 30)  # results with the final accounts of Y (随同决算草案)
    # 约谈 / 通报批评: the department reports its rectification (整改情况) within these days of the decision.
    decision_rectification_days: int = 30
    # 部门和单位整体绩效自评: an organisation with approved overall goals self-evaluates by this day, as its projects
    # are (单位自评, the plan's cycle: last year's self-evaluations in the spring): (Y+1)-03-31.
    overall_self_evaluation_due: YearDate = (1, 3, 31)
    # 两审一督导 of a key evaluation commissioned to an agency: the days each step is due in, counted from the step
    # that opens it (and recorded on that step's event, so a later ruleset moves no deadline already set).
    evaluation_plan_days: int = 30  # the agency submits its plan (评价方案), from the commission or a rejection
    evaluation_review_days: int = 15  # finance reviews a plan or a report, from its submission
    supervision_days: int = 60  # finance supervises (督导) at least once, from the plan's approval
    supervision_answer_days: int = 15  # the agency answers a supervision's findings (督导意见)
    evaluation_report_days: int = (
        120  # the agency submits its report (评价报告), from the plan's approval or a rejection
    )
    # 工作质量考核 of an agency's engagement: a score below this is a warning (预警); this many warnings within the
    # window bar the agency from being commissioned for the period (暂停承接).
    quality_warning_below: Decimal = Decimal(60)
    quality_warnings_to_bar: int = 2
    quality_warning_window_days: int = 730
    quality_bar_days: int = 365
    # 整改逾期升级: a project's rectification still not accepted this many working days after its deadline is escalated
    # to finance, which decides 调减 or 收回 on it (the district report: 逾期未整改的, 调减或收回资金).
    rectification_escalation_working_days: int = 10
    # 审计发现: the department (or agency) a finding concerns responds within these days of it.
    audit_finding_response_days: int = 30
    # 部门和单位整体绩效评价 by finance or a commissioned agency: the most each of the six dimensions the plan names
    # scores, adding up to 100 (no source weighs them: the ledger's choice, 履职效能 the heaviest).
    overall_evaluation_weights: tuple[tuple[str, Decimal], ...] = (
        ("running_cost", Decimal(15)),  # 运行成本
        ("management_efficiency", Decimal(20)),  # 管理效率
        ("duty_performance", Decimal(30)),  # 履职效能
        ("social_effect", Decimal(15)),  # 社会效应
        ("sustainability", Decimal(10)),  # 可持续发展能力
        ("satisfaction", Decimal(10)),  # 服务对象满意度
    )
    # 部门整体绩效与预算安排挂钩: a department's overall grade moves its next year's control figure (控制数) by this
    # share of this year's, best grade first (优 +5%, 良 0, 中 −5%, 差 −10%); finance may depart from it with a reason.
    control_figure_rates: tuple[tuple[str, Decimal], ...] = (
        (Grade.EXCELLENT.value, Decimal("0.05")),
        (Grade.GOOD.value, ZERO),
        (Grade.FAIR.value, Decimal("-0.05")),
        (Grade.POOR.value, Decimal("-0.10")),
    )

    def validate(self, *, stored: bool = False) -> None:
        """Refuse an inconsistent ruleset, naming the parameter (Chinese and English) under a stable code.

        ``stored``: a version the ledger already holds, read as it was adopted. The floor under the re-evaluation
        rate was enforced from a later release on: a version adopted below it before then keeps its rate (what was
        decided under it stays decided) until finance adopts a new one.
        """
        with checks.naming_the_parameter():
            self._check(stored)

    def _check(self, stored: bool) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _INT_FIELDS:
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise checks.refuse(f.name, f"须为正整数: {value!r}", f"must be a positive whole number: {value!r}")
            elif f.name in _DECIMAL_FIELDS:
                checks.finite(value, f.name)

        money(self.ex_ante_threshold, "ex_ante_threshold")
        money(self.overall_goals_budget_threshold, "overall_goals_budget_threshold")
        points = self.ex_ante_dimension_points
        checks.between(points, "ex_ante_dimension_points", ZERO, HUNDRED, open_low=True)
        maximum = points * len(EX_ANTE_DIMENSIONS)
        checks.between(self.ex_ante_support_min, "ex_ante_support_min", ZERO, maximum)
        checks.between(self.ex_ante_revise_min, "ex_ante_revise_min", ZERO, self.ex_ante_support_min)

        weights = ("execution_rate_weight", "output_weight", "effect_weight", "satisfaction_weight")
        for name in weights:
            checks.between(getattr(self, name), name, ZERO, HUNDRED)
        total = sum((getattr(self, name) for name in weights), ZERO)
        if total != HUNDRED:
            raise InvalidInput(
                f"execution rate, output, effect and satisfaction weights must sum to 100, not {total}",
                code="invalid-weights",
                field="output_weight",
            )

        checks.between(self.grade_excellent_min, "grade_excellent_min", ZERO, HUNDRED)
        checks.between(self.grade_good_min, "grade_good_min", ZERO, HUNDRED)
        checks.between(self.grade_fair_min, "grade_fair_min", ZERO, HUNDRED)
        if not self.grade_excellent_min > self.grade_good_min > self.grade_fair_min:
            raise checks.refuse(
                "grade_good_min",
                f"须依次递减: 优 > 良 > 中 ({self.grade_excellent_min}, {self.grade_good_min}, {self.grade_fair_min})",
                "grade thresholds must descend: 优 > 良 > 中",
            )

        previous = 0
        for i, (month, rate) in enumerate(checks.tuple_of_pairs(self.deviation_thresholds, "deviation_thresholds")):
            field = f"deviation_thresholds[{i}]"
            checks.month_of(month, field)
            if month <= previous:
                raise checks.refuse(
                    field, f"月份须递增: {month} 在 {previous} 之后", f"months must ascend: {month} after {previous}"
                )
            previous = month
            checks.between(checks.finite(rate, field), field, ZERO, HUNDRED)
        checks.between(self.red_margin_points, "red_margin_points", ZERO, HUNDRED)
        checks.between(self.indicator_lag_points, "indicator_lag_points", ZERO, HUNDRED)

        rate = self.re_evaluation_rate
        if not stored and rate < RE_EVALUATION_RATE_FLOOR:
            raise InvalidInput(
                f"再评价抽查比例（re_evaluation_rate）不得低于10%（实施方案: 按照不低于10%的比例）: {rate}; "
                f"re_evaluation_rate may not be below the plan's floor of {RE_EVALUATION_RATE_FLOOR}",
                code=RATE_BELOW_FLOOR,
                field="re_evaluation_rate",
            )
        checks.between(rate, "re_evaluation_rate", ZERO, ONE, open_low=True)
        checks.between(self.inflation_threshold, "inflation_threshold", ZERO, HUNDRED)
        checks.between(self.reduce_rate, "reduce_rate", ZERO, ONE, open_low=True)
        checks.between(self.quality_warning_below, "quality_warning_below", ZERO, HUNDRED)
        self._check_re_evaluation_weights()
        self._check_deadlines()
        self._check_qualitative_shares()
        self._check_coverage()
        self._check_overall_evaluation_weights()
        self._check_control_figure_rates()
        for name in ("congress_goals_due", "congress_results_due", "overall_self_evaluation_due"):
            checks.year_date(getattr(self, name), name, _YEAR_DATES[name])

    def _check_re_evaluation_weights(self) -> None:
        if not self.re_evaluation_weights:
            raise checks.refuse("re_evaluation_weights", "不得为空", "must list at least one dimension")
        names: set[str] = set()
        for i, (name, weight) in enumerate(checks.tuple_of_pairs(self.re_evaluation_weights, "re_evaluation_weights")):
            field = f"re_evaluation_weights[{i}]"
            if not isinstance(name, str) or not name.strip():
                raise checks.refuse(field, "维度须有名称", "dimension must be a non-empty name")
            if name in names:
                raise checks.refuse(field, f"维度 {name!r} 重复", f"dimension {name!r} appears twice")
            names.add(name)
            checks.between(checks.finite(weight, field), field, ZERO, HUNDRED)
        re_weights = dict(self.re_evaluation_weights)
        re_total = sum(re_weights.values(), ZERO)
        if re_total != HUNDRED:
            raise InvalidInput(
                f"re-evaluation weights must sum to 100, not {re_total}",
                code="invalid-weights",
                field="re_evaluation_weights",
            )
        output_effect = re_weights.get("output", ZERO) + re_weights.get("effect", ZERO)
        if output_effect < 60:
            raise InvalidInput(
                f"re-evaluation output + effect weights must be at least 60, not {output_effect}",
                code="invalid-weights",
                field="re_evaluation_weights",
            )

    def _check_deadlines(self) -> None:
        """Each yearly deadline a real day of its years, in the cycle's order; the January–M report due after M."""
        goals = checks.year_date(self.goal_submission_due, "goal_submission_due", _YEAR_DATES["goal_submission_due"])
        report = checks.year_date(
            self.monitoring_report_due, "monitoring_report_due", _YEAR_DATES["monitoring_report_due"]
        )
        evaluation = checks.year_date(
            self.self_evaluation_due, "self_evaluation_due", _YEAR_DATES["self_evaluation_due"]
        )
        month = checks.month_of(self.monitoring_report_month, "monitoring_report_month")
        if report[:2] <= (0, month):
            raise checks.refuse(
                "monitoring_report_due",
                f"须在所报期间（1–{month}月）结束之后",
                f"must fall after the months it reports on (January to {month}) have ended",
            )
        if report > MONITORING_REPORTS_UNTIL:
            raise checks.refuse(
                "monitoring_report_due",
                "须不晚于次年1月31日（监控报告的受理期限）",
                "must be no later than 31 January after the fiscal year, the last day a monitoring report is taken",
            )
        if not goals < report < evaluation:
            raise checks.refuse(
                "goal_submission_due" if goals >= report else "self_evaluation_due",
                "须依次为: 目标申报 < 监控报告 < 单位自评",
                "deadlines must follow the cycle: goal submission, then the monitoring report, then self-evaluation",
            )

    def _check_qualitative_shares(self) -> None:
        shares = checks.tuple_of_pairs(self.qualitative_shares, "qualitative_shares")
        if tuple(name for name, _ in shares) != QUALITATIVE_GRADES:
            raise checks.refuse(
                "qualitative_shares",
                f"须依次列出 {'、'.join(QUALITATIVE_GRADES)}",
                f"must list the grades {', '.join(QUALITATIVE_GRADES)} in that order",
            )
        previous: Decimal | None = None
        for i, (name, share) in enumerate(shares):
            field = f"qualitative_shares[{i}]"
            checks.between(checks.finite(share, field), field, ZERO, ONE)
            if previous is not None and share >= previous:
                # Descending strictly: an actual grade meets a target grade when its share is at least as large.
                raise checks.refuse(
                    field, f"{name} 的比例须低于上一等级", f"the share of {name} must be below the grade above"
                )
            previous = share

    def _check_coverage(self) -> None:
        if not self.overall_goals_coverage:
            raise checks.refuse("overall_goals_coverage", "须至少列出一个年度", "must list at least one year")
        previous = 0
        for i, (year, target) in enumerate(
            checks.tuple_of_pairs(self.overall_goals_coverage, "overall_goals_coverage")
        ):
            field = f"overall_goals_coverage[{i}]"
            if isinstance(year, bool) or not isinstance(year, int) or not FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
                span = f"{FIRST_FISCAL_YEAR}–{LAST_FISCAL_YEAR}"
                raise checks.refuse(field, f"年度须在 {span} 之间: {year!r}", f"year must be within {span}: {year!r}")
            if year <= previous:
                raise checks.refuse(
                    field, f"年度须递增: {year} 在 {previous} 之后", f"years must ascend: {year} after {previous}"
                )
            previous = year
            checks.between(checks.finite(target, field), field, ZERO, HUNDRED, open_low=True)

    def _check_overall_evaluation_weights(self) -> None:
        weights = checks.tuple_of_pairs(self.overall_evaluation_weights, "overall_evaluation_weights")
        if tuple(name for name, _ in weights) != ASSESSMENT_DIMENSIONS:
            raise checks.refuse(
                "overall_evaluation_weights",
                "须依次列出六个维度: 运行成本、管理效率、履职效能、社会效应、可持续发展能力、服务对象满意度",
                f"must list the six dimensions {', '.join(ASSESSMENT_DIMENSIONS)} in that order",
            )
        for i, (_, weight) in enumerate(weights):
            field = f"overall_evaluation_weights[{i}]"
            checks.between(checks.finite(weight, field), field, ZERO, HUNDRED, open_low=True)
        total = sum((weight for _, weight in weights), ZERO)
        if total != HUNDRED:
            raise InvalidInput(
                f"overall evaluation weights must sum to 100, not {total}",
                code="invalid-weights",
                field="overall_evaluation_weights",
            )

    def _check_control_figure_rates(self) -> None:
        rates = checks.tuple_of_pairs(self.control_figure_rates, "control_figure_rates")
        if tuple(name for name, _ in rates) != GRADES:
            raise checks.refuse(
                "control_figure_rates",
                f"须依次列出 {'、'.join(GRADES)}",
                f"must list the grades {', '.join(GRADES)} in that order",
            )
        previous: Decimal | None = None
        for i, (name, rate) in enumerate(rates):
            field = f"control_figure_rates[{i}]"
            checks.between(checks.finite(rate, field), field, -ONE, ONE)
            if previous is not None and rate > previous:
                # 奖优罚劣: a better grade never moves the control figure less than a worse one.
                raise checks.refuse(
                    field, f"{name} 的调整比例不得高于上一等级", f"the rate of {name} may not be above the grade above"
                )
            previous = rate

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form: Decimals as strings, tuples as lists, ints as ints."""
        return {f.name: checks.plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RuleParameters:
        """Inverse of :meth:`to_dict`, for a version being adopted: unknown keys are refused, missing keys take the
        default, and every rule applies."""
        return cls._parse(data, stored=False)

    @classmethod
    def from_stored(cls, data: Mapping[str, object]) -> RuleParameters:
        """A version the ledger holds, as it was adopted (see :meth:`validate`'s ``stored``).

        Read on every command, and a version never changes once adopted: each distinct stored form is parsed and
        validated once per process (by its exact content, types included), not on every call.
        """
        try:
            key = checks.content_key(data)
            found = _STORED.get(key)
        except TypeError:
            # A form no stored version has (keys of mixed types, a signalling NaN, a type JSON never gives): afresh.
            return cls._parse(data, stored=True)
        if found is None:
            found = cls._parse(data, stored=True)
            if len(_STORED) >= _STORED_MAX:
                _STORED.clear()
            _STORED[key] = found
        return found

    @classmethod
    def _parse(cls, data: Mapping[str, object], *, stored: bool) -> RuleParameters:
        with checks.naming_the_parameter():
            if not isinstance(data, Mapping):
                raise checks.refuse("parameters", "须为对象（名称: 值）", "rule parameters must be an object")
            known = {f.name for f in dataclasses.fields(cls)}
            for key in data:
                if key not in known:
                    raise InvalidInput(
                        f"未知的规则参数（{key}）; unknown rule parameter: {key!r}", code=RULE_PARAMETER, field=str(key)
                    )
            kwargs: dict[str, object] = {}
            for key, value in data.items():
                if key in _PAIRS:
                    first, second = _PAIRS[key]
                    kwargs[key] = tuple(
                        (first(a, f"{key}[{i}]"), second(b, f"{key}[{i}]"))
                        for i, (a, b) in enumerate(checks.pairs(value, key))
                    )
                elif key in _YEAR_DATES:
                    if not isinstance(value, list | tuple):
                        raise checks.refuse(
                            key, "须为 [年数, 月, 日]", "must be [years after the fiscal year, month, day]"
                        )
                    kwargs[key] = tuple(checks.whole(item, key) for item in value)
                elif key in _INT_FIELDS:
                    kwargs[key] = checks.whole(value, key)
                else:
                    kwargs[key] = number(value, key)
        params = cls(**kwargs)  # type: ignore[arg-type]
        params.validate(stored=stored)
        return params


_INT_FIELDS = frozenset(
    {
        "deviation_response_working_days",
        "ex_ante_review_working_days",
        "draw_reveal_working_days",
        "blacklist_years",
        "deadline_warning_days",
        "monitoring_report_month",
        "goals_disclosure_days",
        "results_disclosure_days",
        "decision_rectification_days",
        "evaluation_plan_days",
        "evaluation_review_days",
        "supervision_days",
        "supervision_answer_days",
        "evaluation_report_days",
        "quality_warnings_to_bar",
        "quality_warning_window_days",
        "quality_bar_days",
        "rectification_escalation_working_days",
        "audit_finding_response_days",
    }
)
_DECIMAL_FIELDS = frozenset(f.name for f in dataclasses.fields(RuleParameters) if isinstance(f.default, Decimal))
_YEAR_DATES: dict[str, tuple[int, int]] = {  # each yearly date's allowed years, relative to the fiscal year
    "goal_submission_due": (-1, 0),
    "monitoring_report_due": (0, 1),
    "self_evaluation_due": (1, 2),
    "congress_goals_due": (-1, 0),
    "congress_results_due": (1, 2),
    "overall_self_evaluation_due": (1, 2),  # the year's evaluation is dated by the end of Y+2
}


_STORED: dict[object, RuleParameters] = {}  # RuleParameters.from_stored's parses, by the stored form's content
_STORED_MAX = 64


_PAIRS: dict[str, tuple[Callable[[object, str], object], Callable[[object, str], Decimal]]] = {
    "deviation_thresholds": (checks.whole, number),
    "re_evaluation_weights": (checks.text, number),
    "qualitative_shares": (checks.text, number),
    "overall_goals_coverage": (checks.whole, number),
    "overall_evaluation_weights": (checks.text, number),
    "control_figure_rates": (checks.text, number),
}


DEFAULT_PARAMETERS = RuleParameters()
DEFAULT_PARAMETERS.validate()
