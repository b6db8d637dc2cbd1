"""A ledger holding every kind of event the ledger records: the demo, and what it leaves out (for the runner's
decoding and trail tests, and wherever a test needs the whole vocabulary of the log at once)."""

from __future__ import annotations

from datetime import date

from api.cli.demo import run_demo
from api.cli.demo_story import KEY_EVALUATED, LIBRARY, OVERALL_EVALUATION, PROJECTS
from ledger.application import Ledger
from ledger.domain.agencies import Agency, agency_id
from ledger.domain.draw import ReEvaluationSample, sample_id
from ledger.domain.overall import OverallGoals
from ledger.domain.project import Project, project_id
from ledger.domain.rules import DEFAULT_PARAMETERS, draw_sample
from ledger.domain.values import SYSTEM, Attribution, Principal
from ledger.log.checkpoint import SigningKey
from ledger.log.rotation import KeyRotation, sign_rotation
from tests.conftest import AUDITOR, EDUCATION, FINANCE, TEST_KEY, act, report
from tests.credit_codes import code_of
from tests.ledger.application.test_calendar import amend_and_add_a_year
from tests.ledger.application.test_decisions import decide_on_the_2021_ranking
from tests.ledger.domain.overall_support import overall_indicators
from tests.projections.overall_world import a_policy_decided, overall_evaluation_of_a_year

TRICKY_REASON = '评价结果不实："引号"、\\反斜杠\\\n换行\t制表 🚩 \\u0041 {"_type_": 1}'


def every_kind_of_event(ledger: Ledger) -> None:
    """The demo, then what it leaves out: free-text overall goals (before structured ones), a blacklisting expired
    and one lifted, a quality review, an indicator revised and retired, a new ruleset, a budget unit and a project of
    it, decisions on the ranking and their follow-up, overall goals approved, adjusted, warned of, missed and disclosed
    late, the year's results submitted to the congress, a rotation of the log's key, the working calendar amended and
    a year added, an overall evaluation of a year with its results and control figure, a policy's 政策调整, an
    overall self-evaluation warned of and missed, an audit finding."""
    run_demo(ledger)
    # Free-text overall goals, as ledgers recorded them before structured ones (the demo sets structured goals now):
    # logs holding Department.OverallGoalsSet must still be read.
    ledger.set_overall_goals(
        act(EDUCATION, date(2020, 10, 16), "旧版整体目标"), "教育局", 2021, ["重点工作完成率95%以上"]
    )
    decide_on_the_2021_ranking(ledger)
    ledger.record_decision(act(FINANCE, date(2022, 7, 25), "通报"), "criticism", "文体旅游广电局", "ranking", 2021)
    ledger.sweep("decision-deadlines", date(2022, 8, 20))  # due 2022-08-24: approaching
    ledger.expire_blacklistings("青海某会计师事务所", date(2025, 3, 19))
    agency = "某咨询评估有限公司"
    quality_warnings_and_a_bar(ledger)
    recorded_by_an_earlier_version(ledger, agency)
    ledger.record_misconduct(  # naming the demo's overall evaluation by the agency: the blacklisting voids it
        act(FINANCE, date(2022, 6, 2)),
        agency,
        "falsification",
        '伪造问卷 "样本"\n\\ 🚩',
        overall=[(OVERALL_EVALUATION["organisation"], 2021, 1)],
    )
    ledger.blacklist_agency(act(FINANCE, date(2022, 6, 3), TRICKY_REASON, evidence=["ab" * 32, "cd" * 32]), agency, [1])
    ledger.lift_blacklisting(act(FINANCE, date(2022, 7, 1), "申诉成立"), agency)
    code, definition = next(iter(LIBRARY.items()))
    ledger.revise_indicator(act(FINANCE, date(2022, 7, 2)), code, {**definition, "standard": "修订后的标准"})
    ledger.retire_indicator(act(FINANCE, date(2022, 7, 3)), code)
    ledger.adopt_ruleset(
        act(FINANCE, date(2022, 7, 4), "提前提醒"), 2, {**DEFAULT_PARAMETERS.to_dict(), "deadline_warning_days": 10}
    )
    ledger.register_unit(act(FINANCE, date(2022, 7, 5), evidence=["ef" * 32]), "教育局", "德令哈市第一中学")
    ledger.declare_project(
        act(FINANCE, date(2022, 7, 6)),
        code="YZ-2023-01",
        name="校园食堂改造",
        kind="project",
        department="教育局",
        fiscal_year_=2023,
        budget_book="general_public",
        special_category=None,
        requested="800000.00",
        new_major=False,
        unit="德令哈市第一中学",
    )
    indicators = overall_indicators()
    ledger.submit_overall_goals(act(EDUCATION, date(2022, 7, 7)), "教育局", 2023, indicators)
    ledger.review_overall_goals(act(FINANCE, date(2022, 7, 8)), "教育局", 2023, "中", "细化指标")
    ledger.submit_overall_goals(act(EDUCATION, date(2022, 7, 9)), "教育局", 2023, indicators)
    ledger.review_overall_goals(act(FINANCE, date(2022, 7, 10)), "教育局", 2023, "优")
    for number, approve in ((1, True), (2, False)):
        ledger.request_overall_goals_adjustment(
            act(EDUCATION, date(2022, 7, 11), "职能调整"), "教育局", 2023, indicators
        )
        ledger.decide_overall_goals_adjustment(act(FINANCE, date(2022, 7, 12), "理由"), "教育局", 2023, number, approve)
    # Approved on 2022-07-10, so due 2022-07-30: warned of, missed, then disclosed late by the department.
    ledger.sweep("disclosure-deadlines", date(2022, 7, 25))
    ledger.sweep("disclosure-deadlines", date(2022, 8, 1))
    ledger.disclose_overall_goals(act(EDUCATION, date(2022, 8, 2), "随部门预算公开"), "教育局", 2023)
    new = SigningKey.generate(TEST_KEY.name)
    statement = sign_rotation(KeyRotation("test/log", 1, TEST_KEY.verifier, new.verifier), TEST_KEY, new)
    it_admin = Principal("it-admin", "admin", "")
    ledger.record_key_rotation(act(it_admin, date(2022, 7, 13), "密钥轮换"), statement, TEST_KEY.verifier)
    amend_and_add_a_year(ledger)
    overall_evaluation_of_a_year(ledger)
    a_policy_decided(ledger)
    # 教育局's 2023 goals, approved, are never self-evaluated: due 2024-03-31, warned of (ten days before, under
    # ruleset 2) and missed.
    ledger.sweep("overall-deadlines", date(2024, 3, 25))
    ledger.sweep("overall-deadlines", date(2024, 4, 1))

    draws_the_demo_leaves_out(ledger)

    an_audit_finding_answered_late(ledger)


def quality_warnings_and_a_bar(ledger: Ledger) -> None:
    """A third agency, registered with its credit code: 资格 suspended and reinstated; two engagements commissioned
    (on the one project whose results are applied and still open); two low 工作质量考核 scores, which bar it."""
    agency = "某绩效评价中心"
    ledger.register_agency(act(FINANCE, date(2022, 5, 19)), agency, "甲级", credit_code=code_of(agency))
    ledger.change_agency_qualification(act(FINANCE, date(2022, 5, 20), "年度检查材料不全"), agency, "suspended")
    ledger.change_agency_qualification(act(FINANCE, date(2022, 5, 21), "补齐材料"), agency, "qualified")
    open_one = next(
        pid
        for pid in (project_id(2021, spec.code) for spec in PROJECTS)
        if ledger.project(pid).stage == "results_applied"
    )
    for _ in range(2):
        ledger.commission_key_evaluation(act(FINANCE, date(2022, 5, 25), "重点评价"), open_one, agency)
    engagements = [
        evaluation
        for evaluation, item in ledger.project(open_one).key_evaluations.items()
        if item["agency_name"] == agency
    ]
    for evaluation in engagements:
        ledger.review_agency_quality(
            act(FINANCE, date(2022, 6, 1), "工作质量考核"), agency, open_one, evaluation, "55", "底稿不完整"
        )


def recorded_by_an_earlier_version(ledger: Ledger, agency: str) -> None:
    """Events only an earlier version of the ledger recorded, as it recorded them: a free-text quality review, a
    supervision note (of a key evaluation and of an overall one), an agency registered without its credit code
    (which finance then records)."""
    by = Attribution(FINANCE, date(2022, 6, 1))
    firm = ledger.agency(agency)
    firm.record(Agency.QualityReviewed, by, engagement="KE-2021", rating="良", notes="报告质量良好")
    keyed = ledger.project(project_id(2021, KEY_EVALUATED))
    evaluation = list(keyed.key_evaluations)[-1]  # the one standing (the first was voided)
    keyed.record(Project.KeyEvaluationSupervisionNoted, by, evaluation_id=evaluation, notes="督导记录")
    goals = ledger.overall_goals(OVERALL_EVALUATION["organisation"], 2021)
    goals.record(OverallGoals.EvaluationSupervisionNoted, by, evaluation_no=1, notes="督导记录")
    old = Agency._create(
        Agency.Registered,
        id=agency_id("某老评估所"),
        **Attribution(FINANCE, date(2020, 8, 3)).event_fields(),
        name="某老评估所",
        credentials="证书",
        affiliation=None,
        credit_code=None,
    )
    ledger.commit(firm, keyed, goals, old)
    ledger.record_agency_credit_code(act(FINANCE, date(2022, 6, 1), "补录"), "某老评估所", code_of("某老评估所"))


def draws_the_demo_leaves_out(ledger: Ledger) -> None:
    """A sample of 2019 drawn by the first releases (finance's seed), and a draw of 2020 warned of, failed and
    announced again (recorded on the aggregate itself: these years hold no projects to draw from)."""
    population = [f"2019-P{n}" for n in range(1, 11)]
    legacy = ReEvaluationSample._create(
        ReEvaluationSample.Drawn,
        id=sample_id(2019),
        principal=FINANCE,
        effective_on=date(2020, 4, 1),
        reason="2019年度再评价抽查",
        evidence=[],
        fiscal_year=2019,
        seed="2020-04-01 抽签",
        population=population,
        selected=draw_sample(population, "2020-04-01 抽签", DEFAULT_PARAMETERS),
        rate="0.10",
        ruleset_version=1,
    )
    ledger.save(legacy)
    calendar = (frozenset[date](), frozenset[date](), None)
    draw = ReEvaluationSample.announce(
        2020, population, "ab" * 32, None, DEFAULT_PARAMETERS, 1, calendar, Attribution(FINANCE, date(2021, 4, 1))
    )
    draw.raise_deadline_notices(date(2021, 4, 8), DEFAULT_PARAMETERS, SYSTEM)  # approaching
    draw.raise_deadline_notices(date(2021, 4, 16), DEFAULT_PARAMETERS, SYSTEM)  # failed
    draw.announce_again(
        population, "cd" * 32, None, DEFAULT_PARAMETERS, 1, calendar, Attribution(FINANCE, date(2021, 4, 19))
    )
    ledger.save(draw)


def an_audit_finding_answered_late(ledger: Ledger) -> None:
    """审计发现 about 教育局, filed with the audit report, warned of, missed, then answered."""
    finding = ledger.record_audit_finding(
        act(AUDITOR, date(2022, 8, 3), evidence=["ab" * 32, report("audit_report")]),
        "department",
        "教育局",
        "德审报〔2022〕9号",
        ["部分项目台账不完整"],
    )
    ledger.sweep("audit-finding-deadlines", date(2022, 8, 27))  # due 2022-09-02: approaching
    ledger.sweep("audit-finding-deadlines", date(2022, 9, 3))  # missed
    ledger.respond_to_audit_finding(act(EDUCATION, date(2022, 9, 5), "逾期回复"), finding.aggregate_id, "已整改")
