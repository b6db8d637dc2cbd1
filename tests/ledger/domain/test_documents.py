"""Typed documents (文书类型): evidence is a digest each, or a document typed from the catalogue; the typed ones are
kept on the event that cites them (``documents``), stored only when there are any, so an event citing none — every
event recorded before — reads and replays exactly as before."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from ledger.application.acts import Act
from ledger.domain.decisions import Decision
from ledger.domain.errors import DomainError
from ledger.domain.project import Project
from ledger.domain.reports import REQUIRED_REPORTS, require_report
from ledger.domain.rules import DEFAULT_PARAMETERS
from ledger.domain.values import SYSTEM, Document, DocumentType, Principal, documents
from ledger.store.transcodings import ledger_mapper

FINANCE = Principal("fin-01", "finance", "市财政局")
A, B = "ab" * 32, "cd" * 32


def test_evidence_takes_digests_and_typed_documents() -> None:
    digests, typed = documents([A, {"digest": B.upper(), "type": "audit_report", "name": "审计报告.pdf"}])
    assert digests == [A, B]
    assert typed == [Document(B, "audit_report", "审计报告.pdf")]
    assert documents([Document(A, "other")]) == ([A], [Document(A, "other", None)])
    assert documents([{"digest": A, "type": "other"}, {"digest": A, "type": "audit_report"}])[1] == [
        Document(A, "other")
    ]  # a digest given twice keeps its first type


@pytest.mark.parametrize(
    "item",
    [
        {"digest": A, "type": "poem"},
        {"digest": "xyz", "type": "other"},
        {"digest": A, "type": "other", "size": 3},
        {"digest": A, "type": "other", "name": "a\x00b"},
        {"type": "other"},
        3,
    ],
)
def test_a_malformed_document_is_refused(item: object) -> None:
    with pytest.raises(DomainError) as excinfo:
        documents([item])
    assert excinfo.value.code in {"invalid-evidence", "invalid-value"}


def test_the_attribution_cites_a_type() -> None:
    by = Act(FINANCE, date(2022, 6, 1), "", [A, {"digest": B, "type": "rectification_report"}]).by
    assert by.evidence == (A, B)
    assert by.cites(DocumentType.RECTIFICATION_REPORT)
    assert not by.cites(DocumentType.AUDIT_REPORT)


def _decision(evidence: list[object]) -> Decision:
    return Decision.record_decision(
        kind="interview",
        subject_kind="department",
        subject="教育局",
        subject_id=uuid4(),
        department="教育局",
        basis="ranking",
        fiscal_year=2021,
        project_id=None,
        subject_since=None,
        params=DEFAULT_PARAMETERS,
        ruleset_version=1,
        by=Act(FINANCE, date(2022, 6, 1), "约谈", evidence).by,  # type: ignore[arg-type]
    )


def test_typed_documents_are_stored_on_the_event_and_replayed() -> None:
    mapper = ledger_mapper()
    decision = _decision([A, {"digest": B, "type": "other", "name": "约谈记录"}])
    decision.report_rectification(
        "已整改", Act(FINANCE, date(2022, 6, 2), "", [{"digest": A, "type": "rectification_report"}]).by
    )
    stored = [mapper.to_stored_event(event) for event in decision.collect_events()]
    replayed: list[Any] = [mapper.to_domain_event(item) for item in stored]
    assert [event.documents for event in replayed] == [
        [{"digest": B, "type": "other", "name": "约谈记录"}],
        [{"digest": A, "type": "rectification_report", "name": None}],
    ]
    assert replayed[0].evidence == [A, B]


def test_an_event_citing_no_typed_document_is_stored_as_before() -> None:
    mapper = ledger_mapper()
    (event,) = _decision([A]).collect_events()
    stored = mapper.to_stored_event(event)
    assert b"documents" not in stored.state
    replayed: Any = mapper.to_domain_event(stored)
    assert replayed.documents == []  # read as none, as an event recorded before reads


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("ExAnteAssessed", "ex_ante_report"),
        ("SelfEvaluated", "self_evaluation_report"),
        ("KeyEvaluationPlanReviewed", "evaluation_plan"),
        ("KeyEvaluationReportReviewed", "evaluation_report"),
        ("RectificationReported", "rectification_report"),
    ],
)
def test_a_step_naming_a_report_needs_one_of_its_type(event_type: str, kind: str) -> None:
    cls = getattr(Project, event_type)
    assert REQUIRED_REPORTS[cls.__qualname__].value == kind
    event: Any = object.__new__(cls)
    object.__setattr__(event, "principal", FINANCE)
    with pytest.raises(DomainError) as excinfo:
        require_report(event)  # no documents at all
    assert (excinfo.value.code, excinfo.value.field) == ("report-required", "evidence")
    object.__setattr__(event, "documents", [{"digest": A, "type": "other", "name": None}])
    with pytest.raises(DomainError):
        require_report(event)  # a document of another type
    object.__setattr__(event, "documents", [{"digest": A, "type": kind, "name": None}])
    require_report(event)


def test_the_scheduler_and_other_steps_need_no_report() -> None:
    event: Any = object.__new__(Project.SelfEvaluated)
    object.__setattr__(event, "principal", SYSTEM)
    require_report(event)
    other: Any = object.__new__(Project.MonitoringReported)
    object.__setattr__(other, "principal", FINANCE)
    require_report(other)
