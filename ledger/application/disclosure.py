"""Disclosure's use cases (信息公开, :mod:`ledger.domain.disclosure`): an organisation discloses its overall goals, and
the duties other acts open — read here, recorded with those acts.

A duty opens with the act that makes it owed, in the same transaction: finance's approval of overall goals opens the
organisation's duty to disclose them (:func:`overall_goals_duty`); the first project goals approved in a fiscal year,
and the first results applied, open finance's duty to submit them to the congress (:func:`congress_duty`). Two such
first acts racing in two processes on one year: one of them is answered 409 ``version-conflict`` and succeeds when
retried (the duty then exists).
"""

from __future__ import annotations

from uuid import UUID

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for
from ledger.domain import rules
from ledger.domain.disclosure import (
    KIND_ZH,
    DisclosureDuty,
    DutyKind,
    congress_duty_id,
    duty_id,
    overall_goals_content,
)
from ledger.domain.errors import RuleViolation
from ledger.domain.overall import OrganisationKind, OverallGoals, overall_goals_id
from ledger.domain.values import Attribution, fiscal_year, text


def _opened(ledger: LedgerCore, aggregate_id: UUID) -> bool:
    """Whether the duty is recorded — or decided earlier in this thread's group, not yet recorded."""
    group = ledger.groups.current()
    return (group is not None and aggregate_id in group.aggregates) or ledger.exists(aggregate_id)


def _opening(act: Act, what: str) -> Attribution:
    """The act that opens a duty, as the duty's opening records it: who and when, saying which duty."""
    return Attribution(act.principal, act.effective_on, f"{what}: 义务自本行为起产生 (owed from this act)")


def congress_duty(ledger: LedgerCore, year: int, what: str, act: Act) -> list[DisclosureDuty]:
    """The duty to submit ``what`` (goals, results) of ``year`` to the congress, opened by ``act`` — or nothing, if
    it is already open."""
    if _opened(ledger, congress_duty_id(year, what)):
        return []
    _, version = ledger._rules()
    kind = KIND_ZH[f"congress_{what}"]
    return [DisclosureDuty.open_for_congress(what, year, version, _opening(act, f"{year}年度{kind}"))]


def overall_goals_duty(ledger: LedgerCore, goals: OverallGoals, act: Act) -> list[DisclosureDuty]:
    """Once finance approves ``goals``, the organisation's duty to disclose them, due the ruleset's
    ``goals_disclosure_days`` after the approval (the ruleset in force now: a later one does not move it)."""
    if not goals.approved or _opened(ledger, duty_id(DutyKind.OVERALL_GOALS, goals.fiscal_year, goals.organisation)):
        return []
    params, version = ledger._rules()
    return [
        DisclosureDuty.open_for_organisation(
            DutyKind.OVERALL_GOALS,
            goals.organisation,
            goals.department,
            goals.fiscal_year,
            goals.id,
            rules.goals_disclosure_due(act.effective_on, params),
            version,
            _opening(act, f"{goals.organisation}{goals.fiscal_year}年度{KIND_ZH[DutyKind.OVERALL_GOALS]}"),
        )
    ]


class DisclosureUseCases(LedgerCore):
    """信息公开 of overall goals; the duties, read."""

    def disclosure_duty(self, did: UUID) -> DisclosureDuty:
        return self._read(DisclosureDuty, did, "disclosure-duty-not-found")

    @use_case
    def disclose_overall_goals(self, act: Act, organisation: str, year: int) -> Written:
        """部门（单位）整体绩效目标公开 by the organisation (a department for itself or its units, a unit for itself) or
        finance: once approved (409 ``overall-goals-not-approved``), once (409 ``already-decided``). Goals approved
        before disclosure was a watched duty had no duty opened: it opens as they are disclosed, due on no day."""
        self._check_date(act)
        goals = self._read(
            OverallGoals,
            overall_goals_id(text(organisation, "organisation"), fiscal_year(year)),
            "overall-goals-not-found",
        )
        unit = goals.organisation if goals.kind == OrganisationKind.UNIT else None
        require_acts_for(act, goals.department, f"disclose the overall goals of {goals.organisation}", unit=unit)
        if not goals.approved:
            raise RuleViolation(
                f"{goals.organisation} 的 {goals.fiscal_year} 年整体绩效目标未审核通过（{goals.status}）: "
                "only approved overall goals are disclosed",
                code="overall-goals-not-approved",
            )
        content = overall_goals_content(goals.indicators)
        did = duty_id(DutyKind.OVERALL_GOALS, goals.fiscal_year, goals.organisation)
        if not self.exists(did):
            _, version = self._rules()
            duty = DisclosureDuty.open_for_organisation(
                DutyKind.OVERALL_GOALS,
                goals.organisation,
                goals.department,
                goals.fiscal_year,
                goals.id,
                None,
                version,
                act.by,
            )
            duty.disclose(content, act.by)
            return self._commit_new(duty, act=act)
        with self._changing(DisclosureDuty, did, "disclosure-duty-not-found", act) as duty:
            duty.disclose(content, act.by)
            return self.commit(duty, act=act)
