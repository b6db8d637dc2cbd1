"""What the read models' tests record besides the demo for the overall evaluation and 政策调整: every kind of their
events, through the ledger's use cases (``tests/projections/test_runner.py``'s every_kind_of_event)."""

from __future__ import annotations

from datetime import date

from ledger.application import Ledger
from ledger.domain.project import project_id
from ledger.domain.values import Principal
from tests.conftest import AGENCY, EDUCATION, FINANCE, act, report
from tests.ledger.application.test_application import GOALS
from tests.ledger.domain.overall_support import dimension_scores, fair_actuals, overall_indicators


def overall_evaluation_of_a_year(ledger: Ledger) -> None:
    """文体旅游广电局's 2021 overall goals (the demo sets none for it: it is among the 40% without them in 2021)
    approved, self-evaluated, evaluated by an agency (两审一督导 in full: plan, review, supervision with a finding,
    answer, report, review) and its results applied, finance overriding the
    ruleset's rate."""
    culture, agency = "文体旅游广电局", "某咨询评估有限公司"
    staff = Principal("wl-01", "department", culture)
    ledger.submit_overall_goals(act(staff, date(2020, 10, 1)), culture, 2021, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2020, 10, 20)), culture, 2021, "优")
    ledger.self_evaluate_overall(act(staff, date(2021, 12, 20)), culture, 2021, fair_actuals())
    ledger.commission_overall_evaluation(act(FINANCE, date(2021, 12, 21)), culture, 2021, agency)
    plan, final, at = [report("evaluation_plan")], [report("evaluation_report")], (culture, 2021, 1)
    ledger.submit_overall_evaluation(act(AGENCY, date(2021, 12, 21), evidence=plan), *at, "plan")
    ledger.review_overall_evaluation(act(FINANCE, date(2021, 12, 22), evidence=plan), *at, "plan", True)
    ledger.note_overall_evaluation_supervision(act(FINANCE, date(2021, 12, 23)), *at, "现场督导", ["样本不足"])
    ledger.answer_overall_evaluation_supervision(act(AGENCY, date(2021, 12, 23)), *at, 1, "已补充样本")
    ledger.submit_overall_evaluation(act(AGENCY, date(2021, 12, 24), evidence=final), *at, "report")
    ledger.review_overall_evaluation(act(FINANCE, date(2021, 12, 24), evidence=final), *at, "report", True)
    scores = {name: str(value) for name, value in dimension_scores().items()}
    ledger.score_overall_evaluation(act(AGENCY, date(2021, 12, 25)), *at, scores)
    ledger.apply_overall_results(
        act(FINANCE, date(2021, 12, 30), "文旅复苏任务重"), culture, 2021, "9000000.00", "0.08"
    )


def a_policy_decided(ledger: Ledger) -> None:
    """A policy of 教育局 for 2021 evaluated, its results applied, and its 政策调整 decided (adjust)."""
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 2)),
        code="ZC-2021-99",
        name="家庭经济困难学生资助政策",
        kind="policy",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="600000.00",
        new_major=False,
    )
    pid = project_id(2021, "ZC-2021-99")
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "600000.00")
    actuals = {"I1": "5100", "I2": "200", "I3": "93", "I4": "91"}
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 25), evidence=[report("self_evaluation_report")]), pid, actuals, "600000.00"
    )
    ledger.apply_results(act(FINANCE, date(2022, 6, 10)), pid)
    ledger.decide_policy(act(FINANCE, date(2022, 7, 15), "资助标准调整"), pid, "adjust")
