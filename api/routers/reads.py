"""The finance bureau's cross-cutting queries: accountability trail, coverage, deadlines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import Overseer, Reader
from api.body import LedgerRoute
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.common import Page
from api.schemas.reads import CoverageRow, DeadlineRow, TrailEntry
from ledger.domain.errors import Forbidden
from ledger.domain.values import Role, key
from projections.audit_findings import agency_finding_objects
from projections.coverage import coverage_rows
from projections.deadlines import DeadlineFilter, open_deadlines
from projections.positions import positions
from projections.project_status import commissioned_projects, department_objects
from projections.trail import TrailFilter, trail

router = APIRouter(tags=["queries"], route_class=LedgerRoute)

Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/trail", responses=QUERY_PROBLEMS)
@downloadable("accountability_trail", "问责记录", "Accountability trail")
def accountability_trail(
    conn: ReadConn,
    principal: Reader,
    principal_id: Annotated[str | None, Query(alias="principal", max_length=200)] = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    object_id: Annotated[UUID | None, Query(alias="object")] = None,
    event_type: Annotated[str | None, Query(max_length=100, examples=["Project.BudgetApproved"])] = None,
    recorded_from: Annotated[datetime | None, Query(alias="from", description="recorded at or after")] = None,
    recorded_to: Annotated[datetime | None, Query(alias="to", description="recorded before")] = None,
    cursor: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[TrailEntry]:
    """问责记录: who did what to which object, when, under which role — by principal, organisation (any spelling of
    either), object, time. A department reads what concerns its objects (its units' too, and the audit findings about
    them); an agency what it did and the audit findings about it."""
    objects, acting = None, None
    if principal.role == Role.DEPARTMENT:
        objects = department_objects(conn, principal.organisation)
    elif principal.role == Role.AGENCY:  # what it did, and the audit findings about it (whoever recorded their steps)
        if organisation is not None and not principal.acts_for(organisation):
            raise Forbidden("an agency reads only its own trail", code="role-not-allowed")
        objects, acting = agency_finding_objects(conn, principal.organisation), principal.organisation
    rows = trail(
        conn,
        TrailFilter(principal_id, organisation, object_id, event_type, recorded_from, recorded_to, objects, acting),
        after=cursor,
        limit=limit,
    )
    return Page[TrailEntry](
        items=[TrailEntry.model_validate(row) for row in rows],
        next_cursor=str(rows[-1]["leaf_index"]) if len(rows) == limit else None,
        position=positions(conn, ["accountability_trail"]),
    )


@router.get("/coverage", responses=QUERY_PROBLEMS)
@downloadable("coverage", "覆盖率", "Coverage")
def coverage(conn: ReadConn, principal: Overseer, fiscal_year: Year = None) -> list[CoverageRow]:
    """覆盖率: departments with overall goals (target 60% in 2021, 100% after), self-evaluation coverage,
    re-evaluation rate, projects per budget book, disclosure rates."""
    return [CoverageRow.model_validate(row) for row in coverage_rows(conn, fiscal_year)]


@router.get("/deadlines", responses=QUERY_PROBLEMS)
@downloadable("deadlines", "时限", "Deadlines")
def deadlines(
    conn: ReadConn,
    principal: Reader,
    ledger: LedgerDep,
    on: Annotated[date | None, Query(description="The day to judge approaching / missed by; default today")] = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[
        str | None,
        Query(pattern="^(goal_submission|monitoring_report|self_evaluation|rectification|deviation_answer)$"),
    ] = None,
    fiscal_year: Year = None,
    missed: bool | None = None,
    approaching: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[DeadlineRow]:
    """时限: open obligations with due dates, approaching (within the ruleset's warning days) or missed. A department
    reads its own; an agency those of the projects it was commissioned to evaluate."""
    projects = None
    if principal.role == Role.DEPARTMENT:
        if department is not None and key(department) != key(principal.organisation):
            raise Forbidden(f"{principal.organisation} reads only its own deadlines", code="not-own-department")
        department = principal.organisation
    elif principal.role == Role.AGENCY:
        projects = commissioned_projects(conn, principal.organisation)
    warning = ledger.ruleset().parameters().deadline_warning_days
    rows = open_deadlines(
        conn,
        DeadlineFilter(on or ledger.today(), warning, department, kind, fiscal_year, missed, approaching, projects),
        limit=limit,
    )
    return [DeadlineRow.model_validate(row) for row in rows]
