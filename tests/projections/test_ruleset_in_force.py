"""A new ruleset (规则集) on PostgreSQL: what was decided under the old one stays decided — replayed from the log and
in every read model — while what is decided after it, and what is still owed, follows the new one.

Fiscal year 2021 under ruleset version 1 (the defaults), then version 2 adopted on 2022-03-01 with every parameter
issue 16 moved out of the code set otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest

from ledger.application import Ledger
from ledger.domain import rules
from ledger.domain.disclosure import congress_duty_id
from ledger.domain.project import project_id
from ledger.domain.values import Indicator
from projections.registry import read_models
from projections.runner import Runner
from tests.conftest import EDUCATION, FINANCE, TEST_KEY, FakeClock, act, report
from tests.ledger.domain.overall_support import overall_indicators

pytestmark = pytest.mark.db

# Output 50, effect 30 (one qualitative indicator: what its grade earns is a parameter), satisfaction 10.
GOALS = [
    Indicator("I1", "output", "quantity", "受益学生人数", ">=", Decimal(5000), "人", Decimal(30)),
    Indicator("I2", "output", "timeliness", "供餐天数", ">=", Decimal(200), "天", Decimal(20)),
    Indicator("I3", "effect", "social", "应保尽保", "qualitative", "好", "", Decimal(30)),
    Indicator("I4", "satisfaction", "service_users", "家长满意度", ">=", Decimal(90), "%", Decimal(10)),
]
ACTUALS = {"I1": "5000", "I2": "200", "I3": "较好", "I4": "90"}
VERSION_2 = {
    "qualitative_shares": [["好", "1"], ["较好", "0.5"], ["一般", "0.3"], ["较差", "0"]],
    "grade_excellent_min": "95",
    "grade_good_min": "85",
    "goal_submission_due": [-1, 11, 30],
    "monitoring_report_month": 9,
    "monitoring_report_due": [0, 10, 15],
    "self_evaluation_due": [1, 4, 30],
    "overall_goals_coverage": [[2021, "60"], [2022, "100"], [2023, "80"]],
    "re_evaluation_rate": "0.20",
    "goals_disclosure_days": 30,
    "congress_goals_due": [0, 1, 20],
}


def declared(ledger: Ledger, code: str, year: int = 2021) -> UUID:
    ledger.declare_project(
        act(EDUCATION, date(year - 1, 9, 1)),
        code=code,
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=year,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )
    return project_id(year, code)


def approved(ledger: Ledger, code: str) -> UUID:
    pid = declared(ledger, code)
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "1000000.00")
    return pid


def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def open_obligations(database_url: str, pid: UUID) -> list[tuple[Any, ...]]:
    return rows(
        database_url,
        "SELECT kind, ref, due_on, approaching_on, missed_on FROM deadlines WHERE project_id = %s AND status = 'open' "
        "ORDER BY due_on, kind, ref",
        pid,
    )


def test_a_new_ruleset_changes_no_decision_on_replay_nor_in_the_read_models(
    ledger: Ledger, database_url: str, clock: FakeClock
) -> None:
    runner = Runner(database_url, read_models(), page=3)  # small pages: the adoption falls inside one
    runner.setup()
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    ledger.submit_overall_goals(act(EDUCATION, date(2020, 12, 1)), "教育局", 2021, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2020, 12, 2)), "教育局", 2021, "优")
    evaluated = approved(ledger, "JY-01")
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 8, 5)), evaluated, month=7, executed="600000.00", indicator_progress={"I1": "60"}
    )
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]), evaluated, ACTUALS, "1000000.00"
    )
    later = approved(ledger, "JY-02")  # self-evaluated after the adoption
    owing = approved(ledger, "JY-03")  # owes the monitoring report and the self-evaluation
    ledger.raise_deadline_notices(owing, date(2021, 8, 16))  # missed on 15 August under version 1
    unsubmitted = declared(ledger, "JY-04", 2022)  # owes its goals, by 2021-10-31 under version 1
    runner.catch_up()

    before = {model.name: runner.digest(model) for model in read_models()}
    decided = ledger.project(evaluated).self_evaluation
    assert decided is not None
    # 30 + 20 + 30 × 80% (较好 under version 1) + 10 + execution 10 = 94 → 优
    assert (decided["total"], decided["grade"], decided["ruleset_version"]) == (Decimal("94.00"), "优", 1)
    goals_coverage = (
        "SELECT fiscal_year, departments, departments_with_goals, goals_coverage, goals_coverage_target FROM coverage "
        "ORDER BY fiscal_year"
    )
    coverage_before = rows(database_url, goals_coverage)
    assert [row[-1] for row in coverage_before] == [Decimal("60.00"), Decimal("100.00")]
    assert coverage_before[0][:4] == (2021, 1, 1, Decimal("100.00"))  # its overall goals, approved, count
    assert open_obligations(database_url, owing) == [
        ("goals_disclosure", 0, date(2021, 2, 4), None, date(2021, 2, 5)),  # 20 days after the approval
        ("monitoring_report", 0, date(2021, 8, 15), None, date(2021, 8, 16)),
        ("self_evaluation", 0, date(2022, 3, 31), None, None),
    ]
    congress = "SELECT kind, due_on, done_on FROM disclosure WHERE kind LIKE 'congress%%' ORDER BY kind"
    assert rows(database_url, congress) == [("congress_goals", date(2020, 12, 31), None)]

    ledger.adopt_ruleset(
        act(FINANCE, date(2022, 3, 1), "新规则集"), 2, {**rules.DEFAULT_PARAMETERS.to_dict(), **VERSION_2}
    )
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 3, 5), evidence=[report("self_evaluation_report")]), later, ACTUALS, "1000000.00"
    )
    ledger.submit_overall_goals(act(EDUCATION, date(2022, 12, 1)), "教育局", 2023, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2022, 12, 2)), "教育局", 2023, "良")
    runner.catch_up()

    # Replayed from the log by a ledger that never saw it: the earlier decision as it was recorded.
    fresh = Ledger(database_url, clock=clock, signing_key=TEST_KEY)
    try:
        replayed = fresh.project(evaluated)
        assert replayed.self_evaluation == decided
        assert replayed.monitoring[-1]["monitoring_report_month"] == 7
        params = fresh.ruleset().parameters()
        assert fresh.ruleset().parameters(1) == rules.DEFAULT_PARAMETERS
        # What is decided after it follows version 2: 较好 earns half (85), and 85 is 良.
        after = fresh.project(later).self_evaluation
        assert after is not None
        assert (after["total"], after["grade"], after["ruleset_version"]) == (Decimal("85.00"), "良", 2)
        # What is still owed falls due on version 2's days, in the project and in the read model alike.
        for pid in (owing, unsubmitted):
            owed = [(d.kind, d.ref, d.due_on) for d in fresh.project(pid).open_deadlines(params)]
            assert [row[:3] for row in open_obligations(database_url, pid)] == owed
        duty = fresh.disclosure_duty(congress_duty_id(2021, "goals"))
        assert [d.due_on for d in duty.open_deadlines(params)] == [date(2021, 1, 20)]
    finally:
        fresh.close()
    assert open_obligations(database_url, owing) == [
        ("goals_disclosure", 0, date(2021, 2, 4), None, date(2021, 2, 5)),  # fixed by the approval: not moved
        ("monitoring_report", 0, date(2021, 10, 15), None, None),  # a notice for 15 August is not for 15 October
        ("self_evaluation", 0, date(2022, 4, 30), None, None),
    ]
    # The year's goals still owed to the congress fall due on version 2's yearly day, in the duty and the read model.
    assert rows(database_url, congress) == [("congress_goals", date(2021, 1, 20), None)]
    assert open_obligations(database_url, unsubmitted) == [("goal_submission", 0, date(2021, 11, 30), None, None)]
    assert rows(
        database_url, "SELECT kind, status, due_on FROM deadlines WHERE project_id = %s ORDER BY kind", evaluated
    ) == [
        ("goal_submission", "met", date(2020, 10, 31)),
        ("goals_disclosure", "open", date(2021, 2, 4)),
        ("monitoring_report", "met", date(2021, 8, 15)),
        ("self_evaluation", "met", date(2022, 3, 31)),
    ]

    # The read models' view of what was decided before: unchanged.
    status = rows(database_url, "SELECT self_score, grade FROM project_status WHERE project_id = %s", evaluated)
    assert status == [(Decimal("94.00"), "优")]
    assert rows(database_url, goals_coverage)[:2] == coverage_before
    assert rows(database_url, "SELECT fiscal_year, goals_coverage_target FROM coverage ORDER BY fiscal_year") == [
        (2021, Decimal("60.00")),
        (2022, Decimal("100.00")),
        (2023, Decimal("80.00")),  # version 2's target for a year it may still set
    ]
    assert rows(database_url, goals_coverage)[2][:4] == (2023, 1, 1, Decimal("100.00"))
    assert runner.digest(read_models()[2]) == before["blacklist"]  # a read model the rules do not touch at all
    # Rebuilt from zero, every read model equals the one kept page by page across the adoption.
    for model in read_models():
        assert runner.rebuild(model) == runner.digest(model), model.name
