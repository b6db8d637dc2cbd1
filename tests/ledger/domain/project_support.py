"""What the unit tests of the project (ledger.domain.project) share: principals, dates, goals, and a project built
up to any stage by the same steps every test takes.

No database: the aggregate is driven directly and its pending events inspected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import CanMutateProtocol, DomainEventProtocol

from ledger.domain.errors import DomainError
from ledger.domain.project import Project
from ledger.domain.rules import DEFAULT_PARAMETERS, EX_ANTE_DIMENSIONS
from ledger.domain.values import SYSTEM, Attribution, Indicator, Principal

# ---------------------------------------------------------------------------
# Goals, actuals, and a project built up to a stage
# ---------------------------------------------------------------------------


D = Decimal


P = DEFAULT_PARAMETERS


FY = 2021


FINANCE = Principal("fin-01", "finance", "市财政局")


DEPT = Principal("edu-01", "department", "教育局")


AGENCY = Principal("ag-01", "agency", "某咨询评估有限公司")


REQUESTED = D("4800000.00")


APPROVED = D("4800000.00")


DECLARED_ON = date(2020, 9, 1)


ASSESSED_ON = date(2020, 9, 15)


ADMITTED_ON = date(2020, 10, 1)


GOALS_ON = date(2020, 10, 15)


REVIEWED_ON = date(2020, 11, 2)


BUDGET_ON = date(2021, 1, 11)


SELF_EVAL_ON = date(2022, 2, 15)


RESULTS_ON = date(2022, 5, 5)


CLOSED_ON = date(2022, 6, 1)


def digest(n: int) -> str:
    return f"{n:064x}"


def ind(
    key: str, level1: str, level2: str, operator: str, target: Decimal | str, weight: Decimal, name: str, unit: str
) -> Indicator:
    return Indicator(
        key=key, level1=level1, level2=level2, name=name, operator=operator, target=target, unit=unit, weight=weight
    )


STUDENTS_TARGET = D(5000)


ZERO = D(0)


def goals(students_target: Decimal = STUDENTS_TARGET) -> list[Indicator]:
    """义务教育学生营养改善计划: output 50 (incl. cost 10), effect 30, satisfaction 10."""
    return [
        ind("students", "output", "quantity", ">=", students_target, D(30), "受益学生人数", "人"),
        ind("days", "output", "timeliness", ">=", D(200), D(10), "供餐天数", "天"),
        ind("cost", "cost", "economic", "<=", D(5), D(10), "生均每餐成本", "元"),
        ind("health", "effect", "social", ">=", D(92), D(30), "学生体质健康达标率", "%"),
        ind("parents", "satisfaction", "service_users", ">=", D(90), D(10), "家长满意度", "%"),
    ]


MET: dict[str, Decimal | str] = {"students": D(5000), "days": D(200), "cost": D(5), "health": D(92), "parents": D(90)}


# With the whole budget executed: 优 100, 良 88, 中 70, 差 40.
ACTUALS_BY_GRADE: dict[str, dict[str, Decimal | str]] = {
    "优": MET,
    "良": {**MET, "students": D(3000)},
    "中": {**MET, "students": D(0)},
    "差": {**MET, "students": D(0), "health": D(0)},
}


def re_scores(short: Decimal = ZERO, short_output: Decimal = ZERO) -> dict[str, Decimal]:
    """Re-evaluation dimension scores totalling 100 − short − short_output."""
    return {"decision": D(15), "process": D(20), "output": D(35) - short_output, "effect": D(30) - short}


def declare(
    *,
    new_major: bool = False,
    requested: Decimal = REQUESTED,
    code: str = "EDU-2021-001",
    reason: str = "",
    evidence: list[str] | None = None,
    on: date = DECLARED_ON,
) -> Project:
    return Project.declare(
        Attribution(DEPT, on, reason, evidence or ()),
        code=code,
        name="义务教育学生营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year=FY,
        budget_book="general_public",
        special_category=None,
        requested=requested,
        new_major=new_major,
    )


def ex_ante_scores(each: Decimal) -> dict[str, Decimal]:
    return dict.fromkeys(EX_ANTE_DIMENSIONS, each)


def admit(project: Project, reason: str = "") -> None:
    project.admit(P, Attribution(FINANCE, ADMITTED_ON, reason))


def submit(project: Project, indicators: list[Indicator] | None = None) -> None:
    project.submit_goals(
        goals() if indicators is None else indicators, P, 1, Attribution(DEPT, GOALS_ON, "申报绩效目标")
    )


def review(project: Project, rating: str, fixes: str = "") -> None:
    reason = "" if rating in ("优", "良") else "目标不够细化"
    project.review_goals(rating, fixes, Attribution(FINANCE, REVIEWED_ON, reason))


def approve(project: Project, amount: Decimal = APPROVED, on: date = BUDGET_ON) -> None:
    project.approve_budget(amount, Attribution(FINANCE, on, "预算批复"))


def monitor_on(month: int) -> date:
    return date(FY, month + 1, 5) if month < 12 else date(FY + 1, 1, 5)


def monitor(
    project: Project, month: int, executed: Decimal, progress: dict[str, Decimal] | None = None, on: date | None = None
) -> None:
    project.report_monitoring(
        month, executed, progress or {}, {}, "", "", P, Attribution(DEPT, on or monitor_on(month), "监控报告")
    )


def self_evaluate(project: Project, grade: str = "优", executed: Decimal = APPROVED, version: int = 1) -> None:
    project.self_evaluate(ACTUALS_BY_GRADE[grade], executed, P, version, Attribution(DEPT, SELF_EVAL_ON, "单位自评"))


def apply_results(project: Project, decision: str | None = None, reason: str = "") -> str:
    return project.apply_results(decision, P, 1, Attribution(FINANCE, RESULTS_ON, reason))


def close(project: Project) -> None:
    project.close(Attribution(FINANCE, CLOSED_ON, "项目结束"))


STAGES = (
    "declared",
    "admitted",
    "goals_submitted",
    "goals_approved",
    "budget_approved",
    "self_evaluated",
    "results_applied",
    "closed",
)


def build(stage: str, *, grade: str = "优", declared_on: date = DECLARED_ON) -> Project:
    """A plain (not new-major) project taken up to ``stage``."""
    project = declare(on=declared_on)
    steps: list[Callable[[Project], object]] = [
        admit,
        submit,
        lambda p: review(p, "优"),
        approve,
        lambda p: self_evaluate(p, grade),
        apply_results,
        close,
    ]
    for step in steps[: STAGES.index(stage)]:
        step(project)
    assert project.stage == stage
    return project


def refused(project: Project, code: str, call: Callable[[], object]) -> DomainError:
    """``call`` is refused with ``code`` and records nothing."""
    before = len(project.pending_events)
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    assert len(project.pending_events) == before
    return excinfo.value


def events_of(project: Project, kind: type[Any]) -> list[Any]:
    return [event for event in project.pending_events if isinstance(event, kind)]


# ---------------------------------------------------------------------------
# Goal adjustment 目标调整
# ---------------------------------------------------------------------------


def request_adjustment(
    project: Project, reason: str = "受疫情影响，供餐天数调整", indicators: list[Indicator] | None = None
) -> int:
    return project.request_goal_adjustment(
        goals(D(4500)) if indicators is None else indicators, P, Attribution(DEPT, date(2021, 6, 1), reason)
    )


def decide_adjustment(project: Project, number: int, approve_it: bool, reason: str = "同意") -> None:
    project.decide_goal_adjustment(number, approve_it, Attribution(FINANCE, date(2021, 6, 10), reason))


# ---------------------------------------------------------------------------
# Deviation 偏差 and corrective action 纠偏
# ---------------------------------------------------------------------------


DETECTED_ON = date(2021, 5, 6)  # a Thursday


RESPOND_BY = date(2021, 5, 20)  # ten working days later


def detect(project: Project, on: date = DETECTED_ON) -> bool:
    return project.detect_deviation(P, 1, [], SYSTEM, on)


def corrective(
    project: Project, decision: str, amount: Decimal | None = None, month: int | None = None, reason: str = "纠偏"
) -> None:
    project.order_corrective_action(decision, amount, month, Attribution(FINANCE, date(2021, 5, 12), reason))


def with_deviation() -> Project:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    assert detect(project)
    return project


# ---------------------------------------------------------------------------
# Re-evaluation 再评价
# ---------------------------------------------------------------------------


def select(project: Project) -> None:
    project.select_for_re_evaluation("sample-2021", Attribution(FINANCE, date(2022, 4, 1)))


def re_evaluate(project: Project, scores: dict[str, Decimal] | None = None) -> None:
    project.re_evaluate(scores or re_scores(), P, 1, Attribution(FINANCE, date(2022, 4, 20), "再评价"))


# ---------------------------------------------------------------------------
# Key evaluation 重点评价 (两审一督导)
# ---------------------------------------------------------------------------


KE = "KE-2021-EDU-2021-001-1"


def commission(project: Project, evaluation_id: str = KE) -> None:
    project.commission_key_evaluation(
        evaluation_id, "agency-id", "某咨询评估有限公司", Attribution(FINANCE, date(2022, 3, 1), "重点评价")
    )


def review_plan(project: Project, approved: bool = True) -> None:
    project.review_key_evaluation_plan(KE, approved, Attribution(FINANCE, date(2022, 3, 10)))


def review_report(project: Project, approved: bool = True) -> None:
    project.review_key_evaluation_report(KE, approved, Attribution(FINANCE, date(2022, 4, 10)))


def score_key(project: Project, scores: dict[str, Decimal] | None = None) -> None:
    project.score_key_evaluation(KE, scores or re_scores(), P, 1, Attribution(AGENCY, date(2022, 4, 15), "评分"))


# ---------------------------------------------------------------------------
# Rectification 整改
# ---------------------------------------------------------------------------


REQUIRED_ON = date(2022, 3, 1)


DEADLINE = date(2022, 4, 30)


def require(project: Project, deadline: date = DEADLINE, issues: list[str] | None = None) -> int:
    return project.require_rectification(
        ["资金支付滞后"] if issues is None else issues,
        "self_evaluation",
        deadline,
        Attribution(FINANCE, REQUIRED_ON, "自评发现问题"),
    )


def report_rect(project: Project, number: int = 1) -> None:
    project.report_rectification(number, "已加快支付进度", Attribution(DEPT, date(2022, 4, 1), "", [digest(7)]))


def decide_rect(project: Project, accept: bool, number: int = 1, reason: str = "") -> None:
    project.decide_rectification(number, accept, Attribution(FINANCE, date(2022, 4, 5), reason))


# ---------------------------------------------------------------------------
# Disclosure 信息公开
# ---------------------------------------------------------------------------


def disclose(project: Project, what: str) -> None:
    project.disclose(what, Attribution(FINANCE, date(2022, 5, 10)))


def mutating(event: DomainEventProtocol[Any]) -> CanMutateProtocol[Any]:
    """``event`` as what it is, an event that mutates an aggregate (a mapper answers with any domain event)."""
    assert isinstance(event, CanMutateProtocol)
    return event
