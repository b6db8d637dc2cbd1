"""Finance's decisions on departments and budget units — 通报 (praise or criticism), 表彰, 约谈 — and the
rectification a criticism or an interview opens: recorded by finance, reported by the organisation, accepted or
rejected by finance."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.auth import require
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.common import CommandResult
from api.schemas.decisions import DecisionCreate, DecisionRectificationDecision, DecisionReport, DecisionRow
from ledger.domain.errors import Forbidden
from ledger.domain.values import Principal, Role, key
from projections import decisions

router = APIRouter(prefix="/decisions", tags=["decisions"], route_class=LedgerRoute)

DecisionReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT))]


@command(router, "", created=True)
async def record_decision(body: DecisionCreate, ctx: CommandDep) -> CommandResult:
    """通报表扬 / 通报批评 / 表彰 / 约谈 by finance, with its reason and evidence, citing what it rests on: the fiscal
    year's ranking (the department was assessed that year) or an evaluated project of the organisation. A criticism or
    an interview opens a rectification due in the ruleset's ``decision_rectification_days``."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.record_decision(
            act, body.kind, body.organisation, body.basis, body.fiscal_year, body.project_id
        ),
        location=lambda w: f"/objects/{w.aggregate_id}/history",
    )


@command(router, "/{decision_id}/rectification/report")
async def report_decision_rectification(decision_id: UUID, body: DecisionReport, ctx: CommandDep) -> CommandResult:
    """整改情况报告 by the organisation (a department's staff for it and its units, a unit's for the unit)."""
    return await run(ctx, body, lambda act: ctx.ledger.report_decision_rectification(act, decision_id, body.measures))


@command(router, "/{decision_id}/rectification/decision")
async def decide_decision_rectification(
    decision_id: UUID, body: DecisionRectificationDecision, ctx: CommandDep
) -> CommandResult:
    """整改验收 by finance: accepted, or rejected with the reason (the report is owed again, by the same date)."""
    return await run(ctx, body, lambda act: ctx.ledger.decide_decision_rectification(act, decision_id, body.accept))


@router.get("", responses=QUERY_PROBLEMS)
@downloadable("decisions", "通报表彰约谈", "Notices, commendations and interviews")
def list_decisions(
    conn: ReadConn,
    principal: DecisionReader,
    ledger: LedgerDep,
    organisation: Annotated[
        str | None, Query(max_length=200, description="About this department (its units' too) or unit")
    ] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Annotated[str | None, Query(pattern="^(praise|criticism|commendation|interview)$")] = None,
) -> list[DecisionRow]:
    """通报、表彰、约谈 and their follow-up. Finance and auditors read every one; a department its own and its units',
    a unit its own."""
    if principal.role == Role.DEPARTMENT:
        own = principal.organisation
        if organisation is not None and key(organisation) != key(own):
            raise Forbidden(f"{own} reads only its own decisions", code="not-own-department")
        organisation = own
    rows = decisions.decisions(
        conn, organisation=organisation, fiscal_year=fiscal_year, kind=kind, today=ledger.today()
    )
    return [DecisionRow.model_validate(row) for row in rows]
