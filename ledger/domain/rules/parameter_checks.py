"""The checks a ruleset's parameters pass (规则集参数校验), each refusal naming its parameter in Chinese, then in
English, under a stable code: ``invalid-rule-parameter`` (malformed, out of range, unknown), or the code of the shared
check it came from when that one is specific (``invalid-weights``); the re-evaluation floor has its own,
``re-evaluation-rate-below-minimum`` (:mod:`.parameters`)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TypeVar

from ledger.domain.errors import InvalidInput

A = TypeVar("A")
B = TypeVar("B")

YearDate = tuple[int, int, int]
"""A day relative to fiscal year Y: (years after Y, month, day); (-1, 10, 31) is (Y−1)-10-31."""

RULE_PARAMETER = "invalid-rule-parameter"
RATE_BELOW_FLOOR = "re-evaluation-rate-below-minimum"

# Each parameter's Chinese name, as refusals and the README give it.
LABELS: dict[str, str] = {
    "ex_ante_threshold": "事前绩效评估金额门槛",
    "ex_ante_dimension_points": "事前评估各维度分值",
    "ex_ante_support_min": "予以支持最低分",
    "ex_ante_revise_min": "调整完善后支持最低分",
    "ex_ante_review_working_days": "事前绩效评估报告审核时限（工作日）",
    "execution_rate_weight": "预算执行率权重",
    "output_weight": "产出（含成本）权重",
    "effect_weight": "效益权重",
    "satisfaction_weight": "满意度权重",
    "grade_excellent_min": "优最低分",
    "grade_good_min": "良最低分",
    "grade_fair_min": "中最低分",
    "deviation_thresholds": "执行进度要求",
    "red_margin_points": "红色预警差距",
    "indicator_lag_points": "指标完成滞后幅度",
    "deviation_response_working_days": "偏差纠正时限（工作日）",
    "re_evaluation_rate": "再评价抽查比例",
    "draw_reveal_working_days": "再评价抽查揭示时限（工作日）",
    "inflation_threshold": "自评虚高认定差距",
    "re_evaluation_weights": "再评价维度权重",
    "reduce_rate": "评价为中的调减比例",
    "blacklist_years": "失信黑名单期限（年）",
    "deadline_warning_days": "临期提醒天数",
    "goal_submission_due": "绩效目标申报截止日",
    "monitoring_report_month": "绩效监控报告截至月份",
    "monitoring_report_due": "绩效监控报告截止日",
    "self_evaluation_due": "单位自评截止日",
    "qualitative_shares": "定性指标得分比例",
    "overall_goals_coverage": "整体绩效目标覆盖面",
    "overall_goals_budget_threshold": "整体绩效目标未批复时预算批复金额门槛",
    "goals_disclosure_days": "绩效目标公开时限（天）",
    "results_disclosure_days": "评价结果公开时限（天）",
    "congress_goals_due": "绩效目标随预算草案报送人大截止日",
    "congress_results_due": "评价结果随决算草案报送人大截止日",
    "decision_rectification_days": "约谈、通报批评后整改报告时限（天）",
    "overall_self_evaluation_due": "整体绩效自评截止日",
    "evaluation_plan_days": "第三方机构提交评价方案时限（天）",
    "evaluation_review_days": "财政部门审核评价方案、评价报告时限（天）",
    "supervision_days": "评价方案审核通过后督导时限（天）",
    "supervision_answer_days": "第三方机构回复督导意见时限（天）",
    "evaluation_report_days": "第三方机构提交评价报告时限（天）",
    "quality_warning_below": "工作质量考核预警分数线",
    "quality_warnings_to_bar": "暂停承接业务的预警次数",
    "quality_warning_window_days": "预警累计期间（天）",
    "quality_bar_days": "暂停承接业务期限（天）",
    "rectification_escalation_working_days": "整改逾期后升级处理宽限（工作日）",
    "audit_finding_response_days": "审计发现回复时限（天）",
    "overall_evaluation_weights": "整体绩效评价维度权重",
    "control_figure_rates": "整体绩效评价等级对应的下年度控制数调整比例",
}


def content_key(value: object) -> object:
    """A hashable key of a stored form, equal to another's only for the same content and types (compared by exact
    type: an ABC check per value cost more than the parse the key saves).

    TypeError for a form holding any other type (a Mapping not a dict, a subclass of str): it has no key, and is
    parsed (and refused, if it must be) afresh each time. Its id would be no key: a form freed, the next one made
    takes its id, and would have been read as the one freed.
    """
    kind = type(value)
    if kind is dict:
        return (dict, tuple(sorted((key, content_key(item)) for key, item in value.items())))  # type: ignore[attr-defined]
    if kind is list or kind is tuple:
        return (list, tuple(content_key(item) for item in value))  # type: ignore[attr-defined]
    if kind is str or kind is int or kind is Decimal:
        return (kind, value)
    raise TypeError(f"no content key for a {kind.__name__}")


def text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise refuse(field, "名称须为文本", "name must be text")
    return value


def whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(field, f"须为整数: {value!r}", f"must be a whole number: {value!r}")
    return value


def label(field: str) -> str:
    return LABELS.get(field.split("[", 1)[0], "规则参数")


def refuse(field: str, zh: str, en: str) -> InvalidInput:
    """The refusal of parameter ``field``: its Chinese name and what is wrong in Chinese, then in English."""
    return InvalidInput(f"{label(field)}（{field}）{zh}; {field} {en}", code=RULE_PARAMETER, field=field)


@contextmanager
def naming_the_parameter() -> Iterator[None]:
    """A refusal raised by a shared check (a number, an amount of money) becomes the parameter's own: its Chinese
    name in front, and ``invalid-rule-parameter`` for a value malformed or out of range."""
    try:
        yield
    except InvalidInput as error:
        if error.code in (RULE_PARAMETER, RATE_BELOW_FLOOR):
            raise
        field = error.field or "parameters"
        code = error.code if error.code == "invalid-weights" else RULE_PARAMETER
        raise InvalidInput(f"{label(field)}（{field}）不符合要求; {error.detail}", code=code, field=field) from None


def plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    return value


def finite(value: object, field: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise refuse(field, f"须为有限的十进制数: {value!r}", f"must be a finite Decimal: {value!r}")
    return value


def between(value: Decimal, field: str, low: Decimal, high: Decimal, *, open_low: bool = False) -> None:
    too_low = value <= low if open_low else value < low
    if too_low or value > high:
        interval = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise refuse(field, f"须在 {interval} 之内: {value}", f"must be within {interval}: {value}")


def month_of(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise refuse(field, f"月份须为 1–12: {value!r}", f"month must be 1..12: {value!r}")
    return value


def tuple_of_pairs(value: tuple[tuple[A, B], ...], field: str) -> tuple[tuple[A, B], ...]:
    """``value`` as its type says it is, refused naming ``field`` when it is not (a caller outside the type checker)."""
    if not isinstance(value, tuple):
        raise refuse(field, "须为由二元组组成的元组", "must be a tuple of pairs")
    for i, item in enumerate(value):
        if not isinstance(item, tuple) or len(item) != 2:
            raise refuse(f"{field}[{i}]", "须为二元组", "must be a pair")
    return value


def year_date(value: object, field: str, years: tuple[int, int]) -> YearDate:
    """A day of the calendar relative to the fiscal year, within ``years`` (after it, inclusive) and in every year
    (no 29 February)."""
    if (
        not isinstance(value, tuple)
        or len(value) != 3
        or any(isinstance(item, bool) or not isinstance(item, int) for item in value)
    ):
        raise refuse(
            field,
            f"须为（相对预算年度的年数, 月, 日）三个整数: {value!r}",
            f"must be (years after the fiscal year, month, day), three whole numbers: {value!r}",
        )
    offset, month, day = value
    low, high = years
    if not low <= offset <= high:
        raise refuse(
            field,
            f"相对预算年度的年数须在 {low} 至 {high} 之间: {offset}",
            f"years after the fiscal year must be {low}..{high}: {offset}",
        )
    month_of(month, field)
    if not 1 <= day <= calendar.monthrange(2001, month)[1]:  # 2001: no 29 February, which most years lack
        raise refuse(field, f"{month}月{day}日并非每年都有", f"day {day} of month {month} is not in every year")
    return offset, month, day


def pairs(value: object, field: str) -> list[tuple[object, object]]:
    if not isinstance(value, list | tuple):
        raise refuse(field, "须为由二元组组成的列表", "must be a list of pairs")
    found: list[tuple[object, object]] = []
    for i, item in enumerate(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise refuse(f"{field}[{i}]", "须为二元组", "must be a pair")
        found.append((item[0], item[1]))
    return found
