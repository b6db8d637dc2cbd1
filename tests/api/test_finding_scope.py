"""Who sees an audit finding (审计发现) in the accountability trail and the event feed: the agency it is about sees its
recording, its deadline notices and its response (the feed, as an agency reads it, without the staff ids), and nothing
of a finding about another agency; a department the findings about it and its projects; finance and the auditors
everything."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.world import build, expect

pytestmark = pytest.mark.db

KINDS = ["AuditFinding.Recorded", "AuditFinding.DeadlineMissed", "AuditFinding.Responded"]


def record(service: Service, kind: str, subject: str, reference: str) -> str:
    body = {
        "subject_kind": kind,
        "subject": subject,
        "reference": reference,
        "findings": ["评价底稿不完整"],
        "evidence": ["cd" * 32],
        "effective_on": "2022-06-15",
    }
    found: str = expect(service.post("auditor", "/audit-findings", body), 201)["id"]
    return found


def trail_of(service: Service, who: str, **params: Any) -> list[dict[str, Any]]:
    page = expect(service.get(who, "/trail", min_position=service.ledger.head() - 1, limit=1000, **params), 200)
    items: list[dict[str, Any]] = page["items"]
    return items


def findings_in_feed(service: Service, who: str) -> list[dict[str, Any]]:
    # the read models' position first: whose findings they are is read there
    head = service.ledger.head() - 1
    page = expect(service.get(who, "/events", topics="AuditFinding.*", limit=1000, min_position=head), 200)
    events: list[dict[str, Any]] = page["events"]
    return events


def test_the_agency_a_finding_is_about_sees_it_in_its_trail_and_feed_and_no_other_agency_does(
    service: Service,
) -> None:
    world = build(service)
    service.tokens["other"], _ = service.app.state.tokens.issue("ag-li", "agency", "另一评估公司", created_by="test")
    own = record(service, "agency", "某咨询评估有限公司", "德审报〔2022〕7号")
    other = record(service, "agency", "另一评估公司", "德审报〔2022〕8号")
    on_project = record(service, "project", world.implementing, "德审报〔2022〕9号")
    service.ledger.sweep("audit-finding-deadlines", date(2022, 7, 16))  # each is missed
    respond = {"response": "已补齐评价底稿", "effective_on": "2022-07-20"}
    expect(service.post("agency", f"/audit-findings/{own}/response", respond), 200)
    findings = {own, other, on_project}

    trail = trail_of(service, "agency")
    assert [item["event_type"] for item in trail if item["object_id"] == own] == KINDS
    assert {item["object_id"] for item in trail} & findings == {own}
    assert [item["principal_role"] for item in trail if item["object_id"] == own] == ["auditor", "system", "agency"]
    assert {item["organisation"] for item in trail if item["object_id"] != own} <= {"某咨询评估有限公司"}
    # naming itself, it still reads what it did (and only that); another agency's name is refused
    assert {item["organisation"] for item in trail_of(service, "agency", organisation="某咨询评估有限公司")} == {
        "某咨询评估有限公司"
    }
    assert service.get("agency", "/trail", organisation="另一评估公司").status_code == 403
    assert trail_of(service, "agency", object=other) == []
    theirs = trail_of(service, "other")
    assert {item["object_id"] for item in theirs} & findings == {other}
    assert [item["event_type"] for item in theirs if item["object_id"] == other] == KINDS[:2]

    feed = findings_in_feed(service, "agency")
    assert [(event["aggregate_id"], event["type"]) for event in feed] == [(own, kind) for kind in KINDS]
    assert all(event["principal"]["id"] is None for event in feed)  # as the public reads events: no staff id
    assert all("id" not in json.dumps(event["payload"]["principal"]["_data_"]) for event in feed)
    assert [event["aggregate_id"] for event in findings_in_feed(service, "other")] == [other, other]
    assert service.get("agency", "/events", with_state="true").status_code == 403
    public = {event["type"] for event in expect(service.get("agency", "/events", limit=1000), 200)["events"]}
    assert "AuditFinding.Recorded" in public
    assert not public & {"Project.Declared", "Agency.Registered"}
    assert findings_in_feed(service, "health") == []  # a department: none of these is about it

    for who in ("finance", "auditor"):
        assert {event["aggregate_id"] for event in findings_in_feed(service, who)} == findings
        assert {item["object_id"] for item in trail_of(service, who)} >= findings
    education = {event["aggregate_id"] for event in findings_in_feed(service, "education")}
    assert education == {on_project}  # the finding about its project, none about an agency
    assert {item["object_id"] for item in trail_of(service, "education")} & findings == {on_project}


def test_a_department_sees_the_findings_about_itself_and_its_units(service: Service) -> None:
    build(service)
    about_health = record(service, "department", "卫生健康委员会", "德审报〔2022〕10号")
    about_agency = record(service, "agency", "某咨询评估有限公司", "德审报〔2022〕11号")
    assert {event["aggregate_id"] for event in findings_in_feed(service, "health")} == {about_health}
    assert {item["object_id"] for item in trail_of(service, "health")} & {about_health, about_agency} == {about_health}
    assert findings_in_feed(service, "education") == []
