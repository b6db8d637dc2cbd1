"""The department's ex-ante assessment (事前绩效评估) of a project: commissioned, filed, reviewed by finance (审核).
Finance's own assessment stays in :mod:`api.routers.projects` (``/projects/{project_id}/ex-ante-assessment``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.schemas.common import CommandResult
from api.schemas.ex_ante import ExAnteAgencyCommission, ExAnteReportFiling
from api.schemas.projects import Review

router = APIRouter(prefix="/projects", tags=["projects"], route_class=LedgerRoute)

Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]


def _at(project: UUID) -> str:
    return f"/projects/{project}"


@command(router, "/{project_id}/ex-ante-agency")
async def commission_ex_ante_agency(project_id: UUID, body: ExAnteAgencyCommission, ctx: CommandDep) -> CommandResult:
    """委托第三方机构: the project's department names the agency for its ex-ante assessment (not blacklisted, 回避)."""
    return await run(ctx, body, lambda act: ctx.ledger.commission_ex_ante_agency(act, project_id, body.agency))


@command(router, "/{project_id}/ex-ante-reports", created=True)
async def file_ex_ante(project_id: UUID, body: ExAnteReportFiling, ctx: CommandDep) -> CommandResult:
    """出具绩效评估报告: the department (or its commissioned agency) files its ex-ante assessment for review."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.file_ex_ante(
            act,
            project_id,
            scores=body.scores,
            opinions=body.opinions,
            opinion=body.opinion,
            funding_sources=body.funding_sources,
            annual_investment=body.annual_investment,
            affordability=body.affordability,
            conclusion=None if body.conclusion is None else body.conclusion.value,
        ),
        location=lambda w: f"{_at(project_id)}/ex-ante-reports/{w.events[-1].references['filing_no']}",
    )


@command(router, "/{project_id}/ex-ante-reports/{filing_no}/review")
async def review_ex_ante(project_id: UUID, filing_no: Number, body: Review, ctx: CommandDep) -> CommandResult:
    """财政部门审核: finance approves the filed ex-ante report (its conclusion stands) or returns it with reasons."""
    return await run(ctx, body, lambda act: ctx.ledger.review_ex_ante(act, project_id, filing_no, body.approved))
