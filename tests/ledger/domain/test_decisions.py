"""Unit tests for finance's decisions (ledger.domain.decisions): 通报, 表彰 and 约谈, the rectification a criticism or
an interview opens, and the scheduler's notices for its report. No database: the aggregate is driven directly."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.domain.decisions import (
    RECTIFICATION,
    Decision,
    contrary_ids,
    decision_id,
)
from ledger.domain.errors import DomainError
from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters
from ledger.domain.values import SYSTEM, Attribution, Principal

FINANCE = Principal("fin-01", "finance", "市财政局")
DEPT = Principal("edu-01", "department", "教育局")
DECIDED = date(2022, 6, 10)
DEPARTMENT_ID = uuid4()


def decide(
    kind: str,
    *,
    reason: str = "2021年度综合绩效考评排名末位",
    on: date = DECIDED,
    basis: str = "ranking",
    project_id: UUID | None = None,
    params: RuleParameters = DEFAULT_PARAMETERS,
    since: date | None = date(2020, 8, 1),
) -> Decision:
    return Decision.record_decision(
        kind=kind,
        subject_kind="department",
        subject="教育局",
        subject_id=DEPARTMENT_ID,
        department="教育局",
        basis=basis,
        fiscal_year=2021,
        project_id=project_id,
        subject_since=since,
        params=params,
        ruleset_version=3,
        by=Attribution(FINANCE, on, reason, [f"{1:064x}"]),
    )


def refused(code: str, call: Any, aggregate: Decision | None = None) -> None:
    before = len(aggregate.pending_events) if aggregate is not None else 0
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    if aggregate is not None:
        assert len(aggregate.pending_events) == before


@pytest.mark.parametrize("kind", ["criticism", "interview"])
def test_a_criticism_or_an_interview_opens_a_rectification_due_in_the_rulesets_days(kind: str) -> None:
    decision = decide(kind)
    event = decision.pending_events[-1]
    assert isinstance(event, Decision.Recorded)
    assert event.rectification_due == DECIDED + timedelta(days=30)
    assert (event.reason, event.evidence, event.ruleset_version) == ("2021年度综合绩效考评排名末位", [f"{1:064x}"], 3)
    assert decision.rectification == {"due": date(2022, 7, 10), "status": "open", "reports": 0, "reported_on": None}
    shorter = decide(kind, params=RuleParameters(decision_rectification_days=15))
    assert shorter.rectification is not None
    assert shorter.rectification["due"] == date(2022, 6, 25)


@pytest.mark.parametrize("kind", ["praise", "commendation"])
def test_praise_and_commendation_open_no_rectification(kind: str) -> None:
    decision = decide(kind, reason="排名第一")
    assert decision.rectification is None
    assert decision.open_deadlines() == []
    refused("no-rectification-required", lambda: decision.report_rectification("无", Attribution(DEPT, DECIDED)))
    refused("no-rectification-required", lambda: decision.decide_rectification(True, Attribution(FINANCE, DECIDED)))


def test_the_id_follows_from_kind_organisation_and_basis() -> None:
    decision = decide("interview")
    assert decision.id == decision_id("interview", "department", "教育局", "ranking", 2021)
    assert decision.id == decision_id("interview", "department", " 教育局 ", "ranking", 2021)  # any spelling
    assert decision.id != decision_id("interview", "department", "教育局", "ranking", 2022)
    assert decision.id != decision_id("criticism", "department", "教育局", "ranking", 2021)
    project = uuid4()
    assert decide("interview", basis="evaluation", project_id=project).id == decision_id(
        "interview", "department", "教育局", "evaluation", project
    )


def test_contrary_decisions_are_the_other_sign_on_the_same_basis() -> None:
    cited = ("department", "教育局", "ranking", 2021)
    assert set(contrary_ids("interview", *cited)) == {
        decision_id("praise", *cited),
        decision_id("commendation", *cited),
    }
    assert set(contrary_ids("praise", *cited)) == {
        decision_id("criticism", *cited),
        decision_id("interview", *cited),
    }


def test_refusals_when_recording() -> None:
    refused("invalid-value", lambda: decide("warning"))
    refused("reason-required", lambda: decide("interview", reason="  "))
    refused("effective-date-too-early", lambda: decide("interview", on=date(2020, 7, 31)))
    with pytest.raises(DomainError) as excinfo:
        decide("interview", basis="rumour")
    assert excinfo.value.field == "basis"


def test_the_department_reports_and_finance_accepts() -> None:
    decision = decide("interview")
    decision.report_rectification("已整改", Attribution(DEPT, date(2022, 7, 1), evidence=[f"{2:064x}"]))
    assert decision.rectification is not None
    assert (decision.rectification["status"], decision.rectification["reports"]) == ("reported", 1)
    assert decision.open_deadlines() == []  # reported: nothing owed while finance decides
    refused(
        "already-decided", lambda: decision.report_rectification("再报", Attribution(DEPT, date(2022, 7, 2))), decision
    )
    refused(
        "effective-date-too-early",
        lambda: decision.decide_rectification(True, Attribution(FINANCE, date(2022, 6, 30))),
        decision,
    )
    decision.decide_rectification(True, Attribution(FINANCE, date(2022, 7, 5)))
    assert decision.rectification["status"] == "accepted"
    refused(
        "already-decided",
        lambda: decision.decide_rectification(False, Attribution(FINANCE, date(2022, 7, 6))),
        decision,
    )


def test_a_rejection_gives_its_reason_and_leaves_the_report_owed_by_the_same_date() -> None:
    decision = decide("criticism")
    refused("already-decided", lambda: decision.decide_rectification(True, Attribution(FINANCE, DECIDED)), decision)
    decision.report_rectification("已整改", Attribution(DEPT, date(2022, 7, 1)))
    refused(
        "reason-required",
        lambda: decision.decide_rectification(False, Attribution(FINANCE, date(2022, 7, 3))),
        decision,
    )
    decision.decide_rectification(False, Attribution(FINANCE, date(2022, 7, 3), "措施不到位"))
    assert decision.rectification is not None
    assert decision.rectification["status"] == "open"
    assert [d.due_on for d in decision.open_deadlines()] == [date(2022, 7, 10)]
    decision.report_rectification("补充整改", Attribution(DEPT, date(2022, 7, 8)))
    assert decision.rectification["reports"] == 2


def test_a_report_is_not_dated_before_the_decision_and_describes_the_measures() -> None:
    decision = decide("interview")
    refused(
        "effective-date-too-early",
        lambda: decision.report_rectification("已整改", Attribution(DEPT, DECIDED - timedelta(days=1))),
        decision,
    )
    refused("invalid-value", lambda: decision.report_rectification("  ", Attribution(DEPT, DECIDED)), decision)


def test_the_scheduler_warns_then_records_the_report_missed_once_each() -> None:
    decision = decide("interview")
    due = date(2022, 7, 10)
    assert decision.next_deadline_notice(DEFAULT_PARAMETERS) == due - timedelta(days=7)
    assert decision.raise_deadline_notices(due - timedelta(days=8), DEFAULT_PARAMETERS, SYSTEM) == []
    [approaching] = decision.raise_deadline_notices(due - timedelta(days=7), DEFAULT_PARAMETERS, SYSTEM)
    assert approaching.kind == RECTIFICATION
    event = decision.pending_events[-1]
    assert isinstance(event, Decision.DeadlineApproaching)
    assert (event.due_on, event.effective_on, event.principal) == (due, due - timedelta(days=7), SYSTEM)
    assert decision.raise_deadline_notices(due, DEFAULT_PARAMETERS, SYSTEM) == []  # once
    assert decision.next_deadline_notice(DEFAULT_PARAMETERS) == due + timedelta(days=1)
    [_missed] = decision.raise_deadline_notices(due + timedelta(days=5), DEFAULT_PARAMETERS, SYSTEM)
    event = decision.pending_events[-1]
    assert isinstance(event, Decision.DeadlineMissed)
    assert event.effective_on == due + timedelta(days=1)  # in effect from the day after, whenever recorded
    assert decision.raise_deadline_notices(due + timedelta(days=6), DEFAULT_PARAMETERS, SYSTEM) == []
    assert decision.next_deadline_notice(DEFAULT_PARAMETERS) is None


def test_no_notice_once_the_report_is_made() -> None:
    decision = decide("interview")
    decision.report_rectification("已整改", Attribution(DEPT, date(2022, 6, 20)))
    assert decision.raise_deadline_notices(date(2022, 8, 1), DEFAULT_PARAMETERS, SYSTEM) == []
    assert decision.next_deadline_notice(DEFAULT_PARAMETERS) is None


def test_the_rectification_days_are_a_validated_parameter() -> None:
    with pytest.raises(DomainError) as excinfo:
        RuleParameters(decision_rectification_days=0).validate()
    assert (excinfo.value.code, excinfo.value.field) == ("invalid-rule-parameter", "decision_rectification_days")
    assert "约谈" in str(excinfo.value.detail)
