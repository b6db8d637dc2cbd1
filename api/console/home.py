"""The home page of each role (首页), read from the read models through the API's own routes (so each role sees
its own scope) and, for the year's stage counts, the project-status read model's query.

- **finance** (财政局): the year at a glance — projects by stage, red and yellow deviations (红灯/黄灯), overdue
  obligations, coverage against the year's targets, the department ranking.
- **department** (预算部门): its to-do list — what is due, in working days on the log's calendar, approaching or
  missed — and what was refused (ex-ante rejected, goals returned or refused).
- **agency** (第三方机构): the evaluations it was commissioned for — projects' key evaluations and organisations'
  overall evaluations (部门整体绩效评价) — each with its steps, and what is due.
- **auditor** (审计): the log's head, the latest signed checkpoint and its witnesses, the read models' positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from fastapi import Request
from fastapi.responses import HTMLResponse
from psycopg_pool import ConnectionPool

from api.console.pages import LoginRequired, SignedIn, error_page, forward, in_thread, render, router
from api.console.public import checkpoint
from api.labels import VOCABULARIES
from ledger.application.ledger import Ledger
from ledger.domain.calendar import WorkingDays
from ledger.domain.engagement import is_full
from ledger.domain.values import Principal, Role, key
from projections.base import Conn
from projections.department_overall import commissioned_overall
from projections.positions import log_size
from projections.project_status import commissioned_projects, project, stage_counts

T = TypeVar("T")
LISTED = 20  # rows of each list on a home page
LATEST_EVENTS = 10  # the log's newest events on the auditor's home
REFUSED_STAGES = ("rejected", "goals_returned", "goals_refused")
HOMES = (Role.FINANCE, Role.DEPARTMENT, Role.AGENCY, Role.AUDITOR)


class Unreadable(Exception):
    """An API read the home page needs was refused or failed: its status, code and detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


async def api(request: Request, path: str, **params: Any) -> Any:
    """The API's JSON answer to ``GET path?params`` for the reader, or :class:`Unreadable`."""
    status, body = await forward(request, path, {name: value for name, value in params.items() if value is not None})
    if status == 401:
        raise LoginRequired(expired=True)
    if status != 200:
        try:
            problem = json.loads(body)
            raise Unreadable(status, str(problem.get("code")), str(problem.get("detail", "")))
        except (ValueError, AttributeError):
            raise Unreadable(status, "internal-error", "") from None
    return json.loads(body)


async def read(request: Request, query: Callable[..., T], *args: Any) -> T:
    """A read model's query on a connection of the read pool, taken only for the query (never held across an API
    read, which takes its own)."""
    pool: ConnectionPool[psycopg.Connection[Any]] = request.app.state.read_pool

    def run() -> T:
        with pool.connection() as conn:
            return query(conn, *args)

    result: T = await in_thread(run)
    return result


def working_days_until(today: date, due: date, calendar: WorkingDays) -> int:
    """Working days (工作日) from ``today`` to ``due``: 0 on the day, negative once past (working days overdue).

    Counted by whole weeks (five working days each), the days left over, then the calendar's days off on weekdays
    and its worked weekend days in between: a few steps however far apart the days are."""
    if due < today:
        return -working_days_until(due, today, calendar)
    weeks, rest = divmod((due - today).days, 7)
    count = weeks * 5 + sum(1 for n in range(1, rest + 1) if (today + timedelta(days=n)).weekday() < 5)
    count -= sum(1 for day in calendar.holidays if today < day <= due and day.weekday() < 5)
    count += sum(1 for day in calendar.working_weekends if today < day <= due and day.weekday() >= 5)
    return count


def _stage_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {stage: index for index, stage in enumerate(VOCABULARIES["stage"])}
    return sorted(rows, key=lambda row: order.get(row["stage"], len(order)))


async def finance_home(request: Request, year: int | None) -> dict[str, Any]:
    coverage = await api(request, "/coverage")
    years = sorted({row["fiscal_year"] for row in coverage}, reverse=True)
    ledger: Ledger = request.app.state.ledger
    if year is None:
        year = years[0] if years else ledger.today().year
    stages = _stage_order(await read(request, stage_counts, year))
    return {
        "year": year,
        "years": years,
        "stages": stages,
        "total": sum(row["projects"] for row in stages),
        "red_count": sum(row["red"] for row in stages),
        "yellow_count": sum(row["yellow"] for row in stages),
        "red": (await api(request, "/projects", fiscal_year=year, deviation="red", limit=LISTED))["items"],
        "yellow": (await api(request, "/projects", fiscal_year=year, deviation="yellow", limit=LISTED))["items"],
        "overdue": await api(request, "/deadlines", fiscal_year=year, missed="true", limit=LISTED),
        "coverage": next((row for row in coverage if row["fiscal_year"] == year), None),
        "ranking": await api(request, "/departments/ranking", fiscal_year=year),
    }


async def _due(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each open obligation with its working days left (negative: overdue), soonest first."""
    ledger: Ledger = request.app.state.ledger
    calendar = await in_thread(ledger.working_days)
    today = ledger.today()
    for row in rows:
        row["working_days"] = working_days_until(today, date.fromisoformat(row["due_on"]), calendar)
    return sorted(rows, key=lambda row: (row["due_on"], row["project_code"]))


async def department_home(request: Request) -> dict[str, Any]:
    refused = []
    for stage in REFUSED_STAGES:
        refused += (await api(request, "/projects", stage=stage, limit=LISTED))["items"]
    return {
        "todo": await _due(request, await api(request, "/deadlines", limit=200)),
        "refused": refused,
    }


def _commissioned(conn: Conn, agency: str) -> list[dict[str, Any]]:
    rows = []
    for project_id in commissioned_projects(conn, agency):
        row = project(conn, project_id)
        if row is not None:
            rows.append(row)
    return sorted(rows, key=lambda row: (row["fiscal_year"], row["code"]))


def key_evaluation_steps(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a key evaluation or an overall one (两审一督导 and the score; both record them alike:
    :mod:`ledger.domain.engagement`), each ``done`` True, False (refused) or None (not yet), with what it recorded.
    An agency's under the procedure in full shows its own steps too — its plan and report submitted, its answers to
    the supervisions' findings — in the order they are taken; a voided one says so last."""
    score = evaluation["score"]
    supervision = {
        "step": "step_supervision",
        "done": True if evaluation["supervision"] else None,
        "note": "；".join(evaluation["supervision"]),
    }
    scored = {
        "step": "step_scored",
        "done": None if score is None else True,
        "note": "" if score is None else f"{score['total']} ({score['grade']})",
    }
    commissioned = {"step": "step_commissioned", "done": True, "note": str(evaluation["commissioned_on"] or "")}
    plan_review = {"step": "step_plan_review", "done": evaluation["plan_approved"], "note": ""}
    report_review = {"step": "step_report_review", "done": evaluation["report_approved"], "note": ""}
    if not is_full(evaluation):
        steps = [commissioned, plan_review, report_review, supervision, scored]
    else:
        supervisions = evaluation.get("supervisions", [])
        answered = [item for item in supervisions if item["findings"]]
        steps = [
            commissioned,
            _submitted("step_plan_submitted", evaluation["plan_pending"], evaluation["plan_approved"]),
            plan_review,
            supervision,
            {
                "step": "step_supervision_answered",
                "done": (all(item["answer"] is not None for item in answered) or None) if answered else None,
                "note": "；".join(item["answer"] for item in answered if item["answer"] is not None),
            },
            _submitted("step_report_submitted", evaluation["report_pending"], evaluation["report_approved"]),
            report_review,
            scored,
        ]
    voided = evaluation.get("voided")
    if voided is not None:
        steps.append({"step": "step_voided", "done": True, "note": str(voided["on"])})
    return steps


def _submitted(step: str, pending: bool, approved: bool | None) -> dict[str, Any]:
    """The agency's submission of its plan or report: done while it awaits review or once reviewed."""
    return {"step": step, "done": True if pending or approved is not None else None, "note": ""}


def _evaluations(ledger: Ledger, project_ids: list[UUID], agency: str) -> dict[UUID, list[dict[str, Any]]]:
    """The key evaluations of ``project_ids`` commissioned to ``agency``, with their steps: the projects' own state
    (no read model holds the steps), read only for the projects the read model says were commissioned to it."""
    found: dict[UUID, list[dict[str, Any]]] = {}
    for project_id in project_ids:
        state = ledger.project(project_id)
        found[project_id] = [
            {"evaluation_id": evaluation_id, "steps": key_evaluation_steps(evaluation)}
            for evaluation_id, evaluation in sorted(state.key_evaluations.items())
            if key(evaluation["agency_name"]) == key(agency)
        ]
    return found


def _overall_evaluations(ledger: Ledger, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each organisation's year with the steps of its overall evaluations commissioned to the agency (the read
    model's ``evaluation_nos``): the overall goals' own state, as for a project's key evaluations."""
    found = []
    for row in rows:
        goals = ledger.overall_goals(row["organisation"], row["fiscal_year"])
        found.append(
            {
                "goals": row,
                "evaluations": [
                    {"evaluation_no": no, "steps": key_evaluation_steps(goals.evaluations[no - 1])}
                    for no in row["evaluation_nos"]
                ],
            }
        )
    return found


async def agency_home(request: Request, principal: Principal) -> dict[str, Any]:
    projects = await read(request, _commissioned, principal.organisation)
    overall = await read(request, commissioned_overall, principal.organisation)
    ledger: Ledger = request.app.state.ledger
    evaluations = await in_thread(_evaluations, ledger, [row["project_id"] for row in projects], principal.organisation)
    return {
        "evaluations": [{"project": row, "evaluations": evaluations.get(row["project_id"], [])} for row in projects],
        "overall": await in_thread(_overall_evaluations, ledger, overall),
        "todo": await _due(request, await api(request, "/deadlines", limit=200)),
    }


async def auditor_home(request: Request) -> dict[str, Any]:
    size = await read(request, log_size)
    latest = await api(request, "/events", after=max(-1, size - LATEST_EVENTS - 1), limit=LATEST_EVENTS)
    return {
        "log_size": size,
        "checkpoint": await checkpoint(request),
        "latest": list(reversed(latest["events"])),
    }


@router.get("")
async def home(request: Request, principal: SignedIn, year: int | None = None) -> HTMLResponse:
    """The signed-in reader's home: what their role looks at first."""
    if year is not None and not 2000 <= year <= 2100:
        year = None
    try:
        if principal.role == Role.FINANCE:
            context = await finance_home(request, year)
        elif principal.role == Role.DEPARTMENT:
            context = await department_home(request)
        elif principal.role == Role.AGENCY:
            context = await agency_home(request, principal)
        elif principal.role == Role.AUDITOR:
            context = await auditor_home(request)
        else:
            context = {}
    except Unreadable as refused:
        return error_page(request, refused.code, refused.detail, status=refused.status)
    template = f"home_{principal.role}.html" if principal.role in HOMES else "home.html"
    return render(request, template, **context)
