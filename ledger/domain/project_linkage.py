"""Results into budgets (绩效结果与预算安排挂钩): a project continuing an earlier one is funded within what the
earlier project's result decision allows, unless finance records an override with its reason.

What a decision allows, read from the earlier project's recorded events only:

- 取消/暂停 (``cancel``): nothing; the approval is refused.
- 调减 (``reduce``): at most the ``next_year_budget`` recorded with the decision (the earlier approved amount less the
  ruleset's ``reduce_rate`` in force when the results were applied; a later ruleset does not change it).
- 整改后再安排 (``rectify_first``): funded once the earlier project's rectifications are accepted — at least one
  required and accepted, none still open.
- 优先保障 (``prioritise``) and 合理保障 (``maintain``): no cap; the approval records the decision as such.
- Whatever the decision, a policy finance decided to terminate (政策调整: 终止) is not funded again; a policy continued
  or adjusted is funded as its result decision allows, the 政策调整 recorded beside it.

The approval records what it read (:func:`linkage`: the earlier project's id and version, its decision, grade and
cap, and whether the amount was within it), so replaying the log never asks the earlier project again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.domain.base import require_not_before
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.project_state import ProjectState
from ledger.domain.rules import PolicyDecision, ResultApplication
from ledger.domain.values import Attribution, key


def require_continuable(earlier: ProjectState, department: str, fiscal_year: int, by: Attribution) -> None:
    """A project of ``department`` in ``fiscal_year`` may continue ``earlier``: of the same department, of an earlier
    fiscal year, with its results applied (and the declaration not dated before they were)."""
    if key(earlier.department) != key(department):
        raise RuleViolation(
            f"project {earlier.code} of {earlier.fiscal_year} is of {earlier.department}, not of {department}",
            code="continuation-other-department",
        )
    if earlier.fiscal_year >= fiscal_year:
        raise RuleViolation(
            f"project {earlier.code} is of {earlier.fiscal_year}: a project of {fiscal_year} continues only one of an "
            "earlier year",
            code="continuation-not-earlier",
        )
    if earlier.results is None:
        raise RuleViolation(
            f"project {earlier.code} of {earlier.fiscal_year} has no results applied: nothing to continue on",
            code="continuation-without-results",
        )
    require_results_applied(earlier, by)


def require_results_applied(earlier: ProjectState, by: Attribution) -> None:
    """What rests on the earlier result is not dated before it was applied (a result of a snapshot taken before the
    date was kept bounds nothing)."""
    assert earlier.results is not None
    require_not_before(
        by.effective_on,
        earlier.results.get("applied_on"),
        f"the results of {earlier.code} of {earlier.fiscal_year} were applied",
    )


def linkage(earlier: ProjectState, amount: Decimal) -> dict[str, Any]:
    """What the earlier project's result decision allows a continuation approved at ``amount``: ``allowed`` False
    with the ``refusal`` code (and why, ``detail``) when it does not."""
    results = earlier.results
    assert results is not None  # checked when the continuation was declared, and results are never withdrawn
    decision = ResultApplication(results["decision"])
    cap: Decimal | None = results["next_year_budget"] if decision is ResultApplication.REDUCE else None
    accepted = [item["no"] for item in earlier.rectifications if item["status"] == "accepted"]
    still_open = [item["no"] for item in earlier.rectifications if item["status"] != "accepted"]
    refusal, detail = None, ""
    policy = None if earlier.policy_decision is None else earlier.policy_decision["decision"]
    if decision is ResultApplication.CANCEL:
        refusal, detail = "continuation-cancelled", "the earlier result decision is 取消 (cancel)"
    elif policy == PolicyDecision.TERMINATE:
        refusal, detail = "continuation-policy-terminated", "政策调整: the policy was terminated (终止)"
    elif cap is not None and amount > cap:
        refusal, detail = "continuation-over-cap", f"调减: {amount} is above the cap of {cap}"
    elif decision is ResultApplication.RECTIFY_FIRST and (still_open or not accepted):
        what = f"rectifications {', '.join(map(str, still_open))} still open" if still_open else "none accepted"
        refusal, detail = "continuation-rectification-open", f"整改后再安排: {what}"
    return {
        "earlier": str(earlier.id),
        "earlier_version": earlier.version,
        "earlier_code": earlier.code,
        "earlier_fiscal_year": earlier.fiscal_year,
        "decision": decision.value,
        "grade": results["grade"],
        "earlier_approved": earlier.approved_amount,
        "cap": cap,
        "rectifications_accepted": accepted,
        "rectifications_open": still_open,
        "priority": decision is ResultApplication.PRIORITISE,
        "policy_decision": policy,
        "allowed": refusal is None,
        "refusal": refusal,
        "detail": detail,
    }


def require_allowed(link: dict[str, Any] | None, override: bool, by: Attribution) -> None:
    """The approval goes ahead within what the earlier result allows, or beyond it as finance's override with a
    reason; an override where nothing is overridden is refused (every recorded override departs from a result)."""
    if override:
        if link is None or link["allowed"]:
            raise RuleViolation(
                "nothing to override: the project continues no earlier one, or its result allows this amount",
                code="override-not-needed",
            )
        if not by.reason.strip():
            raise InvalidInput(
                "an override of the earlier result decision must give its reason",
                code="reason-required",
                field="reason",
            )
        return
    if link is not None and not link["allowed"]:
        raise RuleViolation(
            f"project {link['earlier_code']} of {link['earlier_fiscal_year']}: {link['detail']}", code=link["refusal"]
        )
