"""Unit tests for audit findings (ledger.domain.findings): 审计发现 about a project, a department or an agency, the
response each requires by the ruleset's deadline, and the scheduler's notices. No database: the aggregate is driven
directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from ledger.domain.errors import DomainError
from ledger.domain.findings import RESPONSE, AuditFinding, finding_id
from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters
from ledger.domain.values import SYSTEM, Attribution, Principal

AUDITOR = Principal("aud-01", "auditor", "市审计局")
DEPT = Principal("ny-01", "department", "农业农村和科技局")
FOUND = date(2022, 6, 15)
SUBJECT_ID = uuid4()
P = DEFAULT_PARAMETERS


def find(
    *,
    kind: str = "department",
    reference: str = "德审报〔2022〕5号",
    findings: list[str] | None = None,
    on: date = FOUND,
    params: RuleParameters = P,
    since: date | None = date(2020, 8, 1),
) -> AuditFinding:
    return AuditFinding.record_finding(
        subject_kind=kind,
        subject="农业农村和科技局",
        subject_id=SUBJECT_ID,
        subject_since=since,
        responder_kind="agency" if kind == "agency" else "department",
        responder="农业农村和科技局",
        department=None if kind == "agency" else "农业农村和科技局",
        reference=reference,
        findings=["部分资金未按进度拨付"] if findings is None else findings,
        params=params,
        ruleset_version=2,
        by=Attribution(AUDITOR, on, "", [f"{1:064x}"]),
    )


def refused(code: str, call: Any) -> None:
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value


@pytest.mark.parametrize("kind", ["project", "department", "agency"])
def test_a_finding_requires_a_response_within_the_ruleset_days(kind: str) -> None:
    finding = find(kind=kind)
    (event,) = finding.collect_events()
    assert isinstance(event, AuditFinding.Recorded)
    assert (event.subject_kind, event.response_due, event.ruleset_version) == (kind, FOUND + timedelta(days=30), 2)
    assert finding.id == finding_id(kind, SUBJECT_ID, "德审报〔2022〕5号")
    assert finding.id == finding_id(kind, SUBJECT_ID, "德审报〔2022〕5号 ")  # the reference's key: one finding
    assert find(params=replace(P, audit_finding_response_days=10)).response_due == FOUND + timedelta(days=10)


def test_a_finding_refuses_what_it_cannot_be() -> None:
    refused("invalid-value", lambda: find(kind="minister"))
    refused("invalid-value", lambda: find(reference=" "))
    refused("invalid-value", lambda: find(findings=[]))
    refused("invalid-value", lambda: find(findings=["  "]))
    refused("effective-date-too-early", lambda: find(since=date(2022, 7, 1)))
    refused("invalid-rule-parameter", lambda: replace(P, audit_finding_response_days=0).validate())


def test_the_response_is_recorded_once_not_before_the_finding() -> None:
    finding = find()
    refused("effective-date-too-early", lambda: finding.respond("已整改", Attribution(DEPT, FOUND - timedelta(days=1))))
    refused("invalid-value", lambda: finding.respond(" ", Attribution(DEPT, FOUND)))
    finding.respond("已按审计意见拨付资金", Attribution(DEPT, date(2022, 7, 1)))
    assert finding.response == {"text": "已按审计意见拨付资金", "on": date(2022, 7, 1), "by": "ny-01"}
    refused("already-decided", lambda: finding.respond("再次回复", Attribution(DEPT, date(2022, 7, 2))))


def test_the_scheduler_warns_then_records_the_response_missed_once_each() -> None:
    finding = find()
    due = FOUND + timedelta(days=30)
    assert finding.open_deadlines()[0].kind == RESPONSE
    assert finding.next_deadline_notice(P) == due - timedelta(days=P.deadline_warning_days)
    assert finding.raise_deadline_notices(due - timedelta(days=8), P, SYSTEM) == []
    assert len(finding.raise_deadline_notices(due - timedelta(days=7), P, SYSTEM)) == 1
    assert finding.raise_deadline_notices(due, P, SYSTEM) == []
    assert len(finding.raise_deadline_notices(due + timedelta(days=1), P, SYSTEM)) == 1
    assert finding.raise_deadline_notices(due + timedelta(days=5), P, SYSTEM) == []
    kinds = [type(event).__name__ for event in finding.collect_events()]
    assert kinds == ["Recorded", "DeadlineApproaching", "DeadlineMissed"]
    assert finding.next_deadline_notice(P) is None


def test_a_response_ends_the_notices() -> None:
    finding = find()
    finding.respond("已整改", Attribution(DEPT, FOUND + timedelta(days=3)))
    assert finding.open_deadlines() == []
    assert finding.raise_deadline_notices(FOUND + timedelta(days=60), P, SYSTEM) == []
    assert finding.next_deadline_notice(P) is None


def test_replay_rebuilds_the_finding() -> None:
    finding = find()
    finding.respond("已整改", Attribution(DEPT, FOUND + timedelta(days=3)))
    finding.raise_deadline_notices(FOUND + timedelta(days=60), P, SYSTEM)
    copy: AuditFinding | None = None
    for event in finding.collect_events():
        copy = event.mutate(copy)
    assert copy is not None
    assert (copy.response, copy.response_due, copy.findings) == (
        finding.response,
        finding.response_due,
        finding.findings,
    )
