"""A project's key evaluation (重点评价): commissioned by finance or by the project's own department, and an agency's
under 两审一督导 in full — plan and report each submitted and reviewed, finance's supervision and the agency's answer —
until its score. The re-evaluation commissioned to an agency (``/projects/{project_id}/re-evaluation/commission``,
:mod:`api.routers.projects`) runs through these same routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.schemas.common import CommandResult
from api.schemas.projects import (
    KeyEvaluationCommission,
    KeyEvaluationSubmission,
    Review,
    Scores,
    SupervisionAnswer,
    SupervisionNote,
)
from ledger.application import Written

router = APIRouter(prefix="/projects", tags=["projects"], route_class=LedgerRoute)

Number = Annotated[int, Path(ge=1, le=1_000_000, description="The number the ledger gave it (1, 2, …)")]
EvaluationId = Annotated[str, Path(max_length=100, examples=["KE-2021-JY-01-1"])]


def _at(project: UUID) -> str:
    return f"/projects/{project}"


def _ref(written: Written, name: str) -> object:
    """What the command's last event named the thing it created (its number or id)."""
    return written.events[-1].references[name]


@command(router, "/{project_id}/key-evaluations", created=True)
async def commission_key_evaluation(project_id: UUID, body: KeyEvaluationCommission, ctx: CommandDep) -> CommandResult:
    """重点评价 commissioned by finance or by the project's own department (部门委托第三方机构) — refused for an agency
    blacklisted, barred, not qualified (资格) or tied to the department (回避); an agency's runs under 两审一督导."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.commission_key_evaluation(act, project_id, body.agency),
        location=lambda w: f"{_at(project_id)}/key-evaluations/{_ref(w, 'evaluation_id')}",
    )


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/plan")
async def submit_key_evaluation_plan(
    project_id: UUID, evaluation_id: EvaluationId, body: KeyEvaluationSubmission, ctx: CommandDep
) -> CommandResult:
    """两审一督导: the commissioned agency submits its evaluation plan (评价方案), cited by its evidence."""
    return await run(ctx, body, lambda act: ctx.ledger.submit_key_evaluation(act, project_id, evaluation_id, "plan"))


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/plan-review")
async def review_key_evaluation_plan(
    project_id: UUID, evaluation_id: EvaluationId, body: Review, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the first review: finance approves or returns (with its reason) the plan the agency submitted."""
    return await run(
        ctx, body, lambda act: ctx.ledger.review_key_evaluation(act, project_id, evaluation_id, "plan", body.approved)
    )


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/report")
async def submit_key_evaluation_report(
    project_id: UUID, evaluation_id: EvaluationId, body: KeyEvaluationSubmission, ctx: CommandDep
) -> CommandResult:
    """两审一督导: the commissioned agency submits its evaluation report (评价报告) — once supervised, every finding
    answered."""
    return await run(ctx, body, lambda act: ctx.ledger.submit_key_evaluation(act, project_id, evaluation_id, "report"))


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/report-review")
async def review_key_evaluation_report(
    project_id: UUID, evaluation_id: EvaluationId, body: Review, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the second review: a score is accepted only after the report is approved."""
    return await run(
        ctx, body, lambda act: ctx.ledger.review_key_evaluation(act, project_id, evaluation_id, "report", body.approved)
    )


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/supervision", created=True)
async def note_key_evaluation_supervision(
    project_id: UUID, evaluation_id: EvaluationId, body: SupervisionNote, ctx: CommandDep
) -> CommandResult:
    """两审一督导, the supervision (督导): finance records what it saw and its findings, which the agency answers."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.note_key_evaluation_supervision(
            act, project_id, evaluation_id, body.notes, list(body.findings)
        ),
        location=lambda w: f"{_at(project_id)}/key-evaluations/{evaluation_id}/supervision/{_ref(w, 'supervision_no')}",
    )


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/supervision/{supervision_no}/answer")
async def answer_key_evaluation_supervision(
    project_id: UUID, evaluation_id: EvaluationId, supervision_no: Number, body: SupervisionAnswer, ctx: CommandDep
) -> CommandResult:
    """两审一督导: the commissioned agency answers a supervision's findings (督导意见回复)."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.answer_key_evaluation_supervision(
            act, project_id, evaluation_id, supervision_no, body.answer
        ),
    )


@command(router, "/{project_id}/key-evaluations/{evaluation_id}/score")
async def score_key_evaluation(
    project_id: UUID, evaluation_id: EvaluationId, body: Scores, ctx: CommandDep
) -> CommandResult:
    """The commissioned agency (or finance, evaluating itself) scores decision, process, output and effect."""
    return await run(
        ctx, body, lambda act: ctx.ledger.score_key_evaluation(act, project_id, evaluation_id, body.scores)
    )
