"""Disclosure as duties (信息公开): what each disclosure makes public, and the duties the scheduler watches.

Two kinds of duty, each opened by the act that makes it owed and met by the act that discharges it:

- **A department publishes** (预决算公开平台) its projects' approved goals and results — on the project itself
  (``Project.Disclosed``; the due day is recorded on the approval and on the results applied) — and its own and its
  units' **overall goals** once finance approves them: a :class:`DisclosureDuty` opened with the approval, due the
  ruleset's ``goals_disclosure_days`` after it (the ruleset in force then: a later one does not move it), met by
  :meth:`DisclosureDuty.disclose`. Overall results (整体绩效评价结果) are disclosed the same way once they exist:
  :data:`DutyKind.OVERALL_RESULTS` and :meth:`DisclosureDuty.open_for_organisation` are the hook.
- **Finance submits to the people's congress** (报送人大) a year's goals with the budget draft and its results with
  the final accounts: a duty per fiscal year and kind, opened by the first act that gives the year something to
  submit (the first project goals approved; the first results applied), met when the submission is recorded
  (:mod:`ledger.domain.congress`). Its due day is a yearly date (``congress_goals_due`` / ``congress_results_due``)
  and, like the project's yearly deadlines, follows the ruleset in force while it is owed; the submission records
  the day it was held to.

What the public reads is the ``content`` each disclosure records — the goal indicators and targets; the scores, grade
and result decision — built here from the object's state and nothing else (:func:`project_content`,
:func:`overall_goals_content`), so an undisclosed field cannot reach the public through a disclosure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, require_not_before
from ledger.domain.deadlines import Deadline
from ledger.domain.errors import RuleViolation
from ledger.domain.notices import ApproachingNotice, MissedNotice, NoticeOwner
from ledger.domain.project_state import ProjectState
from ledger.domain.project_values import Disclosure
from ledger.domain.values import Attribution, Indicator


class DutyKind(StrEnum):
    """The duties a :class:`DisclosureDuty` stands for (a project's own are on the project)."""

    OVERALL_GOALS = "overall_goals"  # 部门（单位）整体绩效目标公开, by the organisation
    OVERALL_RESULTS = "overall_results"  # 整体绩效评价结果公开: the hook for when overall results are recorded
    CONGRESS_GOALS = "congress_goals"  # 绩效目标随同预算草案报送人大, by finance
    CONGRESS_RESULTS = "congress_results"  # 评价结果随同决算草案报送人大, by finance


KIND_ZH: dict[str, str] = {
    "project_goals": "项目绩效目标公开",
    "project_results": "项目绩效评价结果公开",
    DutyKind.OVERALL_GOALS.value: "整体绩效目标公开",
    DutyKind.OVERALL_RESULTS.value: "整体绩效评价结果公开",
    DutyKind.CONGRESS_GOALS.value: "绩效目标随预算草案报送人大",
    DutyKind.CONGRESS_RESULTS.value: "评价结果随决算草案报送人大",
}
ORGANISATION_DUTIES = frozenset({DutyKind.OVERALL_GOALS.value, DutyKind.OVERALL_RESULTS.value})
CONGRESS_DUTIES = {Disclosure.GOALS.value: DutyKind.CONGRESS_GOALS, Disclosure.RESULTS.value: DutyKind.CONGRESS_RESULTS}


def duty_id(kind: str, fiscal_year: int, organisation: str | None = None) -> UUID:
    """One duty of a kind per fiscal year (and organisation, for an organisation's own disclosures)."""
    return keyed_id("disclosure-duty", kind, organisation or "", fiscal_year)


def congress_duty_id(fiscal_year: int, what: str) -> UUID:
    return duty_id(CONGRESS_DUTIES[what].value, fiscal_year)


def _plain(value: object) -> Any:
    """A value as plain JSON (a Decimal as its text), so the content is stored as the public reads it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def indicators_content(indicators: Sequence[Indicator]) -> list[dict[str, Any]]:
    """Goal indicators as the public reads them: the tree, the measure and the target, the weight."""
    return [
        {
            "key": item.key,
            "level1": item.level1,
            "level2": item.level2,
            "name": item.name,
            "operator": item.operator,
            "target": _plain(item.target),
            "unit": item.unit,
            "weight": _plain(item.weight),
        }
        for item in indicators
    ]


def _score(evaluation: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if evaluation is None else {"total": _plain(evaluation["total"]), "grade": evaluation["grade"]}


def project_content(project: ProjectState, what: str) -> dict[str, Any]:
    """What a disclosure of the project's goals (the indicators and targets as approved now, the approved amount) or
    results (each evaluation's score and grade, the grade results rest on, the result decision once applied) makes
    public. Nothing else of the project: not the review notes, monitoring, actuals or who evaluated."""
    if what == Disclosure.GOALS.value:
        return {"indicators": indicators_content(project.goals), "approved_amount": _plain(project.approved_amount)}
    scored = [item["score"] for item in project.key_evaluations.values() if item["score"] is not None]
    key = max(scored, key=lambda score: score["scored_at_version"]) if scored else None
    results = project.results
    return {
        "self_evaluation": _score(project.self_evaluation),
        "re_evaluation": _score(project.re_evaluation),
        "key_evaluation": _score(key),
        "basis": None if results is None else results["basis"],
        "grade": (key or project.re_evaluation or project.self_evaluation or {}).get("grade"),
        "decision": None if results is None else results["decision"],
    }


def overall_goals_content(indicators: Sequence[Indicator]) -> dict[str, Any]:
    """What disclosing an organisation's overall goals makes public: the indicators as approved now."""
    return {"indicators": indicators_content(indicators)}


def late(disclosed_on: date, due_on: date | None) -> bool | None:
    """Whether a disclosure on ``disclosed_on`` came after ``due_on`` (None: no due day was recorded)."""
    return None if due_on is None else disclosed_on > due_on


class DisclosureDuty(NoticeOwner, LedgerAggregate):
    """A duty to disclose (or submit to the congress): when it is due, whether and when it was met, its notices."""

    TOPIC_MODULE = "ledger.disclosure"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        kind: str  # DutyKind
        fiscal_year: int
        organisation: str | None  # as registered (an organisation's duty); None for the congress
        department: str | None  # the organisation's department (itself, or the unit's)
        subject_id: UUID | None  # what is disclosed (the overall goals' id), if one object
        opened_on: date
        due_on: date | None  # fixed when opened (an organisation's); None: the yearly date in force (the congress)
        met_on: date | None
        deadline_notices: dict[str, dict[str, Any]]

    class Opened(LedgerAggregate.Created):
        """The duty is owed, from the act that made it so (recorded with it)."""

        kind: str
        fiscal_year: int
        organisation: str | None
        department: str | None
        subject_id: UUID | None
        due_on: date | None
        ruleset_version: int

        def apply(self, duty: DisclosureDuty) -> None:
            duty.kind = self.kind
            duty.fiscal_year = self.fiscal_year
            duty.organisation = self.organisation
            duty.department = self.department
            duty.subject_id = self.subject_id
            duty.opened_on = self.effective_on
            duty.due_on = self.due_on
            duty.met_on = None
            duty.deadline_notices = {}

    class Disclosed(LedgerAggregate.Event):
        """信息公开 by the organisation (or finance): ``content`` is what the public reads from then on."""

        content: dict[str, Any]
        due_on: date | None
        late: bool | None

        def apply(self, duty: DisclosureDuty) -> None:
            duty.met_on = self.effective_on

    class Fulfilled(LedgerAggregate.Event):
        """报送人大 recorded (``submission_id``): the congress duty is met, on time or late."""

        submission_id: UUID
        due_on: date
        late: bool

        def apply(self, duty: DisclosureDuty) -> None:
            duty.met_on = self.effective_on

    class DeadlineApproaching(ApproachingNotice):
        """临期提醒 (raised by the scheduler)."""

    class DeadlineMissed(MissedNotice):
        """逾期: not met by its due day (raised by the scheduler)."""

    # ------------------------------------------------------------ opening

    @classmethod
    def open_for_organisation(
        cls,
        kind: DutyKind,
        organisation: str,
        department: str,
        fiscal_year: int,
        subject_id: UUID,
        due_on: date | None,
        ruleset_version: int,
        by: Attribution,
    ) -> DisclosureDuty:
        """An organisation's duty to disclose ``subject_id`` (its overall goals; its overall results, later) by
        ``due_on`` — None for one approved before disclosure was a watched duty, opened as it is disclosed."""
        if kind.value not in ORGANISATION_DUTIES:
            raise ValueError(f"{kind} is not an organisation's duty")
        return cls._open(kind, fiscal_year, organisation, department, subject_id, due_on, ruleset_version, by)

    @classmethod
    def open_for_congress(cls, what: str, fiscal_year: int, ruleset_version: int, by: Attribution) -> DisclosureDuty:
        """Finance's duty to submit ``what`` (goals, results) of ``fiscal_year`` to the congress."""
        kind = CONGRESS_DUTIES[what]
        return cls._open(kind, fiscal_year, None, None, None, None, ruleset_version, by)

    @classmethod
    def _open(
        cls,
        kind: DutyKind,
        fiscal_year: int,
        organisation: str | None,
        department: str | None,
        subject_id: UUID | None,
        due_on: date | None,
        ruleset_version: int,
        by: Attribution,
    ) -> DisclosureDuty:
        return cls._create(
            cls.Opened,
            id=duty_id(kind.value, fiscal_year, organisation),
            **by.event_fields(),
            kind=kind.value,
            fiscal_year=fiscal_year,
            organisation=organisation,
            department=department,
            subject_id=subject_id,
            due_on=due_on,
            ruleset_version=ruleset_version,
        )

    # ------------------------------------------------------------ meeting it

    def due(self, params: rules.RuleParameters) -> date | None:
        """The day it is due: fixed when opened, or, for the congress, the ruleset's yearly date (``params``)."""
        if self.kind == DutyKind.CONGRESS_GOALS:
            return rules.congress_goals_due(self.fiscal_year, params)
        if self.kind == DutyKind.CONGRESS_RESULTS:
            return rules.congress_results_due(self.fiscal_year, params)
        return self.due_on

    def _require_owed(self, by: Attribution) -> None:
        require_not_before(by.effective_on, self.opened_on, f"the duty was opened ({KIND_ZH[self.kind]})")
        if self.met_on is not None:
            raise RuleViolation(
                f"{KIND_ZH[self.kind]} of {self.fiscal_year} was already made on {self.met_on}", code="already-decided"
            )

    def disclose(self, content: dict[str, Any], by: Attribution) -> None:
        """公开: an organisation's duty met by publishing ``content``, once."""
        if self.kind not in ORGANISATION_DUTIES:
            raise ValueError(f"{self.kind} is met by a submission to the congress, not a disclosure")
        self._require_owed(by)
        self.record(self.Disclosed, by, content=content, due_on=self.due_on, late=late(by.effective_on, self.due_on))

    def fulfil(self, submission_id: UUID, due_on: date, by: Attribution) -> None:
        """报送人大 recorded: the congress duty met (held to ``due_on``, the day the submission recorded)."""
        if self.kind in ORGANISATION_DUTIES:
            raise ValueError(f"{self.kind} is met by a disclosure, not a submission")
        self._require_owed(by)
        self.record(self.Fulfilled, by, submission_id=submission_id, due_on=due_on, late=by.effective_on > due_on)

    # ------------------------------------------------------------ the scheduler

    def open_deadlines(self, params: rules.RuleParameters) -> list[Deadline]:
        """The duty while owed and due on some day."""
        due = self.due(params)
        return [] if self.met_on is not None or due is None else [Deadline(self.kind, 0, due)]
