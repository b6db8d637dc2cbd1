"""Results into budgets (绩效结果与预算挂钩): GET /budget-linkage, each continuation beside the earlier result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.dependencies import require
from api.body import LedgerRoute
from api.deps import ReadConn
from api.downloads import downloadable
from api.problems import QUERY_PROBLEMS
from api.schemas.linkage import BudgetLinkageRow
from ledger.domain.values import Principal, Role
from projections.budget_linkage import budget_linkage

router = APIRouter(tags=["queries"], route_class=LedgerRoute)

LinkageReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT))]


@router.get("/budget-linkage", responses=QUERY_PROBLEMS)
@downloadable("budget_linkage", "绩效结果与预算挂钩", "Performance results and budgets")
def continuations(
    conn: ReadConn,
    principal: LinkageReader,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    overrides: Annotated[bool, Query(description="Only the approvals finance overrode")] = False,
) -> list[BudgetLinkageRow]:
    """绩效结果与预算挂钩: each project continuing an earlier one, beside the earlier result decision, what it allowed
    (取消 refused, 调减 cap, 整改后再安排), the approved amount, and finance's overrides with their reasons. Finance
    and auditors read all; a department its own (its units' included), a budget unit its own."""
    organisation = principal.organisation if principal.role == Role.DEPARTMENT else None
    rows = budget_linkage(conn, organisation=organisation, fiscal_year=fiscal_year, overrides_only=overrides)
    return [BudgetLinkageRow.model_validate(row) for row in rows]
