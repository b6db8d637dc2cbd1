"""Projects (项目/政策): the whole budget-performance cycle, the finance bureau's queries, and their history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.auth import PrincipalDep, Reader
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.params import NameSearch
from api.problems import QUERY_PROBLEMS, documented
from api.routers.history import history_of, state_of
from api.schemas.catalogue import ReEvaluationCommission
from api.schemas.common import CommandResult, Page
from api.schemas.log import HistoryEntryOut, StateOut
from api.schemas.project_status import ProjectDisclosedOut, ProjectStatusOut
from api.schemas.projects import (
    Admission,
    BudgetApproval,
    Closure,
    CorrectiveAction,
    Decision,
    DisclosureCommand,
    ExAnteAssessment,
    GoalAdjustmentRequest,
    GoalsReview,
    GoalsSubmit,
    MonitoringReport,
    MonitoringReview,
    PolicyDecisionCommand,
    ProjectCreate,
    RectificationDecision,
    RectificationReport,
    RectificationRequirement,
    ResultApplication,
    Scores,
    SelfEvaluation,
)
from ledger.application import Written
from ledger.application.roles import acts_for_project
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.values import BudgetBook, Grade, Principal, Role, key
from projections.base import Row
from projections.positions import positions
from projections.project_status import ProjectFilter, belongs_to, project, projects

router = APIRouter(prefix="/projects", tags=["projects"], route_class=LedgerRoute)

Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]
SEES_ALL = frozenset({Role.FINANCE, Role.AUDITOR})


def _at(project: UUID) -> str:
    return f"/projects/{project}"


def _ref(written: Written, name: str) -> object:
    """What the command's last event named the thing it created (its number or id)."""
    return written.events[-1].references[name]


# ------------------------------------------------------------------------------------------------- commands


@command(router, "", created=True)
async def declare_project(body: ProjectCreate, ctx: CommandDep) -> CommandResult:
    """申报: a department declares a project of its own (finance may declare on its behalf)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.declare_project(
            act,
            code=body.code,
            name=body.name,
            kind=body.kind.value,
            department=body.department,
            fiscal_year_=body.fiscal_year,
            budget_book=body.budget_book.value,
            special_category=None if body.special_category is None else body.special_category.value,
            requested=body.requested,
            new_major=body.new_major,
            unit=body.unit,
            continues=None if body.continues is None else body.continues.named(),
        ),
        location=lambda w: _at(w.aggregate_id),
    )


@command(router, "/{project_id}/ex-ante-assessment")
async def assess_ex_ante(project_id: UUID, body: ExAnteAssessment, ctx: CommandDep) -> CommandResult:
    """事前绩效评估 by finance itself: five dimensions; ≥ 80 support, ≥ 60 support after revision, else reject."""
    return await run(ctx, body, lambda act: ctx.ledger.assess_ex_ante(act, project_id, body.scores))


@command(router, "/{project_id}/admission")
async def admit_project(project_id: UUID, body: Admission, ctx: CommandDep) -> CommandResult:
    """入库: finance admits the project to the project library (after a supporting ex-ante assessment if required)."""
    return await run(ctx, body, lambda act: ctx.ledger.admit_project(act, project_id))


@command(router, "/{project_id}/goals")
async def submit_goals(project_id: UUID, body: GoalsSubmit, ctx: CommandDep) -> CommandResult:
    """绩效目标申报: the department submits (or revises) the indicator tree."""
    indicators = [item.indicator() for item in body.indicators]
    return await run(ctx, body, lambda act: ctx.ledger.submit_goals(act, project_id, indicators))


@command(router, "/{project_id}/goals/review")
async def review_goals(project_id: UUID, body: GoalsReview, ctx: CommandDep) -> CommandResult:
    """目标审核 by finance: 优/良 approved, 中 returned for revision, 差 not funded this year."""
    return await run(
        ctx, body, lambda act: ctx.ledger.review_goals(act, project_id, body.rating.value, body.required_fixes)
    )


@command(router, "/{project_id}/budget-approval")
async def approve_budget(project_id: UUID, body: BudgetApproval, ctx: CommandDep) -> CommandResult:
    """预算与绩效目标同步批复: refused unless the goals are rated 优/良 (no approved goals, no budget); a continuation
    within what the earlier result decision allows, unless finance overrides it with a reason."""
    return await run(
        ctx, body, lambda act: ctx.ledger.approve_budget(act, project_id, body.amount, override=body.override)
    )


@command(router, "/{project_id}/goal-adjustments", created=True)
async def request_goal_adjustment(project_id: UUID, body: GoalAdjustmentRequest, ctx: CommandDep) -> CommandResult:
    """目标调整申请 by the department, with its reason; nothing changes until finance approves."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.request_goal_adjustment(act, project_id, [item.indicator() for item in body.indicators]),
        location=lambda w: f"{_at(project_id)}/goal-adjustments/{_ref(w, 'adjustment_no')}",
    )


@command(router, "/{project_id}/goal-adjustments/{adjustment_no}/decision")
async def decide_goal_adjustment(
    project_id: UUID, adjustment_no: Number, body: Decision, ctx: CommandDep
) -> CommandResult:
    """Finance approves (the goals change) or rejects (nothing changes, with a reason) a goal adjustment."""
    return await run(
        ctx, body, lambda act: ctx.ledger.decide_goal_adjustment(act, project_id, adjustment_no, body.approve)
    )


@command(router, "/{project_id}/monitoring-reports", created=True)
async def report_monitoring(project_id: UUID, body: MonitoringReport, ctx: CommandDep) -> CommandResult:
    """绩效运行监控 (双监控): execution and indicator progress through a month, by the department."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.report_monitoring(
            act,
            project_id,
            month=body.month,
            executed=body.executed,
            indicator_progress=body.indicator_progress,
            forecast=body.forecast,
            shortfall_reasons=body.shortfall_reasons,
            measures=body.measures,
        ),
        location=lambda w: f"{_at(project_id)}/monitoring-reports/{body.month}",
    )


@command(router, "/{project_id}/monitoring-reports/{month}/review")
async def review_monitoring(
    project_id: UUID, month: Annotated[int, Path(ge=1, le=12)], body: MonitoringReview, ctx: CommandDep
) -> CommandResult:
    """Finance reviews a monitoring report; a deviation the ruleset finds is recorded with the review."""
    return await run(ctx, body, lambda act: ctx.ledger.review_monitoring(act, project_id, month, body.opinion))


@command(router, "/{project_id}/corrective-actions", created=True)
async def order_corrective_action(project_id: UUID, body: CorrectiveAction, ctx: CommandDep) -> CommandResult:
    """纠偏 by finance: continue, reallocate, suspend funding, cancel, or reduce the budget by an amount."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.order_corrective_action(
            act, project_id, body.decision, body.amount, body.deviation_month
        ),
        location=lambda w: f"{_at(project_id)}/history",
    )


@command(router, "/{project_id}/self-evaluation")
async def self_evaluate(project_id: UUID, body: SelfEvaluation, ctx: CommandDep) -> CommandResult:
    """单位自评: the ledger computes the score from the actuals and records inputs, score and ruleset version."""
    actuals = {key: value if isinstance(value, Decimal) else str(value) for key, value in body.actuals.items()}
    return await run(ctx, body, lambda act: ctx.ledger.self_evaluate(act, project_id, actuals, body.executed))


@command(router, "/{project_id}/re-evaluation")
async def re_evaluate(project_id: UUID, body: Scores, ctx: CommandDep) -> CommandResult:
    """财政再评价 by finance of a project drawn in the sample; flags an inflated self-evaluation (自评虚高)."""
    return await run(ctx, body, lambda act: ctx.ledger.re_evaluate(act, project_id, body.scores))


@command(router, "/{project_id}/re-evaluation/commission", created=True)
async def commission_re_evaluation(project_id: UUID, body: ReEvaluationCommission, ctx: CommandDep) -> CommandResult:
    """财政再评价 of a project drawn in the sample, commissioned by finance to an agency: it passes the reviews of a
    key evaluation, and its score is the re-evaluation (the agency's results stand in for finance's own)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.commission_re_evaluation(act, project_id, body.agency),
        location=lambda w: f"{_at(project_id)}/key-evaluations/{_ref(w, 'evaluation_id')}",
    )


@command(router, "/{project_id}/result-application")
async def apply_results(project_id: UUID, body: ResultApplication, ctx: CommandDep) -> CommandResult:
    """结果应用 by finance: by default from the grade; departing from the default needs a reason."""
    return await run(ctx, body, lambda act: ctx.ledger.apply_results(act, project_id, body.decision))


@command(router, "/{project_id}/policy-decision")
async def decide_policy(project_id: UUID, body: PolicyDecisionCommand, ctx: CommandDep) -> CommandResult:
    """政策调整 by finance of a policy whose results are applied, once: continue, adjust or terminate — by default from
    the grade; a departure needs a reason. A terminated policy's continuation is not funded unless overridden."""
    return await run(ctx, body, lambda act: ctx.ledger.decide_policy(act, project_id, body.decision))


@command(router, "/{project_id}/rectifications", created=True)
async def require_rectification(project_id: UUID, body: RectificationRequirement, ctx: CommandDep) -> CommandResult:
    """整改 required by finance: the issues, their source and a deadline."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.require_rectification(act, project_id, list(body.issues), body.source, body.deadline),
        location=lambda w: f"{_at(project_id)}/rectifications/{_ref(w, 'rectification_no')}",
    )


@command(router, "/{project_id}/rectifications/{rectification_no}/report")
async def report_rectification(
    project_id: UUID, rectification_no: Number, body: RectificationReport, ctx: CommandDep
) -> CommandResult:
    """The department reports the measures taken and their evidence."""
    return await run(
        ctx, body, lambda act: ctx.ledger.report_rectification(act, project_id, rectification_no, body.measures)
    )


@command(router, "/{project_id}/rectifications/{rectification_no}/decision")
async def decide_rectification(
    project_id: UUID, rectification_no: Number, body: RectificationDecision, ctx: CommandDep
) -> CommandResult:
    """Finance accepts the rectification, or rejects it (with a reason) and it stays open."""
    return await run(
        ctx, body, lambda act: ctx.ledger.decide_rectification(act, project_id, rectification_no, body.accept)
    )


@command(router, "/{project_id}/disclosures", created=True)
async def disclose(project_id: UUID, body: DisclosureCommand, ctx: CommandDep) -> CommandResult:
    """信息公开 by the project's own department (or unit) — its duty, on the 预决算公开平台 — or by finance: goals
    (approved) with the budget draft, results with the final accounts. Another department's staff are refused
    (403 ``not-own-department``), as are auditors and agencies (403 ``role-not-allowed``)."""
    return await run(
        ctx, body, lambda act: ctx.ledger.disclose(act, project_id, body.what), location=lambda w: _at(project_id)
    )


@command(router, "/{project_id}/closure")
async def close_project(project_id: UUID, body: Closure, ctx: CommandDep) -> CommandResult:
    """Closed by finance once results are applied, rectifications accepted and key evaluations scored."""
    return await run(ctx, body, lambda act: ctx.ledger.close_project(act, project_id))


# -------------------------------------------------------------------------------------------------- queries


def _scope(principal: Principal) -> tuple[str | None, bool]:
    """(the department a reader is confined to, whether only disclosed facts are visible: the public and agencies)."""
    if principal.role in SEES_ALL:
        return None, False
    if principal.role == Role.DEPARTMENT:
        return principal.organisation, False
    return None, True


@router.get("", responses=QUERY_PROBLEMS)
@downloadable("project_status", "项目状态", "Project status")
def list_projects(
    conn: ReadConn,
    principal: PrincipalDep,
    department: str | None = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    budget_book: BudgetBook | None = None,
    stage: Annotated[str | None, Query(max_length=32, examples=["budget_approved"])] = None,
    grade: Grade | None = None,
    deviation: Annotated[str | None, Query(pattern="^(yellow|red)$")] = None,
    overdue: Annotated[bool | None, Query(description="Only projects with (or without) overdue rectifications")] = None,
    code: Annotated[str | None, Query(max_length=64)] = None,
    q: NameSearch = None,
    cursor: Annotated[UUID | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ProjectStatusOut] | Page[ProjectDisclosedOut]:
    """项目状态: every project matching the filters, one page at a time; ``q`` finds those whose name contains it (in
    any spelling). The public (and agencies) see disclosed projects only, and filter only on what was disclosed: not
    by stage, deviation or overdue, and by grade only among the projects whose results were disclosed."""
    own, public = _scope(principal)
    if own is not None:
        if department is not None and key(department) != key(own):
            raise Forbidden(f"{own} reads only its own projects", code="not-own-department")
        department = own
    if public:
        for name, value in (("stage", stage), ("deviation", deviation), ("overdue", overdue)):
            if value is not None:
                raise Forbidden(
                    f"{name} is not disclosed: the public filters only on what was disclosed",
                    code="role-not-allowed",
                    field=f"query.{name}",
                )
    where = ProjectFilter(
        department,
        fiscal_year,
        None if budget_book is None else budget_book.value,
        stage,
        None if grade is None else grade.value,
        deviation,
        overdue,
        code,
        q,
        public,
    )
    rows = projects(conn, where, after=cursor, limit=limit)
    position = positions(conn, ["project_status"])
    next_cursor = str(rows[-1]["project_id"]) if len(rows) == limit else None
    if public:
        return Page[ProjectDisclosedOut](
            items=[_disclosed(row) for row in rows], next_cursor=next_cursor, position=position
        )
    return Page[ProjectStatusOut](
        items=[ProjectStatusOut.model_validate(row) for row in rows], next_cursor=next_cursor, position=position
    )


def _disclosed(row: Row) -> ProjectDisclosedOut:
    """The project as its disclosures made it public: what they recorded, never the live columns (a later
    adjustment, evaluation or result decision is not public until it is disclosed)."""
    results: dict[str, Any] | None = row["disclosed_results"]
    self_evaluation = (results or {}).get("self_evaluation") or {}
    score = self_evaluation.get("total")
    return ProjectDisclosedOut(
        project_id=row["project_id"],
        code=row["code"],
        name=row["name"],
        department=row["department"],
        fiscal_year=row["fiscal_year"],
        budget_book=row["budget_book"],
        approved=row["disclosed_approved"] if row["goals_disclosed"] else None,
        goals_disclosed=row["goals_disclosed"],
        results_disclosed=row["results_disclosed"],
        goals=row["disclosed_goals"] if row["goals_disclosed"] else None,
        results=results if row["results_disclosed"] else None,
        grade=row["disclosed_grade"] if row["results_disclosed"] else None,
        self_score=None if score is None or not row["results_disclosed"] else Decimal(score),
        result_decision=(results or {}).get("decision") if row["results_disclosed"] else None,
    )


def _is_disclosed(row: Row | None) -> bool:
    return row is not None and bool(row["goals_disclosed"] or row["results_disclosed"])


@router.get("/lookup", responses=documented(401, 403, 404, 422, 503))
def project_id_of(
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    code: Annotated[str, Query(min_length=1, max_length=64)],
    ledger: LedgerDep,
    conn: ReadConn,
    principal: PrincipalDep,
) -> dict[str, UUID]:
    """A project's id from its fiscal year and code, however the code is spelled (ids are deterministic: uuid5 of
    the year and the code's key). The public (and agencies) find disclosed projects only: that a project was
    declared is not public until something of it is disclosed."""
    project_id = ledger.project_id_of(fiscal_year, code)
    if _scope(principal)[1] and not _is_disclosed(project(conn, project_id)):
        raise NotFound(f"no project {code} in {fiscal_year}", code="project-not-found")
    return {"project_id": project_id}


@router.get("/{project_id}", responses=documented(401, 403, 404, 422, 503))
def get_project(
    project_id: UUID, conn: ReadConn, principal: PrincipalDep, response: Response
) -> ProjectStatusOut | ProjectDisclosedOut:
    """One project's current status, with its version as ETag (use it as If-Match on the next command)."""
    row = project(conn, project_id)
    own, public = _scope(principal)
    if row is None or (public and not _is_disclosed(row)):
        raise NotFound(f"project {project_id} not found", code="project-not-found")
    if own is not None and not belongs_to(row, own):
        raise Forbidden(f"{own} reads only its own projects", code="not-own-department")
    if public:  # its version counts events the public may not see (monitoring, rectifications): no ETag
        return _disclosed(row)
    response.headers["ETag"] = f'"{row["version"]}"'
    return ProjectStatusOut.model_validate(row)


# ---------------------------------------------------------------------------------------- history, as-of


def _may_audit(principal: Principal, ledger: LedgerDep, project_id: UUID) -> None:
    if principal.role in SEES_ALL:
        return
    if principal.role == Role.DEPARTMENT and acts_for_project(principal, ledger.project(project_id)):
        return
    raise Forbidden(
        "history and past states are for finance, auditors and the project's department", code="role-not-allowed"
    )


@router.get("/{project_id}/history", tags=["audit"], responses=documented(401, 403, 404, 422))
def project_history(project_id: UUID, principal: Reader, ledger: LedgerDep) -> list[HistoryEntryOut]:
    """Every event of the project in order, with its leaf index, hashes, principal, both times and reason."""
    _may_audit(principal, ledger, project_id)
    return history_of(ledger, project_id, missing="project-not-found")


@router.get("/{project_id}/state", tags=["audit"], responses=documented(401, 403, 404, 422))
def project_state(
    project_id: UUID,
    principal: Reader,
    ledger: LedgerDep,
    response: Response,
    as_of: Annotated[
        datetime | None,
        Query(description="An instant (ISO 8601 with offset): the project as recorded then (transaction time)"),
    ] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> StateOut:
    """The project as it was: at a version, or as recorded at an instant (time travel)."""
    _may_audit(principal, ledger, project_id)
    return state_of(ledger, project_id, as_of, version, response)
