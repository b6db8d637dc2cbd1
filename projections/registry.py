"""Every read model the ledger maintains, in the order a page is applied to them."""

from __future__ import annotations

from projections.audit_findings import AuditFindings
from projections.base import ReadModel
from projections.blacklist import Blacklist
from projections.budget_linkage import BudgetLinkage
from projections.coverage import Coverage
from projections.deadlines import Deadlines
from projections.decisions import Decisions
from projections.department_overall import DepartmentOverall
from projections.disclosure import Disclosures
from projections.documents import Documents
from projections.escalations import Escalations
from projections.project_status import ProjectStatus
from projections.ranking import DepartmentRanking
from projections.spot_checks import SpotChecks
from projections.trail import AccountabilityTrail


def read_models() -> list[ReadModel]:
    return [
        ProjectStatus(),
        AccountabilityTrail(),
        Blacklist(),
        DepartmentRanking(),
        Coverage(),
        Deadlines(),
        BudgetLinkage(),
        Decisions(),
        Disclosures(),
        DepartmentOverall(),
        SpotChecks(),
        Escalations(),
        AuditFindings(),
        Documents(),
    ]


def read_model(name: str) -> ReadModel:
    for model in read_models():
        if model.name == name:
            return model
    known = ", ".join(model.name for model in read_models())
    raise KeyError(f"no read model {name!r} (known: {known})")
