"""Business dates (issue 14, item 11): nothing after the ledger's today, nothing before what it concerns existed, and
a blacklisting in force when a commissioning is recorded refuses it whatever date it states."""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.application import Ledger
from ledger.domain.base import ledger_id
from ledger.domain.errors import DomainError
from ledger.domain.organisations import Department, department_id
from ledger.domain.values import Principal, nfc
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, TEST_KEY, FakeClock, act
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS, approved_project
from tests.ledger.domain.overall_support import overall_indicators

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

BAD = "失信评估事务所"
SCORES = {"decision": "14", "process": "18", "output": "30", "effect": "26"}
SIX = dict.fromkeys(
    ("running_cost", "management_efficiency", "duty_performance", "social_effect", "sustainability", "satisfaction"),
    "90",
)


IT_ADMIN = Principal("it-admin", "admin", "")


def refused(ledger: Ledger, code: str, command: Callable[[], Any]) -> DomainError:
    head = ledger.head()
    with pytest.raises(DomainError) as caught:
        command()
    assert caught.value.code == code, caught.value
    assert caught.value.field == "effective_on" or code == "agency-blacklisted", caught.value
    assert ledger.head() == head, "a refused command recorded something"
    return caught.value


def world(ledger: Ledger) -> UUID:
    """An approved project of 教育局 with a key evaluation commissioned to 某咨询评估有限公司, a rectification and a
    goal adjustment open, and a monitoring report filed; two agencies."""
    pid = approved_project(ledger, goals_disclosed=False)
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), AGENCY.organisation, "甲级", credit_code=code_of(AGENCY.organisation)
    )
    ledger.register_agency(act(FINANCE, date(2020, 8, 1)), BAD, "乙级", credit_code=code_of(BAD))
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    ledger.require_rectification(act(FINANCE, date(2021, 6, 1)), pid, ["整改"], "monitoring", date(2021, 9, 30))
    ledger.request_goal_adjustment(act(EDUCATION, date(2021, 5, 1), "实施条件变化"), pid, GOALS)
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 7, 5)), pid, month=6, executed="500000.00", indicator_progress={}
    )
    return pid


def commands(ledger: Ledger, pid: UUID, on: date) -> dict[str, Callable[[], Any]]:
    """Every command of the ledger, dated ``on``."""
    evaluation = next(iter(ledger.project(pid).key_evaluations))
    fin, edu = act(FINANCE, on, "理由"), act(EDUCATION, on, "理由")
    return {
        "declare_project": lambda: ledger.declare_project(
            edu,
            code="JY-99",
            name="x",
            kind="project",
            department="教育局",
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        ),
        "assess_ex_ante": lambda: ledger.assess_ex_ante(  # any scores: the date is refused before they are read
            fin,
            pid,
            dict.fromkeys(range(5), "18"),  # type: ignore[arg-type]
        ),
        "commission_ex_ante_agency": lambda: ledger.commission_ex_ante_agency(edu, pid, AGENCY.organisation),
        "file_ex_ante": lambda: ledger.file_ex_ante(
            edu, pid, scores={}, opinions={}, opinion="", funding_sources={}, annual_investment={}
        ),
        "review_ex_ante": lambda: ledger.review_ex_ante(fin, pid, 1, True),
        "admit_project": lambda: ledger.admit_project(fin, pid),
        "submit_goals": lambda: ledger.submit_goals(edu, pid, GOALS),
        "review_goals": lambda: ledger.review_goals(fin, pid, "优"),
        "approve_budget": lambda: ledger.approve_budget(fin, pid, "1.00"),
        "request_goal_adjustment": lambda: ledger.request_goal_adjustment(edu, pid, GOALS),
        "decide_goal_adjustment": lambda: ledger.decide_goal_adjustment(fin, pid, 1, True),
        "report_monitoring": lambda: ledger.report_monitoring(
            edu, pid, month=8, executed="1.00", indicator_progress={}
        ),
        "review_monitoring": lambda: ledger.review_monitoring(fin, pid, 6, "意见"),
        "order_corrective_action": lambda: ledger.order_corrective_action(fin, pid, "continue"),
        "self_evaluate": lambda: ledger.self_evaluate(edu, pid, {}, "1.00"),
        "draw_re_evaluation_sample": lambda: ledger.draw_re_evaluation_sample(fin, 2021),
        "announce_re_evaluation_draw": lambda: ledger.announce_re_evaluation_draw(fin, 2021, "0" * 64),
        "contribute_to_re_evaluation_draw": lambda: ledger.contribute_to_re_evaluation_draw(
            act(AUDITOR, on), 2021, "00" * 32
        ),
        "reveal_re_evaluation_draw": lambda: ledger.reveal_re_evaluation_draw(fin, 2021, "00" * 32),
        "commission_re_evaluation": lambda: ledger.commission_re_evaluation(fin, pid, AGENCY.organisation),
        "re_evaluate": lambda: ledger.re_evaluate(fin, pid, SCORES),
        "commission_key_evaluation": lambda: ledger.commission_key_evaluation(fin, pid, None),
        "review_key_evaluation": lambda: ledger.review_key_evaluation(fin, pid, evaluation, "plan", True),
        "note_key_evaluation_supervision": lambda: ledger.note_key_evaluation_supervision(fin, pid, evaluation, "督导"),
        "submit_key_evaluation": lambda: ledger.submit_key_evaluation(act(AGENCY, on), pid, evaluation, "plan"),
        "answer_key_evaluation_supervision": lambda: ledger.answer_key_evaluation_supervision(
            act(AGENCY, on), pid, evaluation, 1, "回复"
        ),
        "score_key_evaluation": lambda: ledger.score_key_evaluation(act(AGENCY, on), pid, evaluation, SCORES),
        "apply_results": lambda: ledger.apply_results(fin, pid),
        "require_rectification": lambda: ledger.require_rectification(fin, pid, ["x"], "audit", on + timedelta(30)),
        "report_rectification": lambda: ledger.report_rectification(edu, pid, 1, "措施"),
        "decide_rectification": lambda: ledger.decide_rectification(fin, pid, 1, True),
        "record_spot_check": lambda: ledger.record_spot_check(fin, pid, "monitoring", ["发现"], month=6),
        "decide_escalation": lambda: ledger.decide_escalation(fin, pid, 1, "reduce", "1.00"),
        "record_audit_finding": lambda: ledger.record_audit_finding(
            act(AUDITOR, on, "理由"), "project", str(pid), "审报〔2022〕1号", ["发现"]
        ),
        "respond_to_audit_finding": lambda: ledger.respond_to_audit_finding(edu, uuid4(), "回复"),
        "disclose": lambda: ledger.disclose(fin, pid, "goals"),
        "close_project": lambda: ledger.close_project(fin, pid),
        "register_department": lambda: ledger.register_department(fin, "新设局"),
        "register_unit": lambda: ledger.register_unit(fin, "教育局", "新设单位"),
        "set_overall_goals": lambda: ledger.set_overall_goals(edu, "教育局", 2021, ["目标"]),
        "assess_department": lambda: ledger.assess_department(fin, "教育局", 2021, SIX),
        "submit_overall_goals": lambda: ledger.submit_overall_goals(edu, "教育局", 2022, overall_indicators()),
        "review_overall_goals": lambda: ledger.review_overall_goals(fin, "教育局", 2022, "优"),
        "request_overall_goals_adjustment": lambda: ledger.request_overall_goals_adjustment(
            edu, "教育局", 2022, overall_indicators()
        ),
        "decide_overall_goals_adjustment": lambda: ledger.decide_overall_goals_adjustment(fin, "教育局", 2022, 1, True),
        "self_evaluate_overall": lambda: ledger.self_evaluate_overall(edu, "教育局", 2022, {}),
        "commission_overall_evaluation": lambda: ledger.commission_overall_evaluation(fin, "教育局", 2022, None),
        "review_overall_evaluation": lambda: ledger.review_overall_evaluation(fin, "教育局", 2022, 1, "plan", True),
        "note_overall_evaluation_supervision": lambda: ledger.note_overall_evaluation_supervision(
            fin, "教育局", 2022, 1, "督导"
        ),
        "score_overall_evaluation": lambda: ledger.score_overall_evaluation(fin, "教育局", 2022, 1, SIX),
        "submit_overall_evaluation": lambda: ledger.submit_overall_evaluation(
            act(AGENCY, on), "教育局", 2022, 1, "plan"
        ),
        "answer_overall_evaluation_supervision": lambda: ledger.answer_overall_evaluation_supervision(
            act(AGENCY, on), "教育局", 2022, 1, 1, "已补充"
        ),
        "apply_overall_results": lambda: ledger.apply_overall_results(fin, "教育局", 2022, "12000000.00"),
        "decide_policy": lambda: ledger.decide_policy(fin, pid),
        "register_agency": lambda: ledger.register_agency(fin, "新评估公司", "甲级", credit_code=code_of("新评估公司")),
        "review_agency_quality": lambda: ledger.review_agency_quality(
            fin, AGENCY.organisation, pid, evaluation, "80", "规范"
        ),
        "record_agency_credit_code": lambda: ledger.record_agency_credit_code(fin, BAD, CREDIT_CODE),
        "change_agency_qualification": lambda: ledger.change_agency_qualification(fin, BAD, "suspended"),
        "record_misconduct": lambda: ledger.record_misconduct(fin, BAD, "other", "失信"),
        "blacklist_agency": lambda: ledger.blacklist_agency(fin, BAD),
        "lift_blacklisting": lambda: ledger.lift_blacklisting(fin, BAD),
        "define_indicator": lambda: ledger.define_indicator(
            fin, "EDU-99", {"name": "x", "level1": "output", "level2": "quantity", "operator": ">="}
        ),
        "revise_indicator": lambda: ledger.revise_indicator(fin, "EDU-99", {"name": "y"}),
        "retire_indicator": lambda: ledger.retire_indicator(fin, "EDU-99"),
        "adopt_ruleset": lambda: ledger.adopt_ruleset(fin, 2, {}),
        "amend_calendar_year": lambda: ledger.amend_calendar_year(fin, 2021, {date(2021, 10, 1): "国庆节"}, {}),
        "record_decision": lambda: ledger.record_decision(fin, "praise", "教育局", "ranking", 2021),
        "report_decision_rectification": lambda: ledger.report_decision_rectification(edu, uuid4(), "措施"),
        "decide_decision_rectification": lambda: ledger.decide_decision_rectification(fin, uuid4(), True),
        "submit_to_congress": lambda: ledger.submit_to_congress(fin, 2021, "goals", [pid]),
        "disclose_overall_goals": lambda: ledger.disclose_overall_goals(edu, "教育局", 2022),
        # the statement is read only after the date is checked
        "record_key_rotation": lambda: ledger.record_key_rotation(act(IT_ADMIN, on, "理由"), "x", TEST_KEY.verifier),
    }


def test_no_command_takes_a_date_after_the_ledgers_today(ledger: Ledger, clock: FakeClock) -> None:
    pid = world(ledger)
    table = commands(ledger, pid, clock.now.date() + timedelta(days=1))
    every = {
        name
        for name, method in inspect.getmembers(Ledger, inspect.isfunction)
        if list(inspect.signature(method).parameters)[1:2] == ["act"] and not name.startswith("_")
    }
    assert set(table) == every, "a command of the ledger is missing from this table"
    for name, command in table.items():
        assert refused(ledger, "effective-date-in-future", command).code, name
    for far in (date(9999, 12, 31), date(2030, 6, 1)):
        refused(ledger, "effective-date-in-future", commands(ledger, pid, far)["commission_key_evaluation"])


def test_no_command_takes_a_date_before_the_first_fiscal_years_preparation(ledger: Ledger) -> None:
    pid = world(ledger)
    for name, command in commands(ledger, pid, date(1, 1, 1)).items():
        assert refused(ledger, "effective-date-too-early", command).code, name


def test_today_is_the_bureaus_today(ledger: Ledger, clock: FakeClock) -> None:
    world(ledger)
    clock.set(date(2023, 1, 2))
    ledger.register_department(act(FINANCE, date(2023, 1, 2)), "今日登记局")
    refused(
        ledger,
        "effective-date-in-future",
        lambda: ledger.register_department(act(FINANCE, date(2023, 1, 3)), "明日登记局"),
    )


def test_a_blacklisting_in_force_when_recorded_refuses_a_commissioning_whatever_date_it_states(
    ledger: Ledger, clock: FakeClock
) -> None:
    pid = world(ledger)
    clock.set(date(2022, 3, 1))
    ledger.record_misconduct(act(FINANCE, date(2022, 2, 20), evidence=["a" * 64]), BAD, "falsification", "伪造")
    ledger.blacklist_agency(act(FINANCE, date(2022, 3, 1), "弄虚作假"), BAD)  # until 2025-03-01
    for stated in (date(2021, 9, 2), date(2021, 12, 31), date(2022, 3, 1)):
        refused(ledger, "agency-blacklisted", partial(ledger.commission_key_evaluation, act(FINANCE, stated), pid, BAD))
    clock.set(date(2025, 3, 2))  # the period is over: what it did not cover may be commissioned now
    refused(
        ledger,
        "agency-blacklisted",  # but nothing backdated into the period
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2023, 6, 1)), pid, BAD),
    )
    written = ledger.commission_key_evaluation(act(FINANCE, date(2021, 12, 31)), pid, BAD)
    assert written.events[-1].type == "Project.KeyEvaluationCommissioned"


def test_each_object_bounds_its_dates_from_below(ledger: Ledger) -> None:
    pid = world(ledger)
    evaluation = next(iter(ledger.project(pid).key_evaluations))
    early = [
        # a project: not before the fiscal year's preparation opens, nor before its department was registered
        lambda: ledger.declare_project(
            act(EDUCATION, date(2019, 12, 31)),
            code="JY-98",
            name="x",
            kind="project",
            department="教育局",
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        ),
        lambda: ledger.declare_project(
            act(EDUCATION, date(2020, 7, 31)),
            code="JY-98",
            name="x",
            kind="project",
            department="教育局",
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        ),
        # what is done to it: not before it was declared (2020-09-01)
        lambda: ledger.disclose(act(FINANCE, date(2020, 8, 31)), pid, "goals"),
        # what is done to its parts: not before each came to be
        lambda: ledger.review_key_evaluation(act(FINANCE, date(2021, 8, 31)), pid, evaluation, "plan", True),
        lambda: ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 8, 31)), pid, evaluation, "督导"),
        lambda: ledger.report_rectification(act(EDUCATION, date(2021, 5, 31)), pid, 1, "措施"),
        lambda: ledger.decide_goal_adjustment(act(FINANCE, date(2021, 4, 30)), pid, 1, True),
        lambda: ledger.review_monitoring(act(FINANCE, date(2021, 7, 4)), pid, 6, "意见"),
        # a department, an agency: not before registration (2020-08-01); a year's goals not before its preparation
        lambda: ledger.set_overall_goals(act(EDUCATION, date(2020, 7, 31)), "教育局", 2021, ["目标"]),
        lambda: ledger.set_overall_goals(act(EDUCATION, date(2020, 9, 1)), "教育局", 2022, ["目标"]),
        lambda: ledger.change_agency_qualification(act(FINANCE, date(2020, 7, 31), "年检"), BAD, "suspended"),
        # an engagement's quality, its plan: not before it was commissioned (2021-09-01)
        lambda: ledger.review_agency_quality(
            act(FINANCE, date(2021, 8, 31)), AGENCY.organisation, pid, evaluation, "80"
        ),
        lambda: ledger.submit_key_evaluation(act(AGENCY, date(2021, 8, 31)), pid, evaluation, "plan"),
        # a budget unit: not before its department was registered
        lambda: ledger.register_unit(act(FINANCE, date(2020, 7, 31)), "教育局", "早登记单位"),
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 3, 1)), pid, "晚登记评估公司"),
    ]
    ledger.register_agency(
        act(FINANCE, date(2021, 6, 1)), "晚登记评估公司", "甲级", credit_code=code_of("晚登记评估公司")
    )
    for command in early:
        refused(ledger, "effective-date-too-early", command)
    # a blacklisting: not before the misconduct it cites
    ledger.record_misconduct(act(FINANCE, date(2022, 2, 20), evidence=["a" * 64]), BAD, "falsification", "伪造")
    refused(ledger, "effective-date-too-early", lambda: ledger.blacklist_agency(act(FINANCE, date(2022, 2, 19)), BAD))
    ledger.blacklist_agency(act(FINANCE, date(2022, 2, 20), "弄虚作假"), BAD)


def test_a_name_recorded_by_an_older_version_is_still_found(ledger: Ledger) -> None:
    """Before keys, ids came from the NFC text: such an object keeps its id, is found by any spelling with that NFC
    (and by the key's, where the key is the NFC text), and is not registered twice."""
    name = "Zhōng区教育局"
    decomposed = unicodedata.normalize("NFD", name)
    legacy = Department._create(
        Department.Registered,
        id=ledger_id("department", nfc(name)),
        principal=FINANCE,
        effective_on=date(2020, 8, 1),
        reason="",
        evidence=[],
        name=name,
    )
    ledger.save(legacy)
    assert legacy.id != department_id(name)
    assert ledger.department(decomposed).id == legacy.id
    head = ledger.head()
    with pytest.raises(DomainError) as caught:
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), decomposed)
    assert caught.value.code == "already-exists"
    assert ledger.head() == head
    ledger.set_overall_goals(act(Principal("zh-01", "department", decomposed), date(2020, 10, 1)), name, 2021, ["目标"])
    assert ledger.department(name).overall_goals == {"2021": ["目标"]}
