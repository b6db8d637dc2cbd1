"""Finance's submissions to the people's congress (报送人大): a year's goals with the budget draft, its results with
the final accounts — one event listing what was submitted."""

from __future__ import annotations

from fastapi import APIRouter

from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.schemas.common import CommandResult
from api.schemas.congress import CongressSubmissionCreate

router = APIRouter(prefix="/congress-submissions", tags=["disclosure"], route_class=LedgerRoute)


@command(router, "", created=True)
async def submit_to_congress(body: CongressSubmissionCreate, ctx: CommandDep) -> CommandResult:
    """绩效目标随预算草案 / 评价结果随决算草案报送人大 by finance: one event listing the projects, each of the year with
    approved goals (409 ``goals-not-approved``) or results (409 ``no-results``); one of each kind a year (409
    ``already-exists``); after the ruleset's ``congress_goals_due`` / ``congress_results_due`` it is recorded late."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.submit_to_congress(act, body.fiscal_year, body.what, list(body.project_ids)),
        location=lambda w: f"/objects/{w.aggregate_id}/history",
    )
