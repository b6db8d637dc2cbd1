"""``disclosure``'s fold, without a database: the duties in (a project's goals and results, an organisation's overall
goals, a year's congress submissions), one row each with its due day, notices and how it was met out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from ledger.domain import rules
from ledger.domain.disclosure import congress_duty_id, duty_id
from ledger.domain.values import SYSTEM, key
from projections.base import LogEvent
from projections.disclosure import COLUMNS, Projects, Rows, fold
from tests.projections.recorded import DEPARTMENT, FINANCE, Log, ProjectHistory

P = rules.DEFAULT_PARAMETERS
CONTENT = {"indicators": [{"key": "I1", "name": "受益学生人数", "operator": ">=", "target": "5000"}]}


def folded(events: list[LogEvent], rows: Rows | None = None, params: rules.RuleParameters = P) -> Rows:
    rows = {} if rows is None else rows
    projects: Projects = {}
    for item in events:
        fold(rows, projects, item, params)
    return rows


def approved(log: Log, **declared: Any) -> ProjectHistory:
    return ProjectHistory(log, **declared).then(
        "BudgetApproved",
        effective_on=date(2021, 1, 15),
        amount=Decimal("1000000.00"),
        linkage=None,
        override=False,
        goals_disclosure_due=date(2021, 2, 4),
    )


def test_an_approval_owes_the_goals_and_the_disclosure_meets_the_duty() -> None:
    log = Log()
    history = approved(log, unit="德令哈市第一中学")
    rows = folded(history.events)
    row = rows[(history.id, "project_goals")]
    assert set(row) == set(COLUMNS)
    assert (row["kind_zh"], row["code"], row["department_key"], row["unit"], row["organisation"]) == (
        "项目绩效目标公开",
        "P-001",
        key("教育局"),
        "德令哈市第一中学",
        "德令哈市第一中学",
    )
    assert (row["opened_on"], row["due_on"], row["done_on"], row["late"], row["content"]) == (
        date(2021, 1, 15),
        date(2021, 2, 4),
        None,
        None,
        None,
    )
    history.then(
        "DeadlineApproaching",
        effective_on=date(2021, 1, 28),
        principal=SYSTEM,
        deadline="goals_disclosure",
        ref=0,
        due_on=date(2021, 2, 4),
    ).then(
        "Disclosed",
        effective_on=date(2021, 2, 8),
        principal=DEPARTMENT,
        what="goals",
        content=CONTENT,
        due_on=date(2021, 2, 4),
        late=True,
    )
    row = folded(history.events)[(history.id, "project_goals")]
    assert (row["approaching_on"], row["done_on"], row["late"], row["content"]) == (
        date(2021, 1, 28),
        date(2021, 2, 8),
        True,
        CONTENT,
    )
    assert (row["done_by_id"], row["done_by_role"], row["done_by_organisation"]) == ("dep", "department", "教育局")
    assert row["position"] == history.last.leaf_index


def test_an_approval_recorded_before_disclosure_was_watched_owes_nothing() -> None:
    log = Log()
    history = ProjectHistory(log).then(
        "BudgetApproved", effective_on=date(2021, 1, 15), amount=Decimal("1.00"), linkage=None, override=False
    )
    assert folded(history.events) == {}
    history.then("Disclosed", effective_on=date(2021, 3, 1), what="goals")  # as recorded before: no content
    row = folded(history.events)[(history.id, "project_goals")]
    assert (row["due_on"], row["late"], row["content"], row["done_on"]) == (None, None, None, date(2021, 3, 1))


def test_results_are_owed_from_their_application_and_a_notice_for_another_day_is_not_this_ones() -> None:
    log = Log()
    history = approved(log).then(
        "ResultsApplied",
        effective_on=date(2022, 6, 10),
        decision="maintain",
        basis="self_evaluation",
        grade="良",
        next_year_budget=None,
        ruleset_version=1,
        results_disclosure_due=date(2022, 6, 30),
    )
    history.then(
        "DeadlineMissed",
        effective_on=date(2022, 7, 1),
        principal=SYSTEM,
        deadline="results_disclosure",
        ref=0,
        due_on=date(2022, 6, 30),
    ).then(
        "DeadlineMissed",
        effective_on=date(2022, 7, 1),
        principal=SYSTEM,
        deadline="goals_disclosure",
        ref=0,
        due_on=date(2021, 1, 1),  # not the goals' due day
    )
    rows = folded(history.events)
    assert (rows[(history.id, "project_results")]["missed_on"], rows[(history.id, "project_results")]["due_on"]) == (
        date(2022, 7, 1),
        date(2022, 6, 30),
    )
    assert rows[(history.id, "project_goals")]["missed_on"] is None


def test_overall_goals_duty_of_a_unit_and_its_disclosure() -> None:
    log = Log()
    did, goals = duty_id("overall_goals", 2022, "德令哈市第一中学"), uuid4()
    events = [
        log.record(
            "DisclosureDuty.Opened",
            did,
            effective_on=date(2021, 11, 10),
            kind="overall_goals",
            fiscal_year=2022,
            organisation="德令哈市第一中学",
            department="教育局",
            subject_id=goals,
            due_on=date(2021, 11, 30),
            ruleset_version=1,
        ),
        log.record(
            "DisclosureDuty.Disclosed",
            did,
            effective_on=date(2021, 11, 20),
            principal=DEPARTMENT,
            content=CONTENT,
            due_on=date(2021, 11, 30),
            late=False,
        ),
    ]
    first = folded(events[:1])
    assert first[(did, "overall_goals")]["done_on"] is None
    row = folded(events[1:], first)[(did, "overall_goals")]
    assert (row["department"], row["unit"], row["unit_key"], row["organisation"], row["subject_id"]) == (
        "教育局",
        "德令哈市第一中学",
        key("德令哈市第一中学"),
        "德令哈市第一中学",
        goals,
    )
    assert (row["due_on"], row["done_on"], row["late"], row["content"]) == (
        date(2021, 11, 30),
        date(2021, 11, 20),
        False,
        CONTENT,
    )


def test_a_congress_duty_falls_due_on_the_rulesets_day_and_the_submission_meets_it() -> None:
    log = Log()
    did, submission = congress_duty_id(2021, "goals"), uuid4()
    opened = log.record(
        "DisclosureDuty.Opened",
        did,
        effective_on=date(2020, 11, 5),
        kind="congress_goals",
        fiscal_year=2021,
        organisation=None,
        department=None,
        subject_id=None,
        due_on=None,
        ruleset_version=1,
    )
    later = rules.RuleParameters(congress_goals_due=(0, 1, 20))
    assert folded([opened], params=later)[(did, "congress_goals")]["due_on"] == date(2021, 1, 20)
    events = [
        opened,
        log.record(
            "CongressSubmission.Submitted",
            submission,
            effective_on=date(2021, 1, 5),
            fiscal_year=2021,
            what="goals",
            projects=[uuid4(), uuid4()],
            codes=["JY-01", "JY-02"],
            due_on=date(2020, 12, 31),
            late=True,
            ruleset_version=1,
        ),
        log.record(
            "DisclosureDuty.Fulfilled",
            did,
            effective_on=date(2021, 1, 5),
            submission_id=submission,
            due_on=date(2020, 12, 31),
            late=True,
        ),
    ]
    row = folded(events)[(did, "congress_goals")]
    assert (row["department"], row["organisation"], row["kind_zh"]) == (None, None, "绩效目标随预算草案报送人大")
    assert (row["due_on"], row["done_on"], row["late"], row["submission_id"], row["submitted_projects"]) == (
        date(2020, 12, 31),
        date(2021, 1, 5),
        True,
        submission,
        2,
    )
    assert (row["done_by_role"], row["done_by_organisation"]) == ("finance", FINANCE.organisation)


def test_a_submission_made_before_its_duty_was_watched_has_a_row_all_the_same() -> None:
    log = Log()
    submission = uuid4()
    item = log.record(
        "CongressSubmission.Submitted",
        submission,
        effective_on=date(2022, 6, 20),
        fiscal_year=2021,
        what="results",
        projects=[uuid4()],
        codes=["JY-01"],
        due_on=date(2022, 6, 30),
        late=False,
        ruleset_version=1,
    )
    row = folded([item])[(congress_duty_id(2021, "results"), "congress_results")]
    assert (row["due_on"], row["done_on"], row["late"], row["opened_on"]) == (
        date(2022, 6, 30),
        date(2022, 6, 20),
        False,
        None,
    )


def test_events_of_nothing_it_keeps_change_nothing() -> None:
    log = Log()
    assert folded([log.record("Department.Registered", uuid4(), name="教育局")]) == {}
    history = ProjectHistory(log).then("Admitted")
    assert folded(history.events) == {}
