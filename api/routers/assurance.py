"""Assurance (监督): finance's spot checks (不定期核查) of departments' monitoring reports and self-evaluations, and
its 调减 or 收回 on rectifications the scheduler escalated as overdue (整改逾期升级)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from api.auth import require
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.assurance import EscalationDecisionCreate, EscalationRow, SpotCheckCreate, SpotCheckRow
from api.schemas.common import CommandResult
from ledger.domain.errors import Forbidden
from ledger.domain.values import Principal, Role, key
from projections import escalations as escalation_rows
from projections import spot_checks as spot_check_rows

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
@downloadable("spot_checks", "不定期核查")
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
@downloadable("escalations", "整改逾期升级")
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
