"""Disclosure as duties (信息公开): every duty to disclose — a project's goals and results, an organisation's overall
goals — and finance's submissions to the congress, with their due days and how they were met (read model
``disclosure``); an organisation discloses its overall goals. The public reads what was disclosed, and only that."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from api.auth import PrincipalDep
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep, ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.common import CommandResult
from api.schemas.disclosure import DisclosurePublic, DisclosureRow, OverallGoalsDisclosure
from ledger.application import Ledger
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.organisations import Department, Unit
from ledger.domain.values import Principal, Role, key
from projections.disclosure import DisclosureFilter, disclosures

router = APIRouter(prefix="/disclosures", tags=["disclosure"], route_class=LedgerRoute)

SEES_ALL = frozenset({Role.FINANCE, Role.AUDITOR})
KIND_PATTERN = "^(project_goals|project_results|overall_goals|overall_results|congress_goals|congress_results)$"
FiscalYear = Annotated[int, Path(ge=2000, le=2100, description="The fiscal year the goals are for")]


def _organisation(ledger: Ledger, organisation_id: UUID) -> str:
    """The name of the department or budget unit registered under ``organisation_id``."""
    organisation = ledger.object(organisation_id)
    if not isinstance(organisation, Department | Unit):
        raise NotFound(f"{organisation_id} is not a department or a budget unit", code="department-not-found")
    return organisation.name


@command(router, "/overall-goals/{organisation_id}/{fiscal_year}", created=True)
async def disclose_overall_goals(
    organisation_id: UUID, fiscal_year: FiscalYear, body: OverallGoalsDisclosure, ctx: CommandDep
) -> CommandResult:
    """整体绩效目标公开 by the organisation (a department for itself or its units, a unit for itself) or finance: the
    approved indicators become public (409 ``overall-goals-not-approved`` before, 409 ``already-decided`` twice);
    after the ruleset's ``goals_disclosure_days`` from the approval it is recorded late."""
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.disclose_overall_goals(act, _organisation(ctx.ledger, organisation_id), fiscal_year),
        location=lambda w: f"/disclosures?object_id={w.aggregate_id}",
    )


def _scope(principal: Principal, organisation: str | None) -> tuple[str | None, bool]:
    """(the organisation a reader is confined to, whether it reads as the public: the public and agencies)."""
    if principal.role in SEES_ALL:
        return organisation, False
    if principal.role == Role.DEPARTMENT:
        own = principal.organisation
        if organisation is not None and key(organisation) != key(own):
            raise Forbidden(f"{own} reads only its own disclosures", code="not-own-department")
        return own, False
    return organisation, True


@router.get("", responses=QUERY_PROBLEMS)
@downloadable("disclosure", "信息公开", "Disclosures")
def list_disclosures(
    conn: ReadConn,
    principal: PrincipalDep,
    ledger: LedgerDep,
    organisation: Annotated[
        str | None, Query(max_length=200, description="Of this department (its units' too) or unit")
    ] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
    object_id: Annotated[UUID | None, Query(description="One object's (a project's goals and results)")] = None,
    owed: Annotated[bool | None, Query(description="Still owed (true) or met (false)")] = None,
    late: Annotated[bool | None, Query(description="Met after the day it was due by")] = None,
    overdue: Annotated[bool | None, Query(description="Still owed and past its due day today")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[DisclosureRow] | list[DisclosurePublic]:
    """信息公开: each duty to disclose or to submit to the congress, its due day, the scheduler's notices, when and by
    whom it was met and whether late. Finance and auditors read every one; a department its own and its units', a
    unit its own (not the congress's). The public (and agencies) read what was disclosed, and only that: the
    content, never what was not disclosed — and filter only on what they can see (``owed``, ``late``, ``overdue``:
    403 ``role-not-allowed``)."""
    scoped, public = _scope(principal, organisation)
    if public:
        for name, value in (("owed", owed), ("late", late), ("overdue", overdue)):
            if value is not None:
                raise Forbidden(
                    f"{name} is not disclosed: the public reads what was disclosed, and only that",
                    code="role-not-allowed",
                    field=f"query.{name}",
                )
    where = DisclosureFilter(ledger.today(), scoped, fiscal_year, kind, owed, late, overdue, object_id, public=public)
    rows = disclosures(conn, where, limit=limit)
    if public:
        return [DisclosurePublic.model_validate(row) for row in rows]
    return [DisclosureRow.model_validate(row) for row in rows]
