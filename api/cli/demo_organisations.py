"""The demo's organisations beside its projects: budget units, overall goals (整体绩效目标) of both years with their
review and disclosure, 2021's year-end overall evaluation and the control figures it sets, and finance's decisions
(通报 / 约谈) after the 2021 ranking — the steps of :mod:`api.cli.demo_story`'s organisations, each guarded by what
the ledger already holds, as :mod:`api.cli.demo`'s are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from api.cli.demo_story import (
    CONTROL_FIGURES,
    DECISIONS,
    FINANCE,
    LATE_DISCLOSURE,
    LATE_DISCLOSURE_ON,
    NEXT_YEAR,
    OK_AGENCY,
    ORGANISATIONS,
    OVERALL_EVALUATION,
    OVERALL_RETURNED,
    OVERALL_SELF_SHARES,
    UNITS,
    WITH_OVERALL_GOALS,
    YEAR,
    YEAR_END,
    YEAR_END_RESULTS,
    DemoDecision,
    department_principal,
    overall_indicators_for,
)
from ledger.application import Act, Ledger
from ledger.domain import rules
from ledger.domain.decisions import decision_id
from ledger.domain.disclosure import DutyKind, duty_id
from ledger.domain.errors import DomainError
from ledger.domain.overall import OverallGoals, overall_goals_id
from ledger.domain.values import Indicator, Principal


def filed(kind: str, what: str) -> dict[str, str]:
    """The report a step names (评估报告, 自评报告, 评价方案, 评价报告, 整改报告), as the demo's evidence: a typed
    document whose digest stands for the file it would be."""
    return {"digest": hashlib.sha256(f"{kind}:{what}".encode()).hexdigest(), "type": kind, "name": f"{what} {kind}.pdf"}


@dataclass(frozen=True)
class Step:
    """One dated step of the story; it does nothing if the ledger shows it was done."""

    on: date
    run: Callable[[], None]


def overall_actuals(indicators: list[Indicator], share: Decimal) -> dict[str, object]:
    """What an organisation reports at the year's end: every target met, or ``share`` of each quantitative one
    (the qualitative one then 一般)."""
    return {
        indicator.key: (
            ("好" if share >= 1 else "一般")
            if indicator.operator == "qualitative"
            else str((Decimal(indicator.target) * min(share, Decimal(1))).quantize(Decimal("0.01")))
        )
        for indicator in indicators
    }


class OrganisationSteps:
    """The organisations' part of the agenda."""

    def __init__(self, ledger: Ledger, params: rules.RuleParameters):
        self.ledger = ledger
        self.params = params

    def finance(self, on: date, reason: str = "") -> Act:
        return Act(FINANCE, on, reason)

    def goals(self, organisation: str, year: int) -> OverallGoals | None:
        if not self.ledger.exists(overall_goals_id(organisation, year)):
            return None
        return self.ledger.overall_goals(organisation, year)

    def steps(self) -> list[Step]:
        """The units with the departments; each year's overall goals; 2021's year-end evaluation; the decisions."""
        steps = [Step(date(2020, 8, 3), self.register_units)]
        steps += self.overall_goals_steps(YEAR, WITH_OVERALL_GOALS)
        steps += self.overall_goals_steps(NEXT_YEAR, ORGANISATIONS)
        steps += self.overall_evaluation_steps()
        for decision in DECISIONS:
            steps += self.decision_steps(decision)
        return steps

    def register_units(self) -> None:
        on = date(2020, 8, 3)
        for name, department in UNITS.items():
            try:
                self.ledger.unit(name)
            except DomainError:
                self.ledger.register_unit(self.finance(on, "预算单位登记"), department, name)

    # ------------------------------------------------------------ overall goals

    def overall_goals_steps(self, year: int, organisations: tuple[str, ...]) -> list[Step]:
        """Submitted on 15 October before the year; one returned (中) and revised in November (2022's); approved
        with the budget on 15 January, before the year's projects are (the gate: from 2022 a department's budget
        waits for its overall goals); disclosed with the budget ten days later — one of 2022's late."""
        submitted, approved, disclosed = date(year - 1, 10, 15), date(year, 1, 15), date(year, 1, 25)
        steps = []
        for name in organisations:
            steps.append(Step(submitted, partial(self.submit_overall, name, year, submitted)))
            if year == NEXT_YEAR and name == OVERALL_RETURNED:
                steps += [
                    Step(date(year - 1, 11, 5), partial(self.return_overall, name, year, date(year - 1, 11, 5))),
                    Step(date(year - 1, 11, 12), partial(self.submit_overall, name, year, date(year - 1, 11, 12))),
                ]
            steps.append(Step(approved, partial(self.approve_overall, name, year, approved)))
            late = year == NEXT_YEAR and name == LATE_DISCLOSURE
            on = LATE_DISCLOSURE_ON if late else disclosed
            steps.append(Step(on, partial(self.disclose_overall, name, year, on)))
        return steps

    def submit_overall(self, name: str, year: int, on: date) -> None:
        goals = self.goals(name, year)
        if goals is None or goals.status == "returned":
            reason = "按审核意见修改" if goals is not None else f"编制{year}年部门预算"
            self.ledger.submit_overall_goals(
                Act(department_principal(name), on, reason), name, year, overall_indicators_for(name, self.params)
            )

    def return_overall(self, name: str, year: int, on: date) -> None:
        goals = self.goals(name, year)
        if goals is not None and goals.status == "submitted" and goals.submissions == 1:
            fixes = "满意度指标未说明调查方法和样本量，履职效能指标应与医院年度重点工作对应"
            self.ledger.review_overall_goals(self.finance(on, "整体绩效目标审核"), name, year, "中", fixes)

    def approve_overall(self, name: str, year: int, on: date) -> None:
        goals = self.goals(name, year)
        if goals is not None and goals.status == "submitted":
            self.ledger.review_overall_goals(self.finance(on, "整体绩效目标随部门预算批复"), name, year, "优")

    def disclose_overall(self, name: str, year: int, on: date) -> None:
        goals = self.goals(name, year)
        if goals is None or not goals.approved:
            return
        duty = duty_id(DutyKind.OVERALL_GOALS, year, goals.organisation)
        if self.ledger.exists(duty) and self.ledger.disclosure_duty(duty).met_on is not None:
            return
        self.ledger.disclose_overall_goals(Act(department_principal(name), on, "随部门预算公开"), name, year)

    # ------------------------------------------------------------ 2021's year-end evaluation

    def overall_evaluation_steps(self) -> list[Step]:
        """Each department with 2021 goals self-evaluates on 1 December 2021; one is evaluated by an agency under
        两审一督导 in full (its plan, finance's review, a supervision with a finding, the agency's answer, its report,
        finance's review, its score); finance applies the results on 10 December, setting each department's 2022
        control figure."""
        evaluated = OVERALL_EVALUATION["organisation"]
        days = [YEAR_END + timedelta(days=n) for n in range(1, 9)]  # commissioned .. scored
        steps = [Step(YEAR_END, partial(self.self_evaluate_overall, name)) for name in WITH_OVERALL_GOALS]
        steps += [
            Step(days[0], partial(self.commission_overall, evaluated, days[0])),
            Step(days[1], partial(self.submit_overall_evaluation, evaluated, "plan", days[1])),
            Step(days[2], partial(self.review_overall, evaluated, "plan", days[2])),
            Step(days[3], partial(self.supervise_overall, evaluated, days[3])),
            Step(days[4], partial(self.answer_overall, evaluated, days[4])),
            Step(days[5], partial(self.submit_overall_evaluation, evaluated, "report", days[5])),
            Step(days[6], partial(self.review_overall, evaluated, "report", days[6])),
            Step(days[7], partial(self.score_overall, evaluated, days[7])),
        ]
        steps += [Step(YEAR_END_RESULTS, partial(self.apply_overall, name)) for name in WITH_OVERALL_GOALS]
        return steps

    def self_evaluate_overall(self, name: str) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.approved and goals.self_evaluation is None:
            actuals = overall_actuals(goals.indicators, OVERALL_SELF_SHARES.get(name, Decimal(1)))
            self.ledger.self_evaluate_overall(
                Act(department_principal(name), YEAR_END, f"{YEAR}年度部门整体绩效自评"), name, YEAR, actuals
            )

    def commission_overall(self, name: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and not goals.evaluations:
            self.ledger.commission_overall_evaluation(self.finance(on, "部门整体绩效评价委托"), name, YEAR, OK_AGENCY)

    @staticmethod
    def _document(name: str, what: str) -> dict[str, str]:
        return filed(f"evaluation_{what}", f"{name}{YEAR}年度部门整体绩效评价")

    def submit_overall_evaluation(self, name: str, what: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.evaluations:
            evaluation = goals.evaluations[0]
            if not evaluation[f"{what}_pending"] and evaluation[f"{what}_approved"] is None:
                evaluator = Principal(OVERALL_EVALUATION["evaluator"], "agency", OK_AGENCY)
                document = {"plan": "评价方案", "report": "评价报告"}[what]
                by = Act(evaluator, on, f"提交{document}", [self._document(name, what)])
                self.ledger.submit_overall_evaluation(by, name, YEAR, 1, what)

    def review_overall(self, name: str, what: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.evaluations and goals.evaluations[0][f"{what}_approved"] is None:
            reason = "评价方案审核" if what == "plan" else "评价报告审核"
            by = Act(FINANCE, on, reason, [self._document(name, what)])
            self.ledger.review_overall_evaluation(by, name, YEAR, 1, what, True)

    def supervise_overall(self, name: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.evaluations and not goals.evaluations[0]["supervision"]:
            notes = "现场督导：抽查部门预算执行和重点任务台账，访谈服务对象60人"
            finding = "服务对象访谈样本未覆盖乡镇站所"
            self.ledger.note_overall_evaluation_supervision(self.finance(on), name, YEAR, 1, notes, [finding])

    def answer_overall(self, name: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.evaluations:
            supervisions = goals.evaluations[0].get("supervisions", [])
            if supervisions and supervisions[0]["answer"] is None:
                evaluator = Principal(OVERALL_EVALUATION["evaluator"], "agency", OK_AGENCY)
                answer = "已补充乡镇站所服务对象访谈并更新工作底稿"
                self.ledger.answer_overall_evaluation_supervision(Act(evaluator, on), name, YEAR, 1, 1, answer)

    def score_overall(self, name: str, on: date) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.evaluations and goals.evaluations[0]["score"] is None:
            evaluator = Principal(OVERALL_EVALUATION["evaluator"], "agency", OK_AGENCY)
            self.ledger.score_overall_evaluation(
                Act(evaluator, on, "部门整体绩效评价报告"), name, YEAR, 1, OVERALL_EVALUATION["scores"]
            )

    def apply_overall(self, name: str) -> None:
        goals = self.goals(name, YEAR)
        if goals is not None and goals.results is None and goals.result_basis() is not None:
            self.ledger.apply_overall_results(
                self.finance(YEAR_END_RESULTS, f"部门整体绩效评价结果应用于{NEXT_YEAR}年预算控制数"),
                name,
                YEAR,
                CONTROL_FIGURES[name],
            )

    # ------------------------------------------------------------ decisions

    def decision_steps(self, decision: DemoDecision) -> list[Step]:
        steps = [Step(decision.on, partial(self.decide, decision))]
        if decision.reported is not None:
            steps.append(Step(decision.reported, partial(self.report_on, decision)))
        if decision.accepted is not None:
            steps.append(Step(decision.accepted, partial(self.accept, decision)))
        return steps

    def basis_of(self, decision: DemoDecision) -> int | UUID:
        """What the decision cites, as the ledger names it: the year ranked, or the project evaluated."""
        if decision.basis == "ranking":
            return YEAR
        assert decision.project is not None
        return self.ledger.project_id_of(YEAR, decision.project)

    def decision_id_of(self, decision: DemoDecision) -> UUID:
        subject_kind = "unit" if decision.organisation in UNITS else "department"
        return decision_id(decision.kind, subject_kind, decision.organisation, decision.basis, self.basis_of(decision))

    def decide(self, decision: DemoDecision) -> None:
        if not self.ledger.exists(self.decision_id_of(decision)):
            basis = self.basis_of(decision)
            self.ledger.record_decision(
                self.finance(decision.on, decision.reason),
                decision.kind,
                decision.organisation,
                decision.basis,
                YEAR,
                basis if isinstance(basis, UUID) else None,
            )

    def rectification(self, decision: DemoDecision) -> tuple[UUID, dict[str, Any]] | None:
        did = self.decision_id_of(decision)
        if not self.ledger.exists(did):
            return None
        found = self.ledger.decision(did).rectification
        return None if found is None else (did, found)

    def report_on(self, decision: DemoDecision) -> None:
        found = self.rectification(decision)
        if found is not None and found[1]["status"] == "open" and not found[1]["reports"]:
            assert decision.reported is not None
            staff = Act(department_principal(decision.organisation), decision.reported, "整改情况报告")
            self.ledger.report_decision_rectification(staff, found[0], decision.measures)

    def accept(self, decision: DemoDecision) -> None:
        found = self.rectification(decision)
        if found is not None and found[1]["status"] == "reported":
            assert decision.accepted is not None
            self.ledger.decide_decision_rectification(self.finance(decision.accepted, "整改到位"), found[0], True)
