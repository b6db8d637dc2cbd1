"""Assurance (监督): finance's spot checks (不定期核查), the escalation of overdue rectifications (调减 or 收回), and
auditors' findings (审计发现): commands and rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from api.labels import Coded, Labelled
from api.schemas.common import EVIDENCE_EXAMPLE, CommandBody, LongText, Money, Month, with_examples


class SpotCheckCreate(CommandBody):
    model_config = with_examples(
        {
            "subject": "monitoring",
            "month": 7,
            "findings": ["监控报告所列支付进度与国库集中支付数据不符"],
            "corrective_action": "reduce_budget",
            "amount": "200000.00",
            "rectification_deadline": "2021-10-31",
            "reason": "核查发现执行数虚报，调减预算并责令整改",
            "evidence": [EVIDENCE_EXAMPLE],
            "effective_on": "2021-09-10",
        }
    )

    subject: Literal["monitoring", "self_evaluation"] = Field(
        description="What is checked: the monitoring report (of ``month``) or the self-evaluation"
    )
    month: Month | None = Field(default=None, description="The monitoring report's month (monitoring only)")
    findings: list[LongText] = Field(min_length=1, max_length=100, description="核查发现, at least one")
    corrective_action: Literal["continue", "reallocate", "suspend_funding", "cancel", "reduce_budget"] | None = Field(
        default=None, description="A corrective action a finding orders (while implemented; with a reason)"
    )
    amount: Money | None = Field(default=None, description="Only with reduce_budget")
    rectification_deadline: date | None = Field(
        default=None, description="Require the findings' rectification (source spot_check) by this day"
    )


class EscalationDecisionCreate(CommandBody):
    model_config = with_examples(
        {
            "decision": "reduce",
            "amount": "300000.00",
            "reason": "整改逾期未完成，调减预算",
            "effective_on": "2022-06-20",
        }
    )

    decision: Literal["reduce", "recover"] = Field(
        description="调减 reduce (the unspent budget) or 收回 recover (funds taken back, spent or not)"
    )
    amount: Money


class ProjectNamed(Labelled):
    project_id: UUID
    project_code: str
    project_name: str
    department: str
    unit: str | None
    fiscal_year: int


class SpotCheckRow(ProjectNamed):
    spot_check_no: int
    report: Annotated[str, Coded("spot_check_subject")] = Field(description="What was checked")
    month: int | None
    findings: list[str]
    corrective_action: Annotated[str | None, Coded("corrective_decision")]
    amount: Decimal | None
    rectification_no: int | None
    checked_on: date
    principal_id: str
    reason: str
    evidence: list[str]
    position: int


class EscalationRow(ProjectNamed):
    rectification_no: int
    escalated_on: date
    grace_working_days: int
    grace_ends: date
    ruleset_version: int
    decision: Annotated[str | None, Coded("escalation_decision")] = Field(description="NULL: awaiting finance")
    amount: Decimal | None
    decided_on: date | None
    decided_by: str | None
    decision_reason: str | None
    position: int


class AuditFindingCreate(CommandBody):
    model_config = with_examples(
        {
            "subject_kind": "department",
            "subject": "农业农村和科技局",
            "reference": "德审报〔2022〕5号",
            "findings": ["高标准农田建设项目部分资金未按进度拨付"],
            "evidence": [EVIDENCE_EXAMPLE],
            "effective_on": "2022-06-15",
        }
    )

    subject_kind: Literal["project", "department", "agency"] = Field(
        description="What the finding is about: a project, a department or budget unit, a third-party agency"
    )
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The project's id, or the organisation's or agency's name (any spelling)"
    )
    reference: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The audit's document (审计报告文号): one finding per object and reference"
    )
    findings: list[LongText] = Field(min_length=1, max_length=100)


class AuditFindingResponse(CommandBody):
    model_config = with_examples(
        {"response": "已按审计意见完成资金拨付并建立台账", "evidence": [EVIDENCE_EXAMPLE], "effective_on": "2022-07-01"}
    )

    response: LongText


class AuditFindingRow(Labelled):
    finding_id: UUID
    subject_kind: Annotated[str, Coded("finding_subject")]
    subject: str = Field(description="The project's code, the organisation's or agency's name")
    subject_id: UUID
    responder_kind: Annotated[str, Coded("responder")]
    responder: str = Field(description="Who owes the response, as registered")
    department: str | None
    reference: str
    findings: list[str]
    found_on: date
    found_by: str
    found_at: int = Field(description="The finding's position in the log")
    response_due: date
    responded_on: date | None
    responded_by: str | None
    response: str | None
    approaching_on: date | None
    missed_on: date | None
    overdue: bool = Field(description="Owed and past due today")
    position: int


class DocumentRow(Labelled):
    object_id: UUID = Field(description="The object the document is filed under")
    object_type: Annotated[str, Coded("object_type")]
    leaf_index: int = Field(description="The event citing it")
    digest: str
    document_type: Annotated[str | None, Coded("document_type")] = Field(description="NULL: an untyped digest")
    name: str | None
    event_type: Annotated[str, Coded("event_type")]
    event_object_id: UUID = Field(description="The object the event was recorded on")
    effective_on: date | None
    recorded_at: datetime
    principal_id: str | None
