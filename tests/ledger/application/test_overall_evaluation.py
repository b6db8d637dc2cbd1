"""The overall evaluation on PostgreSQL (整体绩效评价): who self-evaluates (the organisation: a department for itself
and its units, a unit for itself), who evaluates (finance, or the agency it commissions — never a blacklisted or a
tied one, and only the one commissioned scores), who applies the results (finance, to a department), and the 政策调整
of a policy. A refusal records nothing (``refused`` checks the log did not move)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.domain.agencies import overall_engagement
from ledger.domain.overall import OverallGoals
from ledger.domain.project import project_id
from ledger.domain.values import Principal
from tests.conftest import AGENCY, EDUCATION, FINANCE, HEALTH, FakeClock, act, report
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS, approved_project, refused
from tests.ledger.domain.overall_support import dimension_scores, fair_actuals, met_actuals, overall_indicators

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

D = Decimal
SCHOOL = "德令哈市第一中学"
SCHOOL_STAFF = Principal("yz-li", "department", SCHOOL)
OTHER_SCHOOL = Principal("ez-wang", "department", "德令哈市第二中学")
OTHER_AGENCY = Principal("ag-02", "agency", "另一评估公司")
TIED = "教育局会计服务中心"  # an agency affiliated with 教育局: it recuses (回避)
SCORES = {name: str(value) for name, value in dimension_scores(10, 15, 25, 12, 8, 7).items()}  # 77: 中


@pytest.fixture
def approved(ledger: Ledger, clock: FakeClock) -> Ledger:
    """教育局 and its school, 卫生健康委员会, three agencies; both of 教育局's 2022 overall goals approved; today is in
    2024, after the year's evaluation."""
    clock.set(date(2024, 1, 2))
    for name in ("教育局", "卫生健康委员会"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    for school in (SCHOOL, OTHER_SCHOOL.organisation):
        ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "教育局", school)
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), AGENCY.organisation, "甲级", credit_code=code_of(AGENCY.organisation)
    )
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)),
        OTHER_AGENCY.organisation,
        "乙级",
        credit_code=code_of(OTHER_AGENCY.organisation),
    )
    ledger.register_agency(act(FINANCE, date(2020, 8, 1)), TIED, "丙级", "教育局", credit_code=code_of(TIED))
    for who, organisation in ((EDUCATION, "教育局"), (SCHOOL_STAFF, SCHOOL)):
        ledger.submit_overall_goals(act(who, date(2021, 10, 1)), organisation, 2022, overall_indicators())
        ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), organisation, 2022, "优")
    return ledger


def test_the_organisation_self_evaluates_and_finance_applies_the_results_to_the_control_figure(
    approved: Ledger,
) -> None:
    ledger = approved
    written = ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), " 教育局", 2022, fair_actuals())
    assert [event.type for event in written.events] == ["OverallGoals.SelfEvaluated"]
    applied = ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), "教育局", 2022, "12000000.00")
    assert [event.type for event in applied.events] == [
        "OverallGoals.ResultsApplied",
        "OverallGoals.ControlFigureAdjusted",
    ]
    goals = ledger.overall_goals("教育局", 2022)
    assert goals.self_evaluation is not None
    assert (goals.self_evaluation["total"], goals.self_evaluation["grade"]) == (D(88), "良")
    assert goals.control_figure == {
        "next_fiscal_year": 2023,
        "control_figure": D("12000000.00"),
        "default_rate": D(0),
        "rate": D(0),
        "amount": D("0.00"),
        "next_control_figure": D("12000000.00"),
        "override": False,
        "ruleset_version": 1,
    }


def test_who_may_self_evaluate(approved: Ledger) -> None:
    ledger = approved
    on = date(2023, 2, 20)
    for who, organisation, code in (
        (HEALTH, "教育局", "not-own-department"),
        (SCHOOL_STAFF, "教育局", "not-own-department"),  # the department as a whole is its own staff's
        (OTHER_SCHOOL, SCHOOL, "not-own-department"),  # a sibling unit
        (FINANCE, "教育局", "role-not-allowed"),
        (AGENCY, "教育局", "role-not-allowed"),
    ):
        refused(ledger, code, partial(ledger.self_evaluate_overall, act(who, on), organisation, 2022, met_actuals()))
    refused(
        ledger,
        "overall-goals-not-found",
        lambda: ledger.self_evaluate_overall(act(EDUCATION, on), "教育局", 2023, met_actuals()),
    )
    ledger.self_evaluate_overall(act(SCHOOL_STAFF, on), SCHOOL, 2022, met_actuals())  # the unit for itself …
    refused(
        ledger,
        "already-decided",
        lambda: ledger.self_evaluate_overall(act(EDUCATION, on), SCHOOL, 2022, met_actuals()),
    )
    refused(  # … the department for itself; an actual that is no number is refused naming it
        ledger,
        "invalid-value",
        lambda: ledger.self_evaluate_overall(act(EDUCATION, on), "教育局", 2022, {**met_actuals(), "cost": "很多"}),
    )
    ledger.self_evaluate_overall(act(EDUCATION, on), "教育局", 2022, {**met_actuals(), "cost": "98.5"})


def test_an_evaluation_commissioned_to_an_agency_is_scored_by_that_agency_alone(approved: Ledger) -> None:
    ledger = approved
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), "教育局", 2022, fair_actuals())
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.commission_overall_evaluation(act(EDUCATION, date(2023, 3, 1)), "教育局", 2022, None),
    )
    refused(
        ledger,
        "agency-not-found",
        lambda: ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, "无名机构"),
    )
    written = ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, AGENCY.organisation)
    assert written.events[-1].references == {"evaluation_no": 1}
    run_full_procedure(ledger, "教育局")
    refused(
        ledger,
        "invalid-value",
        lambda: ledger.review_overall_evaluation(act(FINANCE, date(2023, 5, 1)), "教育局", 2022, 1, "budget", True),
    )
    refused(
        ledger,
        "overall-evaluation-not-found",
        lambda: ledger.score_overall_evaluation(act(AGENCY, date(2023, 5, 10)), "教育局", 2022, 2, SCORES),
    )
    for who, code in (
        (OTHER_AGENCY, "not-commissioned"),
        (FINANCE, "role-not-allowed"),
        (EDUCATION, "role-not-allowed"),
    ):
        score = partial(ledger.score_overall_evaluation, act(who, date(2023, 5, 10)), "教育局", 2022, 1, SCORES)
        refused(ledger, code, score)
    ledger.score_overall_evaluation(act(AGENCY, date(2023, 5, 10)), "教育局", 2022, 1, SCORES)
    evaluation = ledger.overall_goals("教育局", 2022).evaluation(1)
    assert (evaluation["agency_name"], evaluation["score"]["total"], evaluation["score"]["inflated"]) == (
        AGENCY.organisation,
        D(77),
        True,
    )
    ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), "教育局", 2022, "12000000.00")
    adjusted = ledger.overall_goals("教育局", 2022).control_figure
    assert adjusted is not None
    assert (adjusted["rate"], adjusted["next_control_figure"]) == (D("-0.05"), D("11400000.00"))


def run_full_procedure(ledger: Ledger, organisation: str, agency: Principal = AGENCY) -> None:
    """两审一督导 of overall evaluation 1, commissioned to ``agency`` on 2023-03-01, up to its score: the agency's
    plan, finance's review, a supervision with a finding, the agency's answer, its report and finance's review."""
    plan, final = [report("evaluation_plan")], [report("evaluation_report")]
    at = (organisation, 2022, 1)
    ledger.submit_overall_evaluation(act(agency, date(2023, 3, 5), evidence=plan), *at, "plan")
    ledger.review_overall_evaluation(act(FINANCE, date(2023, 3, 10), evidence=plan), *at, "plan", True)
    ledger.note_overall_evaluation_supervision(act(FINANCE, date(2023, 4, 1)), *at, "现场核查", ["样本不足"])
    ledger.answer_overall_evaluation_supervision(act(agency, date(2023, 4, 8)), *at, 1, "已补充样本")
    ledger.submit_overall_evaluation(act(agency, date(2023, 4, 25), evidence=final), *at, "report")
    ledger.review_overall_evaluation(act(FINANCE, date(2023, 5, 1), evidence=final), *at, "report", True)


def test_the_agency_runs_its_steps_and_no_other(approved: Ledger) -> None:
    """The agency's plan, answer and report: its own engagement only (another agency 403 ``not-commissioned``,
    finance or a department ``role-not-allowed``), each with its typed document; finance supervises with findings."""
    ledger = approved
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, AGENCY.organisation)
    plan = [report("evaluation_plan")]
    for who, code in (
        (OTHER_AGENCY, "not-commissioned"),
        (FINANCE, "role-not-allowed"),
        (EDUCATION, "role-not-allowed"),
    ):
        at = act(who, date(2023, 3, 5), evidence=plan)
        refused(ledger, code, partial(ledger.submit_overall_evaluation, at, "教育局", 2022, 1, "plan"))
    refused(  # the plan is a typed document
        ledger,
        "report-required",
        lambda: ledger.submit_overall_evaluation(act(AGENCY, date(2023, 3, 5)), "教育局", 2022, 1, "plan"),
    )
    refused(  # finance's supervision waits for the approved plan
        ledger,
        "plan-not-reviewed",
        lambda: ledger.note_overall_evaluation_supervision(
            act(FINANCE, date(2023, 3, 6)), "教育局", 2022, 1, "看", ["x"]
        ),
    )
    run_full_procedure(ledger, "教育局")
    evaluation = ledger.overall_goals("教育局", 2022).evaluation(1)
    assert evaluation["supervisions"][0]["answer"] == "已补充样本"
    assert (evaluation["plan_approved"], evaluation["report_approved"]) == (True, True)


def test_a_blacklisting_voids_the_agencys_overall_and_key_evaluations_in_one_act(approved: Ledger) -> None:
    """The agency's unfinished overall evaluation, its scored one the misconduct names, and its unfinished key
    evaluation of a project are voided with the blacklisting, in the same transaction; the results then wait."""
    ledger = approved
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, AGENCY.organisation)
    run_full_procedure(ledger, "教育局")
    ledger.score_overall_evaluation(act(AGENCY, date(2023, 5, 10)), "教育局", 2022, 1, SCORES)
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), SCHOOL, 2022, AGENCY.organisation)
    pid = approved_project(ledger)  # 教育局's 2021 project, its key evaluation commissioned to the same agency
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    refused(  # an engagement that is not this agency's
        ledger,
        "engagement-not-found",
        lambda: ledger.record_misconduct(
            act(FINANCE, date(2023, 6, 1), evidence=[report("other")]),
            OTHER_AGENCY.organisation,
            "untrue_results",
            "结果不实",
            overall=[("教育局", 2022, 1)],
        ),
    )
    ledger.record_misconduct(
        act(FINANCE, date(2023, 6, 1)),
        AGENCY.organisation,
        "untrue_results",
        "评价结果不实",
        overall=[("教育局", 2022, 1)],
    )
    written = ledger.blacklist_agency(act(FINANCE, date(2023, 6, 2), "评价结果不实"), AGENCY.organisation)
    types = sorted(event.type for event in written.events)
    assert types == [
        "Agency.Blacklisted",
        "OverallGoals.EvaluationVoided",
        "OverallGoals.EvaluationVoided",
        "Project.KeyEvaluationVoided",
    ], types
    education, school = ledger.overall_goals("教育局", 2022), ledger.overall_goals(SCHOOL, 2022)
    assert education.evaluation(1)["voided"]["was_scored"] is True
    assert school.evaluation(1)["voided"]["was_scored"] is False
    assert ledger.project(pid).key_evaluations["KE-2021-JY-01-1"]["voided"] is not None
    assert education.result_basis() is None  # no self-evaluation, and the voided score is no basis
    refused(
        ledger,
        "new-evaluation-required",
        lambda: ledger.apply_overall_results(act(FINANCE, date(2023, 6, 3)), "教育局", 2022, "12000000.00"),
    )
    refused(
        ledger,
        "evaluation-voided",
        lambda: ledger.submit_overall_evaluation(
            act(AGENCY, date(2023, 6, 3), evidence=[report("evaluation_plan")]), SCHOOL, 2022, 1, "plan"
        ),
    )


def test_a_quality_review_names_an_overall_evaluation_commissioned_to_the_agency(approved: Ledger) -> None:
    """工作质量考核 of an overall evaluation: one that exists and is the agency's, dated not before its commission,
    once; named instead of a key evaluation, never with one."""
    ledger = approved
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, AGENCY.organisation)
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), SCHOOL, 2022, None)  # finance's own
    review = partial(ledger.review_agency_quality, act(FINANCE, date(2023, 6, 1)))
    for agency, named in (
        (OTHER_AGENCY.organisation, ("教育局", 2022, 1)),  # another agency's engagement
        (AGENCY.organisation, ("教育局", 2022, 2)),  # no such evaluation
        (AGENCY.organisation, (SCHOOL, 2022, 1)),  # finance's own
        (AGENCY.organisation, ("卫生健康委员会", 2022, 1)),  # no such goals
    ):
        refused(ledger, "engagement-not-found", partial(review, agency, None, None, "80", overall=named))
    pid = approved_project(ledger)
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    both = partial(review, AGENCY.organisation, pid, "KE-2021-JY-01-1", "80", overall=("教育局", 2022, 1))
    refused(ledger, "invalid-value", both)
    refused(ledger, "invalid-value", partial(review, AGENCY.organisation, None, None, "80"))
    refused(
        ledger,
        "effective-date-too-early",
        lambda: ledger.review_agency_quality(
            act(FINANCE, date(2023, 2, 28)), AGENCY.organisation, None, None, "80", overall=("教育局", 2022, 1)
        ),
    )
    review(AGENCY.organisation, None, None, "55", "报告粗糙", overall=("教育局", 2022, 1))
    review(AGENCY.organisation, pid, "KE-2021-JY-01-1", "90")  # its key evaluation: another engagement
    first, second = ledger.agency(AGENCY.organisation).quality_assessments
    goals = ledger.overall_goals("教育局", 2022)
    assert first["engagement"] == overall_engagement(goals.id, 1)
    assert (first["score"], first["warning"]) == (55, True)
    assert second["engagement"] == {"project_id": str(pid), "evaluation_id": "KE-2021-JY-01-1"}
    refused(
        ledger, "already-decided", partial(review, AGENCY.organisation, None, None, "90", overall=("教育局", 2022, 1))
    )


def test_finance_evaluating_itself_scores_itself(approved: Ledger) -> None:
    ledger = approved
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 1, 10)), SCHOOL, 2022, None)
    plan, final = [report("evaluation_plan")], [report("evaluation_report")]
    ledger.review_overall_evaluation(act(FINANCE, date(2023, 1, 11), evidence=plan), SCHOOL, 2022, 1, "plan", True)
    ledger.review_overall_evaluation(act(FINANCE, date(2023, 1, 12), evidence=final), SCHOOL, 2022, 1, "report", True)
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.score_overall_evaluation(act(AGENCY, date(2023, 1, 13)), SCHOOL, 2022, 1, SCORES),
    )
    ledger.score_overall_evaluation(act(FINANCE, date(2023, 1, 13)), SCHOOL, 2022, 1, SCORES)
    refused(  # a unit's results are its department's to apply: its control figure is the department's
        ledger,
        "overall-results-unit",
        lambda: ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), SCHOOL, 2022, "800000.00"),
    )


def test_no_blacklisted_agency_and_none_tied_to_the_organisation_is_commissioned(approved: Ledger) -> None:
    ledger = approved
    for organisation in ("教育局", SCHOOL):  # tied to the department: to it, and to each of its units
        commission = partial(
            ledger.commission_overall_evaluation, act(FINANCE, date(2023, 1, 10)), organisation, 2022, TIED
        )
        refused(ledger, "conflict-of-interest", commission)
    ledger.register_agency(act(FINANCE, date(2023, 1, 5)), "新设评估公司", "甲级", credit_code=code_of("新设评估公司"))
    refused(
        ledger,
        "effective-date-too-early",
        lambda: ledger.commission_overall_evaluation(act(FINANCE, date(2023, 1, 4)), "教育局", 2022, "新设评估公司"),
    )
    ledger.record_misconduct(
        act(FINANCE, date(2022, 12, 1)), OTHER_AGENCY.organisation, "untrue_results", "评价结果不实"
    )
    ledger.blacklist_agency(act(FINANCE, date(2022, 12, 2), "评价结果不实"), OTHER_AGENCY.organisation)
    refused(
        ledger,
        "agency-blacklisted",
        lambda: ledger.commission_overall_evaluation(
            act(FINANCE, date(2023, 1, 10)), "教育局", 2022, OTHER_AGENCY.organisation
        ),
    )


def test_results_and_the_override_are_finances(approved: Ledger) -> None:
    ledger = approved
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), "教育局", 2022, met_actuals())  # 优: +5%
    for who in (EDUCATION, AGENCY):
        apply = partial(ledger.apply_overall_results, act(who, date(2023, 6, 1)), "教育局", 2022, "12000000.00")
        refused(ledger, "role-not-allowed", apply)
    refused(
        ledger,
        "invalid-money",
        lambda: ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), "教育局", 2022, "12000000.001"),
    )
    refused(
        ledger,
        "invalid-value",
        lambda: ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1), "x"), "教育局", 2022, "1.00", 0.05),
    )
    refused(
        ledger,
        "reason-required",
        lambda: ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), "教育局", 2022, "12000000.00", "0.08"),
    )
    ledger.apply_overall_results(
        act(FINANCE, date(2023, 6, 1), "承担全市重点任务"), "教育局", 2022, "12000000.00", "0.08"
    )
    goals = ledger.overall_goals("教育局", 2022)
    assert goals.control_figure is not None
    assert (goals.control_figure["default_rate"], goals.control_figure["rate"], goals.control_figure["override"]) == (
        D("0.05"),
        D("0.08"),
        True,
    )
    [entry] = [item for item in ledger.history(goals.id) if item.event_type == "OverallGoals.ControlFigureAdjusted"]
    assert entry.reason == "承担全市重点任务"


def test_the_rates_of_a_ruleset_adopted_later_apply_to_results_applied_later(approved: Ledger) -> None:
    ledger = approved
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), "教育局", 2022, fair_actuals())  # 良
    ledger.adopt_ruleset(
        act(FINANCE, date(2023, 3, 1), "良也适当增加"),
        2,
        {"control_figure_rates": [["优", "0.08"], ["良", "0.02"], ["中", "-0.05"], ["差", "-0.10"]]},
    )
    ledger.apply_overall_results(act(FINANCE, date(2023, 6, 1)), "教育局", 2022, "12000000.00")
    adjusted = ledger.overall_goals("教育局", 2022).control_figure
    assert adjusted is not None
    assert (adjusted["rate"], adjusted["amount"], adjusted["ruleset_version"]) == (D("0.02"), D("240000.00"), 2)
    refused(
        ledger,
        "invalid-rule-parameter",
        lambda: ledger.adopt_ruleset(
            act(FINANCE, date(2023, 3, 2), "倒挂"),
            3,
            {"control_figure_rates": [["优", "0"], ["良", "0.02"], ["中", "-0.05"], ["差", "-0.10"]]},
        ),
    )


def policy_with_results(ledger: Ledger, grade_actual: int) -> UUID:
    """教育局's 2021 policy (营养改善政策) through self-evaluation to its results applied."""
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="ZC-01",
        name="义务教育学生营养改善政策",
        kind="policy",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )
    pid = project_id(2021, "ZC-01")
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "1000000.00")
    actuals = {"I1": str(grade_actual), "I2": "200", "I3": "95", "I4": "92"}
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 25), evidence=[report("self_evaluation_report")]), pid, actuals, "1000000.00"
    )
    ledger.apply_results(act(FINANCE, date(2022, 6, 10)), pid)
    return pid


def test_finance_decides_a_policys_adjustment(approved: Ledger) -> None:
    ledger = approved
    pid = policy_with_results(ledger, 5000)
    refused(ledger, "role-not-allowed", lambda: ledger.decide_policy(act(EDUCATION, date(2022, 7, 1)), pid))
    refused(ledger, "invalid-value", lambda: ledger.decide_policy(act(FINANCE, date(2022, 7, 1), "x"), pid, "废止"))
    written = ledger.decide_policy(act(FINANCE, date(2022, 7, 1), "任务完成"), pid, "terminate")
    assert [event.type for event in written.events] == ["Project.PolicyAdjustmentDecided"]
    assert ledger.project(pid).policy_decision == {
        "decision": "terminate",
        "grade": ledger.project(pid).results["grade"],  # type: ignore[index]
        "decided_on": date(2022, 7, 1),
    }
    refused(ledger, "already-decided", lambda: ledger.decide_policy(act(FINANCE, date(2022, 7, 2)), pid))


def test_the_overall_goals_record_is_read_as_any_object(approved: Ledger) -> None:
    ledger = approved
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), "教育局", 2022, met_actuals())
    goals = ledger.overall_goals("教育局", 2022)
    assert isinstance(ledger.object(goals.id), OverallGoals)
    assert ledger.object(goals.id, version=goals.version - 1).self_evaluation is None  # type: ignore[attr-defined]


def test_the_scheduler_watches_the_agencys_steps(approved: Ledger) -> None:
    """``overall-deadlines`` raises the approaching and missed notices of the agency's plan (due the ruleset's 30 days
    after the commission), once each; its submission settles it and owes finance's review."""
    ledger = approved
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 2, 20)), "教育局", 2022, fair_actuals())
    ledger.commission_overall_evaluation(act(FINANCE, date(2023, 3, 1)), "教育局", 2022, AGENCY.organisation)
    goals_id = ledger.overall_goals("教育局", 2022).id

    def noticed() -> list[tuple[str, str, date | None]]:
        return [
            (entry.event_type.removeprefix("OverallGoals."), entry.payload["deadline"], entry.effective_on)
            for entry in ledger.history(goals_id)
            if entry.event_type.startswith("OverallGoals.Deadline")
        ]

    ledger.sweep("overall-deadlines", date(2023, 3, 23))
    ledger.sweep("overall-deadlines", date(2023, 3, 24))
    ledger.sweep("overall-deadlines", date(2023, 4, 2))
    ledger.sweep("overall-deadlines", date(2023, 4, 3))
    assert noticed() == [
        ("DeadlineApproaching", "evaluation_plan", date(2023, 3, 24)),
        ("DeadlineMissed", "evaluation_plan", date(2023, 4, 1)),
    ]
    ledger.submit_overall_evaluation(
        act(AGENCY, date(2023, 4, 5), evidence=[report("evaluation_plan")]), "教育局", 2022, 1, "plan"
    )
    assert [(d.kind, d.due_on) for d in ledger.overall_goals("教育局", 2022).open_deadlines(ledger._rules()[0])] == [
        ("evaluation_plan_review", date(2023, 4, 20))
    ]
