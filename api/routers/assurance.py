"""Assurance (监督): finance's spot checks (不定期核查) of departments' monitoring reports and self-evaluations, its
调减 or 收回 on rectifications the scheduler escalated as overdue (整改逾期升级), and auditors' findings (审计发现)
with the responses they require; and the documents cited as evidence (佐证文书) by object."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from api.auth import require
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.assurance import (
    AuditFindingCreate,
    AuditFindingResponse,
    AuditFindingRow,
    DocumentRow,
    EscalationDecisionCreate,
    EscalationRow,
    SpotCheckCreate,
    SpotCheckRow,
)
from api.schemas.common import CommandResult
from ledger.domain.errors import Forbidden
from ledger.domain.values import Principal, Role, key
from projections import audit_findings as audit_finding_rows
from projections import documents as document_rows
from projections import escalations as escalation_rows
from projections import spot_checks as spot_check_rows
from projections.project_status import department_objects

router = APIRouter(tags=["assurance"], route_class=LedgerRoute)

AssuranceReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT))]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]
Organisation = Annotated[
    str | None, Query(max_length=200, description="Of this department's projects (its units' too) or this unit's")
]
FiscalYear = Annotated[int | None, Query(ge=2000, le=2100)]


@command(router, "/projects/{project_id}/spot-checks", created=True)
async def record_spot_check(project_id: UUID, body: SpotCheckCreate, ctx: CommandDep) -> CommandResult:
    """不定期核查 by finance of the department's monitoring report (of ``month``) or its self-evaluation, with the
    findings; a finding may order a corrective action (as for a deviation: while the project is implemented, with a
    reason; it answers no deviation) and the findings' rectification by ``rectification_deadline``."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.record_spot_check(
            act,
            project_id,
            body.subject,
            list(body.findings),
            month=body.month,
            corrective_action=body.corrective_action,
            amount=body.amount,
            rectification_deadline=body.rectification_deadline,
        ),
        location=lambda w: f"/spot-checks?project_id={project_id}",
    )


@command(router, "/projects/{project_id}/rectifications/{rectification_no}/escalation")
async def decide_escalation(
    project_id: UUID, rectification_no: Number, body: EscalationDecisionCreate, ctx: CommandDep
) -> CommandResult:
    """调减 or 收回 by finance, with its reason, once, on a rectification the scheduler escalated as overdue: reduce
    lowers the approved budget (never below what is executed), recover takes funds back, spent or not."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.decide_escalation(act, project_id, rectification_no, body.decision, body.amount),
    )


def _scope(principal: Principal, organisation: str | None) -> str | None:
    """A department's staff read their own organisation's rows only."""
    if principal.role != Role.DEPARTMENT:
        return organisation
    own = principal.organisation
    if organisation is not None and key(organisation) != key(own):
        raise Forbidden(f"{own} reads only its own", code="not-own-department")
    return own


@router.get("/spot-checks", responses=QUERY_PROBLEMS)
@downloadable("spot_checks", "不定期核查", "Spot checks")
def list_spot_checks(
    conn: ReadConn,
    principal: AssuranceReader,
    organisation: Organisation = None,
    fiscal_year: FiscalYear = None,
    project_id: Annotated[UUID | None, Query()] = None,
) -> list[SpotCheckRow]:
    """Finance's spot checks and their findings. Finance and auditors read every one; a department its own and its
    units', a unit its own."""
    rows = spot_check_rows.spot_checks(
        conn, organisation=_scope(principal, organisation), fiscal_year=fiscal_year, project_id=project_id
    )
    return [SpotCheckRow.model_validate(row) for row in rows]


@router.get("/escalations", responses=QUERY_PROBLEMS)
@downloadable("escalations", "整改逾期升级", "Escalated rectifications")
def list_escalations(
    conn: ReadConn,
    principal: AssuranceReader,
    organisation: Organisation = None,
    fiscal_year: FiscalYear = None,
    undecided: Annotated[bool, Query(description="Only those awaiting finance's 调减 or 收回")] = False,
) -> list[EscalationRow]:
    """Rectifications escalated as overdue and finance's 调减 or 收回 on each. Finance and auditors read every one; a
    department its own and its units', a unit its own."""
    rows = escalation_rows.escalations(
        conn, organisation=_scope(principal, organisation), fiscal_year=fiscal_year, undecided=undecided
    )
    return [EscalationRow.model_validate(row) for row in rows]


# ------------------------------------------------------------------------------------------------ audit findings

FindingReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT, Role.AGENCY))]


@command(router, "/audit-findings", created=True)
async def record_audit_finding(body: AuditFindingCreate, ctx: CommandDep) -> CommandResult:
    """审计发现 by an auditor — the auditor role's one write — about a project (by id), a department or budget unit, or
    an agency (by name), citing the audit's document; the party concerned responds within the ruleset's
    ``audit_finding_response_days``."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.record_audit_finding(
            act, body.subject_kind, body.subject, body.reference, list(body.findings)
        ),
        location=lambda w: f"/objects/{w.aggregate_id}/history",
    )


@command(router, "/audit-findings/{finding_id}/response")
async def respond_to_audit_finding(finding_id: UUID, body: AuditFindingResponse, ctx: CommandDep) -> CommandResult:
    """The party's response, once: the project's department (or unit), the department or unit found about (a
    department's staff for its units too), or the agency."""
    return await run(ctx, body, lambda act: ctx.ledger.respond_to_audit_finding(act, finding_id, body.response))


@router.get("/audit-findings", responses=QUERY_PROBLEMS)
@downloadable("audit_findings", "审计发现", "Audit findings")
def list_audit_findings(
    conn: ReadConn,
    principal: FindingReader,
    ledger: LedgerDep,
    organisation: Organisation = None,
    subject_id: Annotated[UUID | None, Query(description="About this project, organisation or agency")] = None,
) -> list[AuditFindingRow]:
    """Audit findings and their responses. Finance and auditors read every one; a department those it owes (its
    units' too), a unit its own, an agency its own."""
    agency = principal.organisation if principal.role == Role.AGENCY else None
    rows = audit_finding_rows.audit_findings(
        conn,
        organisation=None if agency is not None else _scope(principal, organisation),
        agency=agency,
        subject_id=subject_id,
        today=ledger.today(),
    )
    return [AuditFindingRow.model_validate(row) for row in rows]


# ------------------------------------------------------------------------------------------------ documents

DocumentType = Literal[
    "ex_ante_report",
    "self_evaluation_report",
    "monitoring_report",
    "evaluation_plan",
    "evaluation_report",
    "supervision_opinion",
    "rectification_report",
    "audit_report",
    "other",
]


@router.get("/documents", responses=QUERY_PROBLEMS)
@downloadable("documents", "佐证文书", "Documents")
def list_documents(
    conn: ReadConn,
    principal: AssuranceReader,
    object_id: Annotated[UUID | None, Query(alias="object", description="Filed under this object")] = None,
    document_type: Annotated[DocumentType | None, Query(alias="type")] = None,
    digest: Annotated[str | None, Query(pattern="^[0-9a-fA-F]{64}$")] = None,
) -> list[DocumentRow]:
    """The documents cited as evidence (佐证文书), per object, with their type, digest, event and date. Finance and
    auditors read every one; a department those of its own objects (its projects, its units', decisions and findings
    about it)."""
    rows = document_rows.documents(conn, object_id=object_id, document_type=document_type, digest=digest)
    if principal.role == Role.DEPARTMENT:
        own = set(department_objects(conn, principal.organisation))
        rows = [row for row in rows if row["object_id"] in own]
    return [DocumentRow.model_validate(row) for row in rows]
