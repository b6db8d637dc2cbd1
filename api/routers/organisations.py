"""Departments (部门) and their budget units (预算单位), third-party agencies (第三方机构), with the blacklist
(失信黑名单)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import PrincipalDep, Reader
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.params import NameSearch
from api.problems import QUERY_PROBLEMS
from api.schemas.common import CommandResult
from api.schemas.organisations import (
    AgencyCreate,
    AgencyDirectory,
    BlacklistEntry,
    Blacklisting,
    BlacklistLift,
    CreditCodeRecord,
    DepartmentAssessment,
    DepartmentCreate,
    Directory,
    MisconductRecord,
    QualificationChange,
    QualityReview,
    RankingRow,
    UnitCreate,
    UnitDirectory,
)
from ledger.application import Ledger
from ledger.domain.agencies import Agency
from ledger.domain.credit_code import credit_code as checked_credit_code
from ledger.domain.errors import NotFound
from ledger.domain.organisations import Department, Unit
from ledger.domain.values import Role
from projections import blacklist, ranking

departments = APIRouter(prefix="/departments", tags=["departments"], route_class=LedgerRoute)
units = APIRouter(prefix="/units", tags=["departments"], route_class=LedgerRoute)
agencies = APIRouter(prefix="/agencies", tags=["agencies"], route_class=LedgerRoute)
blacklist_router = APIRouter(prefix="/blacklist", tags=["agencies"], route_class=LedgerRoute)


def _department_name(ledger: Ledger, department_id: UUID) -> str:
    department = ledger.object(department_id)
    if not isinstance(department, Department):
        raise NotFound(f"{department_id} is not a department", code="department-not-found")
    return department.name


def _agency_name(ledger: Ledger, agency_id: UUID) -> str:
    agency = ledger.object(agency_id)
    if not isinstance(agency, Agency):
        raise NotFound(f"{agency_id} is not an agency", code="agency-not-found")
    return agency.name


def _organisation_name(ledger: Ledger, organisation_id: UUID) -> str:
    """The name of the department or budget unit an overall engagement names (404 ``engagement-not-found`` if
    ``organisation_id`` is neither)."""
    try:
        organisation = ledger.object(organisation_id)
    except NotFound:
        organisation = None
    if not isinstance(organisation, Department | Unit):
        raise NotFound(f"{organisation_id} is not a department or a budget unit", code="engagement-not-found")
    return organisation.name


# ------------------------------------------------------------------------------------------------ departments


@command(departments, "", created=True)
async def register_department(body: DepartmentCreate, ctx: CommandDep) -> CommandResult:
    """部门登记 by finance: the name is stored exactly as given; another spelling of a registered name (by its key:
    NFKC, case, spaces) is refused as a duplicate."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.register_department(act, body.name),
        location=lambda w: f"/departments/{w.aggregate_id}",
    )


@departments.get("", responses=QUERY_PROBLEMS)
@downloadable("department_ranking", "部门", "Departments")
def list_departments(conn: ReadConn, principal: Reader) -> list[Directory]:
    """Every registered department with its id."""
    return [Directory.model_validate(row) for row in ranking.departments(conn)]


@departments.get("/ranking", responses=QUERY_PROBLEMS)
@downloadable("department_ranking", "综合绩效考评排名", "Department ranking")
def department_ranking(
    conn: ReadConn, principal: Reader, fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[RankingRow]:
    """综合绩效考评排名: assessment score and rank, average project grade, coverage, commended / interview."""
    return [RankingRow.model_validate(row) for row in ranking.ranking(conn, fiscal_year)]


@command(departments, "/{department_id}/units", created=True)
async def register_unit(department_id: UUID, body: UnitCreate, ctx: CommandDep) -> CommandResult:
    """预算单位登记 by finance, under the department: its staff then act for its projects only, the department's for
    every project of its units. The name is stored exactly as given; one a unit or a department holds (in any
    spelling) is refused as a duplicate."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.register_unit(act, _department_name(ctx.ledger, department_id), body.name),
        location=lambda w: f"/objects/{w.aggregate_id}/history",
    )


@units.get("", responses=QUERY_PROBLEMS)
@downloadable("department_ranking", "预算单位", "Budget units")
def list_units(
    conn: ReadConn,
    principal: Reader,
    department: Annotated[
        str | None, Query(max_length=200, description="Only this department's (any spelling)")
    ] = None,
) -> list[UnitDirectory]:
    """Every registered budget unit (预算单位) with its id and its department."""
    return [UnitDirectory.model_validate(row) for row in ranking.units(conn, department)]


@command(departments, "/{department_id}/assessments")
async def assess_department(department_id: UUID, body: DepartmentAssessment, ctx: CommandDep) -> CommandResult:
    """综合绩效考评 by finance: six dimensions, the total is their mean."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.assess_department(
            act, _department_name(ctx.ledger, department_id), body.fiscal_year, body.scores
        ),
    )


# --------------------------------------------------------------------------------------------------- agencies


@command(agencies, "", created=True)
async def register_agency(body: AgencyCreate, ctx: CommandDep) -> CommandResult:
    """第三方机构登记 by finance, with its 统一社会信用代码 (check characters verified, GB 32100-2015), credentials
    and any affiliation to a department; qualified (资格有效) from then on."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.register_agency(
            act, body.name, body.credentials, body.affiliation, credit_code=body.credit_code
        ),
        location=lambda w: f"/agencies/{w.aggregate_id}",
    )


@agencies.get("", responses=QUERY_PROBLEMS)
@downloadable("blacklist", "第三方机构", "Third-party agencies")
def list_agencies(
    conn: ReadConn,
    principal: Reader,
    q: NameSearch = None,
    credit_code: Annotated[str | None, Query(max_length=64, examples=["91632800864542843F"])] = None,
) -> list[AgencyDirectory]:
    """Every registered agency with its id, 统一社会信用代码 and 资格; ``q`` finds those whose name contains it (in any
    spelling), ``credit_code`` the one holding that code (in any spelling: lower case, full width, spaces)."""
    rows = blacklist.agencies(conn, q)
    if credit_code is not None:
        code = checked_credit_code(credit_code)
        rows = [row for row in rows if row["credit_code"] == code]
    return [AgencyDirectory.model_validate(row) for row in rows]


@command(agencies, "/{agency_id}/credit-code")
async def record_agency_credit_code(agency_id: UUID, body: CreditCodeRecord, ctx: CommandDep) -> CommandResult:
    """统一社会信用代码 of an agency registered before codes were required, by finance; once."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.record_agency_credit_code(act, _agency_name(ctx.ledger, agency_id), body.credit_code),
    )


@command(agencies, "/{agency_id}/qualification")
async def change_agency_qualification(agency_id: UUID, body: QualificationChange, ctx: CommandDep) -> CommandResult:
    """资格 suspended, reinstated or revoked (final) by finance, with its reason: an agency not qualified is not
    commissioned."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.change_agency_qualification(
            act, _agency_name(ctx.ledger, agency_id), body.qualification
        ),
    )


@command(agencies, "/{agency_id}/quality-reviews", created=True)
async def review_agency_quality(agency_id: UUID, body: QualityReview, ctx: CommandDep) -> CommandResult:
    """工作质量考核 by finance of one engagement that exists, commissioned to the agency (a key evaluation of the
    project, or an overall evaluation), once each: a low score is a warning, and the ruleset's number of warnings in
    its window bar the agency."""
    overall = body.overall_engagement
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.review_agency_quality(
            act,
            _agency_name(ctx.ledger, agency_id),
            body.project_id,
            body.evaluation_id,
            body.score,
            body.notes,
            overall=None
            if overall is None
            else (_organisation_name(ctx.ledger, overall.organisation_id), overall.fiscal_year, overall.evaluation_no),
        ),
        location=lambda w: f"/objects/{agency_id}/history",
    )


@command(agencies, "/{agency_id}/misconduct", created=True)
async def record_misconduct(agency_id: UUID, body: MisconductRecord, ctx: CommandDep) -> CommandResult:
    """失信行为 recorded by finance, with its evidence: falsification, untrue results, other — naming the engagements
    it concerns, whose scores a blacklisting citing it voids."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.record_misconduct(
            act,
            _agency_name(ctx.ledger, agency_id),
            body.kind,
            body.description,
            [(item.project_id, item.evaluation_id) for item in body.engagements],
            [
                (_organisation_name(ctx.ledger, item.organisation_id), item.fiscal_year, item.evaluation_no)
                for item in body.overall_engagements
            ],
        ),
        location=lambda w: f"/objects/{agency_id}/history",
    )


@command(agencies, "/{agency_id}/blacklisting", created=True)
async def blacklist_agency(agency_id: UUID, body: Blacklisting, ctx: CommandDep) -> CommandResult:
    """列入失信黑名单 for the ruleset's period, always published; requires recorded misconduct; bars commissioning until
    it ends, and voids the agency's unfinished evaluations and the scores the misconduct cited names."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.blacklist_agency(
            act, _agency_name(ctx.ledger, agency_id), list(body.misconduct_nos), body.public
        ),
        location=lambda w: "/blacklist",
    )


@command(agencies, "/{agency_id}/blacklisting/lift")
async def lift_blacklisting(agency_id: UUID, body: BlacklistLift, ctx: CommandDep) -> CommandResult:
    """Lifted on appeal (申诉), with the reason."""
    return await run(ctx, body, lambda act: ctx.ledger.lift_blacklisting(act, _agency_name(ctx.ledger, agency_id)))


@blacklist_router.get("", responses=QUERY_PROBLEMS)
@downloadable("blacklist", "失信黑名单", "Agency blacklist")
def get_blacklist(
    conn: ReadConn,
    principal: PrincipalDep,
    ledger: LedgerDep,
    current: Annotated[bool, Query(description="Only entries in force today")] = False,
) -> list[BlacklistEntry]:
    """失信黑名单, current and past, with what a credit platform (信用青海) takes: name, 统一社会信用代码, conduct,
    deciding authority, start and end. Public: no token needed, public entries only (`/blacklist.csv` too)."""
    public_only = principal.role not in (Role.FINANCE, Role.AUDITOR)
    rows = blacklist.blacklist(conn, today=ledger.today(), public_only=public_only, current_only=current)
    return [BlacklistEntry.model_validate(row) for row in rows]
