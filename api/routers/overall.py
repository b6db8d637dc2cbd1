"""Overall goals (整体绩效目标) of a department or a budget unit for a fiscal year: submitted by the organisation,
reviewed by finance, adjusted on finance's decision (:mod:`ledger.domain.overall`). The record is read as any object
is (``/objects/{id}``; its id is in each command's answer)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.schemas.common import CommandResult
from api.schemas.overall import OverallGoalsAdjustment, OverallGoalsReview, OverallGoalsSubmit
from api.schemas.projects import Decision
from ledger.application import Ledger
from ledger.domain.errors import NotFound
from ledger.domain.organisations import Department, Unit

router = APIRouter(prefix="/overall-goals", tags=["departments"], route_class=LedgerRoute)

FiscalYear = Annotated[int, Path(ge=2000, le=2100, description="The fiscal year the goals are for")]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]


def _organisation(ledger: Ledger, organisation_id: UUID) -> str:
    """The name of the department or budget unit registered under ``organisation_id``."""
    organisation = ledger.object(organisation_id)
    if not isinstance(organisation, Department | Unit):
        raise NotFound(f"{organisation_id} is not a department or a budget unit", code="department-not-found")
    return organisation.name


@command(router, "/{organisation_id}/{fiscal_year}")
async def submit_overall_goals(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallGoalsSubmit, ctx: CommandDep
) -> CommandResult:
    """整体绩效目标申报 by the department (for itself or its units) or the unit (for itself): six dimensions, weights
    summing to 100; submitted again after 中 or 差, or revised before review."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.submit_overall_goals(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, [item.indicator() for item in body.indicators]
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/review")
async def review_overall_goals(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallGoalsReview, ctx: CommandDep
) -> CommandResult:
    """整体绩效目标审核 by finance: 优/良 approved, 中 returned for revision, 差 refused (a reason for 中 and 差)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.review_overall_goals(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, body.rating.value, body.required_fixes
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/adjustments", created=True)
async def request_overall_goals_adjustment(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallGoalsAdjustment, ctx: CommandDep
) -> CommandResult:
    """整体绩效目标调整申请 by the organisation, with its reason; nothing changes until finance approves."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.request_overall_goals_adjustment(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, [item.indicator() for item in body.indicators]
        ),
        location=lambda w: (
            f"/overall-goals/{organisation_id}/{fiscal_year}/adjustments/{w.events[-1].references['adjustment_no']}"
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/adjustments/{adjustment_no}/decision")
async def decide_overall_goals_adjustment(
    organisation_id: UUID, fiscal_year: FiscalYear, adjustment_no: Number, body: Decision, ctx: CommandDep
) -> CommandResult:
    """Finance approves (the goals change) or rejects (nothing changes, with a reason) an adjustment."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.decide_overall_goals_adjustment(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, adjustment_no, body.approve
        ),
    )
