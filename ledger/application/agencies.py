"""Commissioning an evaluation to a third-party agency (委托第三方机构): who may be commissioned, for a project's key
evaluation (:mod:`.projects`) and for an organisation's overall evaluation (:mod:`.overall`) alike."""

from __future__ import annotations

from ledger.application.acts import Act
from ledger.application.core import LedgerCore
from ledger.domain.agencies import Agency
from ledger.domain.base import require_not_before
from ledger.domain.errors import NotFound, RuleViolation
from ledger.domain.values import key


def commissionable(
    ledger: LedgerCore, act: Act, agency_name: str | None, department: str, unit: str | None
) -> Agency | None:
    """The agency commissioned to evaluate ``department`` (or its budget unit ``unit``), or None where finance
    evaluates itself: never a blacklisted agency, nor one barred after repeated quality warnings (暂停承接), nor one
    whose qualification (资格) is suspended or revoked, nor one registered after the date stated, nor one tied to what
    it evaluates (回避)."""
    if agency_name is None:
        return None
    agency = ledger.agency(agency_name)
    # A blacklisting in force when the command is recorded bars it whatever date it states, and so does one in force
    # on the date it states (a commissioning backdated into a blacklisting since ended).
    if agency.is_blacklisted(ledger.today()) or agency.is_blacklisted(act.effective_on):
        raise RuleViolation(f"{agency.name} is blacklisted", code="agency-blacklisted")
    if not agency.is_qualified:
        raise RuleViolation(f"{agency.name}'s qualification is {agency.qualification}", code="agency-not-qualified")
    bar = agency.bar_on(ledger.today()) or agency.bar_on(act.effective_on)
    if bar is not None:
        raise RuleViolation(f"{agency.name} is barred until {bar['until']}", code="agency-barred")
    require_not_before(act.effective_on, agency.registered_on, f"{agency.name} was registered")
    if tied(ledger, agency, department, unit):
        raise RuleViolation(
            f"{agency.name} is tied to {unit or department} and must recuse (回避)", code="conflict-of-interest"
        )
    return agency


def tied(ledger: LedgerCore, agency: Agency, department: str, unit: str | None) -> bool:
    """回避: the agency is (or belongs to) the department or the unit evaluated — or a unit of the department, which is
    a part of it."""
    ties = {key(agency.name), key(agency.affiliation or agency.name)}
    if ties & {key(department), key(unit or department)}:
        return True
    for name in ties:
        try:
            if ledger.unit(name).belongs_to(department):
                return True
        except NotFound:
            continue
    return False
