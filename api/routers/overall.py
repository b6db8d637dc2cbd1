"""Overall goals (整体绩效目标) of a department or a budget unit for a fiscal year: submitted by the organisation,
reviewed by finance, adjusted on finance's decision; after the year self-evaluated by the organisation, evaluated by
finance (itself, or through an agency it commissions, 两审一督导), and its results applied to a department with its
next control figure (:mod:`ledger.domain.overall`). The record is read as any object is (``/objects/{id}``; its id is
in each command's answer), and as the ``department_overall`` read model: ``GET /overall-goals`` and its coverage."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from api.auth import Overseer, require
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS, documented
from api.schemas.common import CommandResult
from api.schemas.overall import (
    OverallCoverageRow,
    OverallEvaluationCommission,
    OverallGoalsAdjustment,
    OverallGoalsReview,
    OverallGoalsSubmit,
    OverallResultApplication,
    OverallRow,
    OverallScores,
    OverallSelfEvaluation,
)
from api.schemas.projects import Decision, KeyEvaluationSubmission, Review, SupervisionAnswer, SupervisionNote
from ledger.application import Ledger
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.organisations import Department, Unit
from ledger.domain.values import Principal, Role, key
from projections import department_overall

router = APIRouter(prefix="/overall-goals", tags=["departments"], route_class=LedgerRoute)

FiscalYear = Annotated[int, Path(ge=2000, le=2100, description="The fiscal year the goals are for")]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]
Year = Annotated[int | None, Query(ge=2000, le=2100)]
OverallReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT))]


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


def _at(organisation_id: UUID, fiscal_year: int) -> str:
    return f"/overall-goals/{organisation_id}/{fiscal_year}"


# ------------------------------------------------------------------------------------------------ the evaluation


@command(router, "/{organisation_id}/{fiscal_year}/self-evaluation")
async def self_evaluate_overall(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallSelfEvaluation, ctx: CommandDep
) -> CommandResult:
    """整体绩效自评 by the organisation (a department for itself or its units, a unit for itself), once, of its
    approved goals: the ledger scores every indicator against its actual value and records score, grade and ruleset."""
    actuals = {name: value if isinstance(value, Decimal) else str(value) for name, value in body.actuals.items()}
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.self_evaluate_overall(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, actuals
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations", created=True)
async def commission_overall_evaluation(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallEvaluationCommission, ctx: CommandDep
) -> CommandResult:
    """整体绩效评价 by finance, itself or commissioned to an agency — never a blacklisted one, nor one tied to the
    organisation or its department (回避) — on approved goals with no adjustment pending, before results."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.commission_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, body.agency
        ),
        location=lambda w: (
            f"{_at(organisation_id, fiscal_year)}/evaluations/{w.events[-1].references['evaluation_no']}"
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/plan")
async def submit_overall_evaluation_plan(
    organisation_id: UUID,
    fiscal_year: FiscalYear,
    evaluation_no: Number,
    body: KeyEvaluationSubmission,
    ctx: CommandDep,
) -> CommandResult:
    """两审一督导: the commissioned agency submits its evaluation plan (评价方案), cited by its evidence (typed
    ``evaluation_plan``), for finance to review within the ruleset's days."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.submit_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, "plan"
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/report")
async def submit_overall_evaluation_report(
    organisation_id: UUID,
    fiscal_year: FiscalYear,
    evaluation_no: Number,
    body: KeyEvaluationSubmission,
    ctx: CommandDep,
) -> CommandResult:
    """两审一督导: the commissioned agency submits its evaluation report (评价报告, typed ``evaluation_report``) — once
    its plan is approved and finance has supervised, every finding answered."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.submit_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, "report"
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/supervision/{supervision_no}/answer")
async def answer_overall_evaluation_supervision(
    organisation_id: UUID,
    fiscal_year: FiscalYear,
    evaluation_no: Number,
    supervision_no: Number,
    body: SupervisionAnswer,
    ctx: CommandDep,
) -> CommandResult:
    """两审一督导: the commissioned agency answers a supervision's findings (督导意见回复)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.answer_overall_evaluation_supervision(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, supervision_no, body.answer
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/plan-review")
async def review_overall_evaluation_plan(
    organisation_id: UUID, fiscal_year: FiscalYear, evaluation_no: Number, body: Review, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the first review: finance approves or returns (with its reason) the evaluation plan — an agency's,
    the one it submitted (a new plan then falls due)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.review_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, "plan", body.approved
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/report-review")
async def review_overall_evaluation_report(
    organisation_id: UUID, fiscal_year: FiscalYear, evaluation_no: Number, body: Review, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the second review: a score is accepted only after the plan and the report are approved."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.review_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, "report", body.approved
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/supervision")
async def note_overall_evaluation_supervision(
    organisation_id: UUID, fiscal_year: FiscalYear, evaluation_no: Number, body: SupervisionNote, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the supervision (督导): finance records what it saw and its findings, which the agency answers — at
    least one for an agency's evaluation under 两审一督导 in full, once its plan is approved."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.note_overall_evaluation_supervision(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, body.notes, list(body.findings)
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/evaluations/{evaluation_no}/score")
async def score_overall_evaluation(
    organisation_id: UUID, fiscal_year: FiscalYear, evaluation_no: Number, body: OverallScores, ctx: CommandDep
) -> CommandResult:
    """The commissioned agency (or finance, evaluating itself) scores the six dimensions, each within the ruleset's
    weight; a self-evaluation more than the ruleset's threshold above it is flagged 自评虚高."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.score_overall_evaluation(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, evaluation_no, body.scores
        ),
    )


@command(router, "/{organisation_id}/{fiscal_year}/result-application")
async def apply_overall_results(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallResultApplication, ctx: CommandDep
) -> CommandResult:
    """整体绩效结果应用 by finance to a department, once, on its latest evaluation scored (else its self-evaluation):
    next year's control figure (控制数) is this year's moved by the ruleset's rate for the grade, or by finance's own
    rate with a reason — recorded as OverallGoals.ControlFigureAdjusted."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.apply_overall_results(
            act, _organisation(ctx.ledger, organisation_id), fiscal_year, body.control_figure, body.rate
        ),
    )


# ------------------------------------------------------------------------------------------------ the read model


@router.get("", responses=QUERY_PROBLEMS)
@downloadable("department_overall", "部门和单位整体绩效", "Department and unit overall performance")
def list_overall(
    conn: ReadConn,
    principal: OverallReader,
    organisation: Annotated[
        str | None, Query(max_length=200, description="This department (its units' too) or unit, any spelling")
    ] = None,
    fiscal_year: Year = None,
    kind: Annotated[Literal["department", "unit"] | None, Query()] = None,
) -> list[OverallRow]:
    """部门和单位整体绩效: each organisation's goals, review, self-evaluation, finance's evaluation, results and next
    control figure, by year. Finance and auditors read all; a department its own and its units', a unit its own."""
    if principal.role == Role.DEPARTMENT:
        own = principal.organisation
        if organisation is not None and key(organisation) != key(own):
            raise Forbidden(f"{own} reads only its own overall performance", code="not-own-department")
        organisation = own
    rows = department_overall.overall_rows(conn, organisation=organisation, fiscal_year=fiscal_year, kind=kind)
    return [OverallRow.model_validate(row) for row in rows]


@router.get("/coverage", responses=QUERY_PROBLEMS)
def overall_coverage(conn: ReadConn, principal: Overseer, fiscal_year: Year = None) -> list[OverallCoverageRow]:
    """整体绩效目标覆盖面 per fiscal year: departments and units with overall goals submitted and approved against the
    ruleset's target (met: the departments' share reaches it, and at 100% every unit's goals are approved too), and
    how many were self-evaluated, evaluated and had their results applied. Finance and auditors."""
    return [OverallCoverageRow.model_validate(row) for row in department_overall.coverage(conn, fiscal_year)]


@router.get("/{organisation_id}/{fiscal_year}", responses=documented(401, 403, 404, 422, 503))
def overall_of(organisation_id: UUID, fiscal_year: FiscalYear, conn: ReadConn, principal: OverallReader) -> OverallRow:
    """One organisation's overall performance in a fiscal year: for finance and auditors, its department's staff, or
    its own (a unit's staff)."""
    name = department_overall.organisation_name(conn, organisation_id)
    if name is None:
        raise NotFound(f"{organisation_id} is not a department or a budget unit", code="department-not-found")
    row = department_overall.overall_row(conn, name, fiscal_year)
    if row is None:
        raise NotFound(f"{name} has no overall goals for {fiscal_year}", code="overall-goals-not-found")
    if principal.role == Role.DEPARTMENT and not (
        principal.acts_for(row["organisation"]) or principal.acts_for(row["department"])
    ):
        raise Forbidden(f"{principal.organisation} reads only its own overall performance", code="not-own-department")
    return OverallRow.model_validate(row)
