"""Commissioning an evaluation to a third-party agency (委托第三方机构): who may be commissioned, for a project's key
evaluation (:mod:`.projects`) and for an organisation's overall evaluation (:mod:`.overall`) alike; and one agency per
统一社会信用代码 (:func:`commit_with_credit_code`)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore
from ledger.domain.agencies import Agency
from ledger.domain.base import require_not_before
from ledger.domain.credit_codes import CreditCodeIndex, credit_code_id
from ledger.domain.errors import NotFound, RuleViolation, VersionConflict
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


# ------------------------------------------------------------------------------------------------ credit codes


def commit_with_credit_code(ledger: LedgerCore, agency: Agency, act: Act, *, new: bool) -> Written:
    """Save ``agency``, just registered (``new``) or given its code, with the credit-code index entry of its code in
    the same atomic save (:mod:`ledger.domain.credit_codes`): refused with 409 ``credit-code-taken``, naming the
    holder, if another agency holds the code — by the index, or by an event recorded before the index existed — or
    took it meanwhile (the index's creation collides in the log); ``already-exists`` if the agency itself was
    registered meanwhile."""
    code = agency.credit_code
    assert code is not None  # registered with one, or just given one
    refuse_taken_credit_code(ledger, code, agency.id)
    index = CreditCodeIndex.claim(code, agency.name, agency.id, act.by)
    try:
        return ledger.commit(agency, index, act=act)
    except VersionConflict:
        refuse_taken_credit_code(ledger, code, agency.id)  # the index was created first by another claim
        if new:
            raise RuleViolation(f"agency {agency.name} already exists", code="already-exists") from None
        raise


def refuse_taken_credit_code(ledger: LedgerCore, code: str, agency_id: UUID) -> None:
    """409 ``credit-code-taken`` if an agency other than ``agency_id`` holds ``code`` (canonical), as the log says."""
    holder = credit_code_holder(ledger, code, agency_id)
    if holder is not None:
        raise RuleViolation(
            f"统一社会信用代码 {code} 已由{holder}登记; the credit code {code} is held by {holder}",
            code="credit-code-taken",
            field="credit_code",
        )


def credit_code_holder(ledger: LedgerCore, code: str, agency_id: UUID | None = None) -> str | None:
    """The name of the agency (other than ``agency_id``) holding the credit code ``code`` (canonical), from the log:
    its index entry, or — for a code recorded before the index existed, which has none — the agency whose
    registration or ``CreditCodeRecorded`` stored it. Reads the log with SQL, so it runs outside a command group."""
    ledger.groups.alone()
    entry = credit_code_id(code)
    if ledger.exists(entry):
        index = ledger._read(CreditCodeIndex, entry, "credit-code-not-found")
        return None if index.agency_id == agency_id else index.agency
    topics = (get_topic(Agency.Registered), get_topic(Agency.CreditCodeRecorded))
    for holder in ledger.reads.originators_with_credit_code(topics, code):
        if holder != agency_id:
            return ledger._read(Agency, holder, "agency-not-found").name
    return None
