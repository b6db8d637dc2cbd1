"""Spot checks (不定期核查) and escalations (整改逾期升级, then 调减 or 收回) over HTTP: finance checks a monitoring
report and orders a reduction and a rectification; the scheduler marks the rectification overdue, then escalates it;
finance decides; the read models and the project's status show it all. Refusals are problem+json with a stable type,
and the lists are scoped to who reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.world import build, expect

pytestmark = pytest.mark.db


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:jixiao:problem:{code}"


def test_spot_check_escalation_and_decision(service: Service) -> None:
    world = build(service)
    pid = world.implementing
    expect(
        service.post(
            "education",
            f"/projects/{pid}/monitoring-reports",
            {"month": 7, "executed": "400000.00", "effective_on": "2021-08-10"},
        ),
        201,
    )
    base = f"/projects/{pid}/spot-checks"
    body = {
        "subject": "monitoring",
        "month": 7,
        "findings": ["执行数与国库支付数据不符"],
        "corrective_action": "reduce_budget",
        "amount": "100000.00",
        "rectification_deadline": "2021-10-29",
        "reason": "核查发现执行数虚报",
        "evidence": ["ab" * 32],
        "effective_on": "2021-09-10",
    }
    problem(service.post("education", base, body), 403, "role-not-allowed")
    problem(service.post("finance", base, {**body, "month": 3}), 404, "spot-check-subject-not-found")
    problem(service.post("finance", base, {**body, "amount": "900000.00"}), 409, "amount-exceeds-budget")
    problem(service.post("finance", base, {**body, "findings": []}), 422, "validation-failed")
    checked = service.post("finance", base, body)
    written = expect(checked, 201)
    assert checked.headers["location"] == f"/spot-checks?project_id={pid}"
    assert [event["type"] for event in written["events"]] == ["Project.SpotChecked", "Project.RectificationRequired"]
    assert written["events"][0]["references"]["spot_check_no"] == 1

    rows = expect(service.get("finance", "/spot-checks", min_position=written["position"]), 200)
    assert [
        (row["project_code"], row["report_zh"], row["corrective_action"], row["rectification_no"]) for row in rows
    ] == [("JY-01", "绩效运行监控报告", "reduce_budget", 1)]
    assert expect(service.get("education", "/spot-checks"), 200) == rows
    assert expect(service.get("health", "/spot-checks"), 200) == []
    problem(service.get("health", "/spot-checks", organisation="教育局"), 403, "not-own-department")
    problem(service.get("agency", "/spot-checks"), 403, "role-not-allowed")
    status = expect(service.get("finance", f"/projects/{pid}"), 200)
    assert status["approved"] == "900000.00"

    decide = f"/projects/{pid}/rectifications/1/escalation"
    decision = {"decision": "reduce", "amount": "200000.00", "reason": "逾期未整改，调减", "effective_on": "2021-11-20"}
    problem(service.post("finance", decide, decision), 409, "rectification-not-escalated")
    ledger = service.ledger
    assert ledger.sweep("rectifications-overdue", date(2021, 10, 30)).raised == {"Project.RectificationOverdue": 1}
    assert ledger.sweep("rectification-escalation", date(2021, 11, 12)).raised == {}  # 10 working days: 12 November
    report = ledger.sweep("rectification-escalation", date(2021, 11, 13))
    assert report.raised == {"Project.RectificationEscalated": 1}
    assert ledger.sweep("rectification-escalation", date(2021, 11, 20)).raised == {}  # once
    waiting = expect(service.get("auditor", "/escalations", undecided=True, min_position=report.positions[-1]), 200)
    assert [(row["rectification_no"], row["grace_ends"], row["decision"]) for row in waiting] == [
        (1, "2021-11-12", None)
    ]

    problem(service.post("education", decide, decision), 403, "role-not-allowed")
    problem(service.post("finance", decide, {**decision, "reason": ""}), 422, "reason-required")
    problem(service.post("finance", decide, {**decision, "amount": "600000.00"}), 409, "amount-exceeds-budget")
    decided = expect(service.post("finance", decide, decision), 200)
    problem(service.post("finance", decide, decision), 409, "already-decided")
    rows = expect(service.get("finance", "/escalations", min_position=decided["position"]), 200)
    assert [(row["decision"], row["decision_zh"], row["amount"]) for row in rows] == [("reduce", "调减", "200000.00")]
    assert expect(service.get("finance", "/escalations", undecided=True), 200) == []
    status = expect(service.get("finance", f"/projects/{pid}"), 200)
    assert status["approved"] == "700000.00"
    trail = expect(service.get("auditor", "/trail", object=pid, event_type="Project.EscalationDecided"), 200)
    assert [item["event_type_zh"] for item in trail["items"]] == ["整改逾期调减或收回资金"]
    csv = service.get("finance", "/escalations.csv")
    assert csv.status_code == 200
    assert "调减" in csv.text


def test_audit_findings_the_responses_and_who_may_do_what(service: Service) -> None:
    world = build(service)
    body = {
        "subject_kind": "project",
        "subject": world.implementing,
        "reference": "德审报〔2022〕5号",
        "findings": ["供餐记录不完整"],
        "evidence": ["cd" * 32],
        "effective_on": "2022-06-15",
    }
    for who in ("finance", "education", "agency", "admin"):
        problem(service.post(who, "/audit-findings", body), 403, "role-not-allowed")
    problem(service.post("auditor", f"/projects/{world.implementing}/admission", {}), 403, "role-not-allowed")
    problem(
        service.post("auditor", "/audit-findings", {**body, "subject": world.implementing[:-1] + "0"}),
        404,
        "audit-finding-subject-not-found",
    )
    problem(
        service.post("auditor", "/audit-findings", {**body, "subject": "not a uuid"}),
        404,
        "audit-finding-subject-not-found",
    )
    problem(
        service.post("auditor", "/audit-findings", {**body, "subject_kind": "agency", "subject": "无此机构"}),
        404,
        "audit-finding-subject-not-found",
    )
    on_project = service.post("auditor", "/audit-findings", body)
    project_finding = expect(on_project, 201)["id"]
    assert on_project.headers["location"] == f"/objects/{project_finding}/history"
    problem(service.post("auditor", "/audit-findings", body), 409, "already-exists")
    on_agency = expect(
        service.post(
            "auditor",
            "/audit-findings",
            {**body, "subject_kind": "agency", "subject": "某咨询评估有限公司", "findings": ["评价底稿不完整"]},
        ),
        201,
    )
    on_department = expect(
        service.post("auditor", "/audit-findings", {**body, "subject_kind": "department", "subject": "卫生健康委员会"}),
        201,
    )
    rows = expect(service.get("finance", "/audit-findings", min_position=on_department["position"]), 200)
    assert [(row["subject_kind_zh"], row["responder"], row["response_due"]) for row in rows] == [
        ("项目", "教育局", "2022-07-15"),
        ("第三方机构", "某咨询评估有限公司", "2022-07-15"),
        ("部门（预算单位）", "卫生健康委员会", "2022-07-15"),
    ]
    assert all(row["overdue"] for row in rows)  # today is long after
    assert [row["subject"] for row in expect(service.get("education", "/audit-findings"), 200)] == ["JY-01"]
    assert [row["subject"] for row in expect(service.get("agency", "/audit-findings"), 200)] == ["某咨询评估有限公司"]
    problem(service.get("education", "/audit-findings", organisation="卫生健康委员会"), 403, "not-own-department")

    respond = {"response": "已补齐供餐记录", "effective_on": "2022-07-01"}
    problem(service.post("health", f"/audit-findings/{project_finding}/response", respond), 403, "not-own-department")
    problem(service.post("agency", f"/audit-findings/{project_finding}/response", respond), 403, "role-not-allowed")
    problem(service.post("auditor", f"/audit-findings/{project_finding}/response", respond), 403, "role-not-allowed")
    problem(service.post("education", f"/audit-findings/{on_agency['id']}/response", respond), 403, "role-not-allowed")
    problem(
        service.post("education", f"/audit-findings/{project_finding}/response", {**respond, "response": ""}),
        422,
        "reason-required",
    )
    answered = expect(service.post("education", f"/audit-findings/{project_finding}/response", respond), 200)
    problem(service.post("education", f"/audit-findings/{project_finding}/response", respond), 409, "already-decided")
    expect(service.post("agency", f"/audit-findings/{on_agency['id']}/response", respond), 200)
    rows = expect(service.get("auditor", "/audit-findings", min_position=answered["position"] + 1), 200)
    assert [(row["responded_on"], row["overdue"]) for row in rows] == [
        ("2022-07-01", False),
        ("2022-07-01", False),
        (None, True),
    ]
    report = service.ledger.sweep("audit-finding-deadlines", date(2022, 7, 16))
    assert report.raised == {"AuditFinding.DeadlineMissed": 1}  # the department's, unanswered
    trail = expect(service.get("auditor", "/trail", object=project_finding), 200)
    assert [item["event_type_zh"] for item in trail["items"]] == ["审计发现", "审计发现回复"]
    assert trail["items"][0]["principal_role"] == "auditor"
    feed = expect(service.get("auditor", "/events", topics="AuditFinding.Recorded"), 200)
    assert len(feed["events"]) == 3
    own = expect(service.get("health", "/trail"), 200)["items"]
    assert "审计发现" in [item["event_type_zh"] for item in own]  # the finding it owes is in its own trail


def test_typed_evidence_and_the_documents_of_an_object(service: Service) -> None:
    world = build(service)
    report = {"digest": "EF" * 32, "type": "audit_report", "name": "德审报〔2022〕5号.pdf"}
    body = {
        "subject_kind": "project",
        "subject": world.implementing,
        "reference": "德审报〔2022〕5号",
        "findings": ["供餐记录不完整"],
        "evidence": ["cd" * 32, report],
        "effective_on": "2022-06-15",
    }
    problem(
        service.post("auditor", "/audit-findings", {**body, "evidence": [{**report, "type": "poem"}]}),
        422,
        "validation-failed",
    )
    problem(
        service.post("auditor", "/audit-findings", {**body, "evidence": [{**report, "size": 1}]}),
        422,
        "validation-failed",
    )
    written = expect(service.post("auditor", "/audit-findings", body), 201)
    rows = expect(
        service.get("finance", "/documents", object=world.implementing, min_position=written["position"]), 200
    )
    rows = [row for row in rows if row["event_type"] == "AuditFinding.Recorded"]  # not the world's own reviews
    assert [(row["digest"], row["document_type"], row["document_type_zh"], row["name"]) for row in rows] == [
        ("cd" * 32, None, None, None),
        ("ef" * 32, "audit_report", "审计报告", "德审报〔2022〕5号.pdf"),
    ]
    under_finding = expect(service.get("auditor", "/documents", object=written["id"], type="audit_report"), 200)
    assert [row["object_type"] for row in under_finding] == ["AuditFinding"]
    own = expect(service.get("education", "/documents", digest="EF" * 32), 200)
    assert {row["event_type"] for row in own} == {"AuditFinding.Recorded"}
    assert {row["object_id"] for row in own} == {world.implementing, written["id"]}  # its project, the finding it owes
    assert expect(service.get("health", "/documents", digest="ef" * 32), 200) == []
    history = expect(service.get("auditor", f"/objects/{written['id']}/history"), 200)
    assert history[0]["payload"]["documents"] == [{**report, "digest": "ef" * 32}]


def test_a_step_that_names_a_report_refuses_without_one(service: Service) -> None:
    world = build(service)
    path = f"/projects/{world.implementing}/self-evaluation"
    body = {
        "actuals": {"I1": 5000, "I2": 200, "I3": 93, "I4": 95},
        "executed": "900000.00",
        "effective_on": "2022-02-25",
    }
    head = service.ledger.head()
    for evidence in ([], ["aa" * 32], [{"digest": "aa" * 32, "type": "evaluation_report"}]):
        problem(service.post("education", path, {**body, "evidence": evidence}), 422, "report-required")
    assert service.ledger.head() == head  # refused, nothing recorded
    typed = {"digest": "aa" * 32, "type": "self_evaluation_report", "name": "2021年度绩效自评报告.pdf"}
    written = expect(service.post("education", path, {**body, "evidence": ["bb" * 32, typed]}), 200)
    rows = expect(
        service.get(
            "finance",
            "/documents",
            object=world.implementing,
            type="self_evaluation_report",
            min_position=written["position"],
        ),
        200,
    )
    assert [(row["event_type"], row["name"]) for row in rows] == [("Project.SelfEvaluated", "2021年度绩效自评报告.pdf")]
    # where no report is named, the plain digest stays accepted
    expect(
        service.post(
            "finance",
            f"/projects/{world.implementing}/rectifications",
            {
                "issues": ["台账不全"],
                "source": "audit",
                "deadline": "2022-09-30",
                "evidence": ["cc" * 32],
                "effective_on": "2022-06-30",
            },
        ),
        201,
    )
