"""Finance's decisions (通报, 表彰, 约谈) on PostgreSQL: what they must cite, who records and reports, and the
scheduler's sweep over the rectification reports they open. A refusal records nothing (``refused``)."""

from __future__ import annotations

from datetime import date
from functools import partial
from uuid import UUID, uuid4

import pytest

from ledger.application import Ledger
from ledger.domain.decisions import Decision, decision_id
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from ledger.domain.values import Principal
from tests.conftest import AUDITOR, EDUCATION, FINANCE, HEALTH, act, report
from tests.ledger.application.test_application import approved_project, refused

pytestmark = pytest.mark.db

SCHOOL = "德令哈市第一中学"
SCHOOL_STAFF = Principal("yz-li", "department", SCHOOL)
SCORES = dict.fromkeys(ASSESSMENT_DIMENSIONS, "80")


@pytest.fixture
def assessed(ledger: Ledger) -> UUID:
    """Two departments, a unit of the first, both assessed for 2021; the first's evaluated project."""
    pid = approved_project(ledger)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "教育局", SCHOOL)
    for name in ("教育局", "卫生健康委员会"):
        ledger.assess_department(act(FINANCE, date(2022, 4, 1)), name, 2021, SCORES)
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
        "950000.00",
    )
    return pid


def interview(ledger: Ledger, on: date = date(2022, 6, 10)) -> UUID:
    written = ledger.record_decision(
        act(FINANCE, on, "2021年度综合绩效考评排名末位"), "interview", "卫生健康委员会", "ranking", 2021
    )
    return written.aggregate_id


def decide_on_the_2021_ranking(ledger: Ledger) -> None:
    """表彰 the first of the demo's 2021 ranking, 约谈 the last, and the interview's rectification: reported, rejected,
    missed (the scheduler), reported again and accepted."""
    ledger.record_decision(
        act(FINANCE, date(2022, 6, 15), "综合绩效考评第一"), "commendation", "教育局", "ranking", 2021
    )
    did = ledger.record_decision(
        act(FINANCE, date(2022, 6, 15), "综合绩效考评末位", evidence=["ab" * 32]),
        "interview",
        "文体旅游广电局",
        "ranking",
        2021,
    ).aggregate_id
    staff = Principal("wl-01", "department", "文体旅游广电局")
    ledger.report_decision_rectification(act(staff, date(2022, 7, 1)), did, "已整改")
    ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 2), "措施不到位"), did, False)
    ledger.sweep("decision-deadlines", date(2022, 7, 20))
    ledger.report_decision_rectification(act(staff, date(2022, 7, 21)), did, "补充整改")
    ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 22)), did, True)


def test_finance_records_an_interview_on_the_ranking_with_its_rectification(ledger: Ledger, assessed: UUID) -> None:
    did = interview(ledger)
    assert did == decision_id("interview", "department", "卫生健康委员会", "ranking", 2021)
    decision = ledger.decision(did)
    assert (decision.kind, decision.subject, decision.department, decision.fiscal_year) == (
        "interview",
        "卫生健康委员会",
        "卫生健康委员会",
        2021,
    )
    assert decision.rectification is not None
    assert decision.rectification["due"] == date(2022, 7, 10)


def test_a_decision_must_cite_what_is_recorded(ledger: Ledger, assessed: UUID) -> None:
    on = act(FINANCE, date(2022, 6, 10), "理由")
    refused(ledger, "decision-basis-not-found", lambda: ledger.record_decision(on, "praise", "教育局", "ranking", 2020))
    refused(ledger, "decision-basis-not-found", lambda: ledger.record_decision(on, "praise", SCHOOL, "ranking", 2021))
    refused(
        ledger,
        "decision-basis-not-found",
        lambda: ledger.record_decision(on, "praise", "教育局", "evaluation", None, uuid4()),
    )
    refused(  # another department's project
        ledger,
        "decision-basis-not-found",
        lambda: ledger.record_decision(on, "criticism", "卫生健康委员会", "evaluation", None, assessed),
    )
    refused(ledger, "invalid-value", lambda: ledger.record_decision(on, "praise", "教育局", "ranking"))
    refused(ledger, "invalid-value", lambda: ledger.record_decision(on, "praise", "教育局", "evaluation"))
    refused(
        ledger, "invalid-value", lambda: ledger.record_decision(on, "praise", "教育局", "evaluation", 2022, assessed)
    )
    refused(ledger, "department-not-found", lambda: ledger.record_decision(on, "praise", "财政局", "ranking", 2021))
    refused(
        ledger,
        "reason-required",
        lambda: ledger.record_decision(act(FINANCE, date(2022, 6, 10)), "praise", "教育局", "ranking", 2021),
    )


def test_an_unevaluated_project_is_no_basis(ledger: Ledger, assessed: UUID) -> None:
    pid = approved_project(ledger, code="JY-02")
    refused(
        ledger,
        "decision-basis-not-found",
        lambda: ledger.record_decision(
            act(FINANCE, date(2022, 6, 10), "理由"), "praise", "教育局", "evaluation", None, pid
        ),
    )
    ledger.record_decision(act(FINANCE, date(2022, 6, 10), "自评优"), "praise", "教育局", "evaluation", None, assessed)


def test_only_finance_decides_and_no_contradiction_or_duplicate(ledger: Ledger, assessed: UUID) -> None:
    for who in (EDUCATION, AUDITOR):
        praise = partial(
            ledger.record_decision, act(who, date(2022, 6, 10), "理由"), "praise", "教育局", "ranking", 2021
        )
        refused(ledger, "role-not-allowed", praise)
    interview(ledger)
    refused(ledger, "already-exists", lambda: interview(ledger, date(2022, 6, 11)))
    refused(
        ledger,
        "contradictory-decision",
        lambda: ledger.record_decision(
            act(FINANCE, date(2022, 6, 12), "第一"), "commendation", " 卫生健康委员会", "ranking", 2021
        ),
    )
    # A criticism beside the interview is not a contradiction.
    ledger.record_decision(act(FINANCE, date(2022, 6, 12), "通报"), "criticism", "卫生健康委员会", "ranking", 2021)


def test_the_organisation_reports_and_finance_decides(ledger: Ledger, assessed: UUID) -> None:
    did = interview(ledger)
    report = act(HEALTH, date(2022, 7, 1), evidence=[f"{3:064x}"])
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.report_decision_rectification(act(EDUCATION, date(2022, 7, 1)), did, "x"),
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.report_decision_rectification(act(FINANCE, date(2022, 7, 1)), did, "x"),
    )
    refused(ledger, "reason-required", lambda: ledger.report_decision_rectification(report, did, " "))
    ledger.report_decision_rectification(report, did, "已整改")
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.decide_decision_rectification(act(HEALTH, date(2022, 7, 2)), did, True),
    )
    ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 5)), did, True)
    decision = ledger.decision(did)
    assert decision.rectification is not None
    assert decision.rectification["status"] == "accepted"
    refused(
        ledger,
        "decision-not-found",
        lambda: ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 5)), uuid4(), True),
    )


def test_a_units_decision_is_reported_by_the_unit_or_its_department(ledger: Ledger, assessed: UUID) -> None:
    # The unit's project: evaluated, the basis of a criticism of the unit.
    ledger.declare_project(
        act(SCHOOL_STAFF, date(2020, 9, 1)),
        code="YZ-01",
        name="校园项目",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="500000.00",
        new_major=False,
        unit=SCHOOL,
    )
    from ledger.domain.project import project_id

    pid = project_id(2021, "YZ-01")
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    from tests.ledger.application.test_application import GOALS

    ledger.submit_goals(act(SCHOOL_STAFF, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "500000.00")
    ledger.self_evaluate(
        act(SCHOOL_STAFF, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "100", "I2": "100", "I3": "50", "I4": "50"},
        "200000.00",
    )
    refused(  # the department's own project is not the unit's
        ledger,
        "decision-basis-not-found",
        lambda: ledger.record_decision(
            act(FINANCE, date(2022, 6, 10), "差"), "criticism", SCHOOL, "evaluation", None, assessed
        ),
    )
    did = ledger.record_decision(
        act(FINANCE, date(2022, 6, 10), "自评差"), "criticism", SCHOOL, "evaluation", 2021, pid
    ).aggregate_id
    decision = ledger.decision(did)
    assert (decision.subject_kind, decision.department, decision.project_id) == ("unit", "教育局", pid)
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.report_decision_rectification(act(HEALTH, date(2022, 7, 1)), did, "x"),
    )
    ledger.report_decision_rectification(act(EDUCATION, date(2022, 7, 1)), did, "部门督促整改")
    ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 2), "不到位"), did, False)
    ledger.report_decision_rectification(act(SCHOOL_STAFF, date(2022, 7, 3)), did, "学校补充整改")
    assert ledger.decision(did).rectification == {
        "due": date(2022, 7, 10),
        "status": "reported",
        "reports": 2,
        "reported_on": date(2022, 7, 3),
    }


def test_the_scheduler_sweeps_the_rectification_reports(ledger: Ledger, assessed: UUID) -> None:
    did = interview(ledger)
    early = ledger.sweep("decision-deadlines", date(2022, 7, 1))
    assert early.raised == {}
    approaching = ledger.sweep("decision-deadlines", date(2022, 7, 3))
    assert approaching.raised == {"Decision.DeadlineApproaching": 1}
    assert ledger.sweep("decision-deadlines", date(2022, 7, 4)).raised == {}  # once
    missed = ledger.sweep("decision-deadlines", date(2022, 7, 20))
    assert missed.raised == {"Decision.DeadlineMissed": 1}
    assert ledger.sweep("decision-deadlines", date(2022, 7, 21)).raised == {}
    notices = ledger.decision(did).deadline_notices
    [entry] = notices.values()
    assert (entry["approaching"], entry["missed"]) == (date(2022, 7, 3), date(2022, 7, 11))
    assert isinstance(ledger.decision(did), Decision)
