"""The application on PostgreSQL: who may do what, and a refusal records nothing."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest

from ledger.application import Ledger
from ledger.domain import rules
from ledger.domain.draw import ReEvaluationSample, sample_id
from ledger.domain.errors import DomainError
from ledger.domain.organisations import department_id
from ledger.domain.project import project_id
from ledger.domain.project_values import Stage
from ledger.domain.values import Indicator, Principal
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, HEALTH, act, report
from tests.credit_codes import code_of


def register_agency(ledger: Ledger, name: str, credentials: str, affiliation: str | None = None) -> None:
    """Registered by finance on 1 August 2020, with a 统一社会信用代码 of its own (check characters right)."""
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), name, credentials, affiliation=affiliation, credit_code=code_of(name)
    )


pytestmark = pytest.mark.db

GOALS = [
    Indicator("I1", "output", "quantity", "受益学生人数", ">=", Decimal(5000), "人", Decimal(30)),
    Indicator("I2", "output", "timeliness", "供餐天数", ">=", Decimal(200), "天", Decimal(20)),
    Indicator("I3", "effect", "social", "学生体质健康达标率", ">=", Decimal(92), "%", Decimal(30)),
    Indicator("I4", "satisfaction", "service_users", "家长满意度", ">=", Decimal(90), "%", Decimal(10)),
]


def approved_project(
    ledger: Ledger, code: str = "JY-01", requested: str = "1000000.00", *, goals_disclosed: bool = True
) -> UUID:
    """A 2021 project of 教育局, its budget approved on 2021-01-15 — and, as its department owes, its goals disclosed
    on 2021-01-20 (within the 20 days: no disclosure notice falls due), unless ``goals_disclosed`` is false."""
    for name in ("教育局", "卫生健康委员会"):
        if not ledger.exists(department_id(name)):
            ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code=code,
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested=requested,
        new_major=False,
    )
    pid = project_id(2021, code)
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, requested)
    if goals_disclosed:
        ledger.disclose(act(EDUCATION, date(2021, 1, 20)), pid, "goals")
    return pid


def refused(ledger: Ledger, code: str, command: Callable[[], Any]) -> DomainError:
    """Run a command that must be refused with ``code``, and check the log did not move."""
    head = ledger.head()
    with pytest.raises(DomainError) as caught:
        command()
    assert caught.value.code == code, caught.value
    assert ledger.head() == head, "a refused command recorded something"
    return caught.value


def test_a_department_acts_only_on_its_own_projects(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.report_monitoring(
            act(HEALTH, date(2021, 5, 10)), pid, month=4, executed="100.00", indicator_progress={}
        ),
    )
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.declare_project(
            act(HEALTH, date(2020, 9, 1)),
            code="X",
            name="x",
            kind="project",
            department="教育局",
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        ),
    )


@pytest.mark.parametrize(
    "principal", [AUDITOR, Principal("pub", "public", ""), Principal("adm", "admin", "信息中心"), EDUCATION, AGENCY]
)
def test_only_finance_approves_budgets(ledger: Ledger, principal: Principal) -> None:
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="R-1",
        name="项目",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000.00",
        new_major=False,
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.approve_budget(act(principal, date(2021, 1, 15)), project_id(2021, "R-1"), "1000.00"),
    )


def test_no_approved_goals_no_budget(ledger: Ledger) -> None:
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="G-1",
        name="项目",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000.00",
        new_major=False,
    )
    pid = project_id(2021, "G-1")
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5), "目标不够明确"), pid, "中")
    refused(
        ledger, "goals-not-approved", lambda: ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "1000.00")
    )


def test_an_agency_scores_only_what_it_was_commissioned_for(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    register_agency(ledger, AGENCY.organisation, "资信甲级")
    register_agency(ledger, "另一评估机构", "资信乙级")
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    evaluation = next(iter(ledger.project(pid).key_evaluations))
    plan, evaluated = report("evaluation_plan"), report("evaluation_report")
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 9, 5), evidence=[plan]), pid, evaluation, "plan")
    ledger.review_key_evaluation(act(FINANCE, date(2021, 9, 10), evidence=[plan]), pid, evaluation, "plan", True)
    ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 10, 10)), pid, evaluation, "督导", ["样本不足"])
    ledger.answer_key_evaluation_supervision(act(AGENCY, date(2021, 10, 15)), pid, evaluation, 1, "已补充")
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 12, 5), evidence=[evaluated]), pid, evaluation, "report")
    ledger.review_key_evaluation(
        act(FINANCE, date(2021, 12, 10), evidence=[evaluated]), pid, evaluation, "report", True
    )
    scores = {"decision": "14", "process": "18", "output": "30", "effect": "26"}
    other = Principal("ag-9", "agency", "另一评估机构")
    refused(
        ledger,
        "not-commissioned",
        lambda: ledger.score_key_evaluation(act(other, date(2021, 12, 20)), pid, evaluation, scores),
    )
    written = ledger.score_key_evaluation(act(AGENCY, date(2021, 12, 20)), pid, evaluation, scores)
    assert ledger.project(pid).key_evaluations[evaluation]["score"]["total"] == Decimal(88)
    assert written.version == ledger.project(pid).version


def test_blacklisted_and_conflicted_agencies_are_refused(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    register_agency(ledger, "青海某会计师事务所", "执业证书")
    register_agency(ledger, "教育评估中心", "事业单位", affiliation="教育局")
    refused(
        ledger,
        "no-misconduct-recorded",
        lambda: ledger.blacklist_agency(act(FINANCE, date(2021, 3, 1), "黑名单"), "青海某会计师事务所"),
    )
    ledger.record_misconduct(
        act(FINANCE, date(2021, 3, 1), evidence=["a" * 64]), "青海某会计师事务所", "falsification", "伪造现场勘查记录"
    )
    ledger.blacklist_agency(act(FINANCE, date(2021, 3, 5), "评价结果不实"), "青海某会计师事务所")
    refused(
        ledger,
        "agency-blacklisted",
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, "青海某会计师事务所"),
    )
    refused(
        ledger,
        "conflict-of-interest",
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, "教育评估中心"),
    )
    ledger.lift_blacklisting(act(FINANCE, date(2021, 10, 1), "申诉成立"), "青海某会计师事务所")
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 10, 2)), pid, "青海某会计师事务所")


def test_expected_version_guards_against_stale_writes(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    version = ledger.project(pid).version
    refused(
        ledger,
        "stale-version",
        lambda: ledger.report_monitoring(
            act(EDUCATION, date(2021, 5, 10), expected_version=version - 1),
            pid,
            month=4,
            executed="100.00",
            indicator_progress={},
        ),
    )
    written = ledger.report_monitoring(
        act(EDUCATION, date(2021, 5, 10), expected_version=version),
        pid,
        month=4,
        executed="100.00",
        indicator_progress={},
    )
    assert written.version == version + 1


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("requested", "-1.00", "invalid-money"),
        ("requested", "1.001", "invalid-money"),
        ("requested", 1.5, "invalid-money"),
        ("requested", "NaN", "invalid-money"),
        ("requested", "1e309", "invalid-money"),
        ("budget_book", "black_box", "invalid-value"),
        ("name", "长" * 201, "text-too-long"),
        ("name", "bad\x00name", "invalid-value"),
        ("fiscal_year_", 1999, "invalid-value"),
        ("new_major", "yes", "invalid-value"),
    ],
)
def test_invalid_values_are_refused_and_nothing_recorded(ledger: Ledger, field: str, value: object, code: str) -> None:
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    command: dict[str, Any] = {
        "code": "V-1",
        "name": "项目",
        "kind": "project",
        "department": "教育局",
        "fiscal_year_": 2021,
        "budget_book": "general_public",
        "special_category": None,
        "requested": "1000.00",
        "new_major": False,
    }
    command[field] = value
    error = refused(ledger, code, lambda: ledger.declare_project(act(EDUCATION, date(2020, 9, 1)), **command))
    assert error.field in (field, field.rstrip("_"))


def test_self_evaluation_is_scored_by_the_ledger_with_its_ruleset(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
        "950000.00",
    )
    evaluation = ledger.project(pid).self_evaluation
    assert evaluation is not None
    # I2: 20 × 180/200 = 18; I4: 10 × 88/90 = 9.78; execution 10 × 0.95 = 9.5 → 30 + 18 + 30 + 9.78 + 9.5
    assert evaluation["total"] == Decimal("97.28")
    assert (evaluation["grade"], evaluation["ruleset_version"]) == ("优", 1)


def test_a_new_ruleset_changes_nothing_already_decided(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5000", "I2": "200", "I3": "92", "I4": "90"},
        "1000000.00",
    )
    stricter = {**rules.DEFAULT_PARAMETERS.to_dict(), "grade_excellent_min": "101"}
    with pytest.raises(DomainError):
        ledger.adopt_ruleset(act(FINANCE, date(2022, 3, 1), "提高标准"), 2, stricter)
    stricter["grade_excellent_min"] = "95"
    stricter["grade_good_min"] = "85"
    ledger.adopt_ruleset(act(FINANCE, date(2022, 3, 1), "提高标准"), 2, stricter)
    ledger.repository.cache = None
    assert ledger.project(pid).self_evaluation["ruleset_version"] == 1  # type: ignore[index]
    assert ledger.ruleset().parameters(1) == rules.DEFAULT_PARAMETERS
    assert ledger.ruleset().parameters().grade_excellent_min == Decimal(95)


def test_a_sample_drawn_by_the_first_releases_replays_and_stays_the_year_s(ledger: Ledger) -> None:
    """The single-party draw is retired (``draw-retired``), but the samples it recorded load as they were: the year
    has its sample, reproducible from the recorded seed, and no new draw is announced over it."""
    pids = []
    for i in range(12):
        pid = approved_project(ledger, code=f"S-{i:02}")
        ledger.self_evaluate(
            act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
            pid,
            {"I1": "5000", "I2": "200", "I3": "92", "I4": "90"},
            "1000000.00",
        )
        pids.append(str(pid))
    population = sorted(pids)
    selected = rules.draw_sample(population, "公开抽签 2022-04-08", rules.DEFAULT_PARAMETERS)
    legacy = ReEvaluationSample._create(
        ReEvaluationSample.Drawn,
        id=sample_id(2021),
        principal=FINANCE,
        effective_on=date(2022, 4, 8),
        reason="",
        evidence=[],
        fiscal_year=2021,
        seed="公开抽签 2022-04-08",
        population=population,
        selected=selected,
        rate="0.10",
        ruleset_version=1,
    )
    ledger.save(legacy)
    ledger.repository.cache = None
    sample = ledger.re_evaluation_sample(2021)
    assert (sample.population, sample.selected, sample.draws, sample.is_drawn) == (population, selected, [], True)
    commitment = hashlib.sha256(b"x" * 32).hexdigest()
    refused(
        ledger,
        "already-exists",
        lambda: ledger.announce_re_evaluation_draw(act(FINANCE, date(2022, 4, 9)), 2021, commitment),
    )


def test_snapshots_every_fifty_events_and_history_by_version(ledger: Ledger, database_url: str) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, None)
    evaluation = next(iter(ledger.project(pid).key_evaluations))
    for i in range(95):
        ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 9, 2)), pid, evaluation, f"督导记录{i}")
    ledger.wait_for_snapshots()
    with psycopg.connect(database_url) as conn:
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT originator_version FROM ledger_snapshots WHERE originator_id = %s ORDER BY 1", (pid,)
            )
        ]
    assert versions == [50, 100]
    ledger.repository.cache = None
    latest = ledger.project(pid)
    assert latest.version == 101
    assert len(latest.key_evaluations[evaluation]["supervision"]) == 95
    as_approved = ledger.project(pid, version=5)  # declared, admitted, goals, reviewed, budget approved
    assert (as_approved.stage, as_approved.key_evaluations) == (Stage.BUDGET_APPROVED, {})


def test_commands_do_not_wait_for_their_snapshots(ledger: Ledger, database_url: str) -> None:
    """Snapshots are stored in the background: with their table locked, a command that reaches the interval is
    answered all the same, and its snapshot is stored once the table is free — the one a cold load then uses."""
    pid = approved_project(ledger)
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, None)
    evaluation = next(iter(ledger.project(pid).key_evaluations))
    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE ledger_snapshots IN ACCESS EXCLUSIVE MODE")
        answered = threading.Event()

        def command() -> None:
            for i in range(ledger.project(pid).version, 50):
                ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 9, 2)), pid, evaluation, f"督导{i}")
            answered.set()

        writer = threading.Thread(target=command)
        writer.start()
        assert answered.wait(5), "a command waited for the snapshot table"
        assert ledger.project(pid).version == 50
        blocker.rollback()
    writer.join()
    ledger.wait_for_snapshots()
    with psycopg.connect(database_url) as conn:
        assert conn.execute(
            "SELECT array_agg(originator_version) FROM ledger_snapshots WHERE originator_id = %s", (pid,)
        ).fetchone() == ([50],)
    ledger.repository.cache = None
    assert ledger.project(pid).version == 50


def test_unknown_objects_are_not_found(ledger: Ledger) -> None:
    refused(
        ledger,
        "project-not-found",
        lambda: ledger.admit_project(act(FINANCE, date(2020, 9, 1)), project_id(2021, "NOPE")),
    )
    refused(
        ledger,
        "department-not-found",
        lambda: ledger.declare_project(
            act(FINANCE, date(2020, 9, 1)),
            code="N",
            name="n",
            kind="project",
            department="不存在局",
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        ),
    )
