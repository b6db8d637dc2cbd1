"""Who may do what: the role checks every use case makes of its caller before it decides anything.

The aggregates know nothing of callers; the application checks each act's principal here — its role, and for a
department the organisation it acts for — and refuses with ``Forbidden`` (403).
"""

from __future__ import annotations

from ledger.application.acts import Act
from ledger.domain.errors import Forbidden
from ledger.domain.project import Project
from ledger.domain.values import Role


def require_role(act: Act, *roles: Role) -> None:
    """The act's principal holds one of ``roles``."""
    if act.principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise Forbidden(f"role {act.principal.role} may not do this (allowed: {allowed})", code="role-not-allowed")


def require_own_department(act: Act, project: Project, *, finance_too: bool = False) -> None:
    """The act's principal is the project's own department (or, with ``finance_too``, finance)."""
    allowed = (Role.DEPARTMENT, Role.FINANCE) if finance_too else (Role.DEPARTMENT,)
    require_role(act, *allowed)
    if act.principal.role == Role.DEPARTMENT and not act.principal.acts_for(project.department):
        raise Forbidden(
            f"{act.principal.organisation} may not act on a project of {project.department}", code="not-own-department"
        )


def require_acts_for(act: Act, organisation: str, what: str) -> None:
    """A department's principal acts for ``organisation`` (finance may act for any): else ``what`` is refused."""
    require_role(act, Role.DEPARTMENT, Role.FINANCE)
    if act.principal.role == Role.DEPARTMENT and not act.principal.acts_for(organisation):
        raise Forbidden(f"{act.principal.organisation} may not {what}", code="not-own-department")
