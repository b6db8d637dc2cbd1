"""Who may do what: the role checks every use case makes of its caller before it decides anything.

The aggregates know nothing of callers; the application checks each act's principal here — its role, and for a
department the organisation it acts for — and refuses with ``Forbidden`` (403).

A principal of the ``department`` role acts for one organisation, named by its ``organisation``: a department, or one
of a department's budget units (预算单位). A unit's name is never a department's nor another unit's (the ledger refuses
the registration), so the name says which. A project belongs to its department and, if it was declared with one, to
its unit: the department's staff act for it (for every project of its units too), and the unit's staff for their
unit's projects only. What the department does as a whole (its overall goals, a project of its own) is its own staff's.
"""

from __future__ import annotations

from ledger.application.acts import Act
from ledger.domain.errors import Forbidden
from ledger.domain.project import Project
from ledger.domain.values import Principal, Role


def require_role(act: Act, *roles: Role) -> None:
    """The act's principal holds one of ``roles``."""
    if act.principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise Forbidden(f"role {act.principal.role} may not do this (allowed: {allowed})", code="role-not-allowed")


def acts_for_project(principal: Principal, project: Project) -> bool:
    """Whether ``principal`` (of the department role) acts for ``project``: its department's staff for every one,
    its unit's staff for their unit's."""
    return principal.acts_for(project.department) or principal.acts_for(project.unit)


def require_own_department(act: Act, project: Project, *, finance_too: bool = False) -> None:
    """The act's principal is the project's own department or unit (or, with ``finance_too``, finance)."""
    allowed = (Role.DEPARTMENT, Role.FINANCE) if finance_too else (Role.DEPARTMENT,)
    require_role(act, *allowed)
    if act.principal.role == Role.DEPARTMENT and not acts_for_project(act.principal, project):
        owner = project.department if project.unit is None else f"{project.unit} ({project.department})"
        raise Forbidden(f"{act.principal.organisation} may not act on a project of {owner}", code="not-own-department")


def require_acts_for(act: Act, organisation: str, what: str, *, unit: str | None = None) -> None:
    """A department's principal acts for ``organisation`` — or for ``unit``, one of its units, where the act concerns
    that unit — (finance may act for any): else ``what`` is refused."""
    require_role(act, Role.DEPARTMENT, Role.FINANCE)
    if act.principal.role == Role.DEPARTMENT and not (
        act.principal.acts_for(organisation) or act.principal.acts_for(unit)
    ):
        raise Forbidden(f"{act.principal.organisation} may not {what}", code="not-own-department")
