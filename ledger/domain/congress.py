"""Finance's submissions to the people's congress (报送人大): a fiscal year's performance goals with the budget draft
(随同预算草案), its results with the final accounts (随同决算草案) — one event listing what was submitted.

Each project listed must be of the year and have what is submitted: approved goals (rated 优 or 良), or results (an
evaluation recorded). The submission is due by the ruleset's ``congress_goals_due`` / ``congress_results_due`` of the
year; one made after it is recorded as late (``late``), not refused: the congress still receives it. One submission of
each kind a year: its id follows from the year and the kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, preparation_opens, require_not_before
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.project import Project
from ledger.domain.project_values import Disclosure
from ledger.domain.values import Attribution, Grade, enum_value


def submission_id(fiscal_year: int, what: str) -> UUID:
    return keyed_id("congress-submission", fiscal_year, what)


def congress_due(fiscal_year: int, what: str, params: rules.RuleParameters) -> date:
    """The day the ruleset says ``what`` (goals or results) of ``fiscal_year`` is due at the congress."""
    if what == Disclosure.GOALS.value:
        return rules.congress_goals_due(fiscal_year, params)
    return rules.congress_results_due(fiscal_year, params)


class CongressSubmission(LedgerAggregate):
    """绩效目标随预算草案 / 评价结果随决算草案报送人大, for one fiscal year."""

    TOPIC_MODULE = "ledger.congress"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        fiscal_year: int
        what: str
        projects: list[UUID]
        due_on: date
        late: bool

    class Submitted(LedgerAggregate.Created):
        """报送人大: the projects whose goals (or results) were submitted, the due date and whether it was late."""

        fiscal_year: int
        what: str
        projects: list[UUID]
        codes: list[str]
        due_on: date
        late: bool
        ruleset_version: int

        def apply(self, submission: CongressSubmission) -> None:
            submission.fiscal_year = self.fiscal_year
            submission.what = self.what
            submission.projects = list(self.projects)
            submission.due_on = self.due_on
            submission.late = self.late

    @classmethod
    def submit(
        cls,
        fiscal_year: int,
        what: str,
        projects: Sequence[Project],
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> CongressSubmission:
        kind = enum_value(Disclosure, what, "what").value
        if not projects:
            raise InvalidInput("list the projects submitted", field="project_ids")
        if len({project.id for project in projects}) != len(projects):
            raise InvalidInput("a project is listed twice", field="project_ids")
        require_not_before(by.effective_on, preparation_opens(fiscal_year), f"the preparation of {fiscal_year} opened")
        for project in projects:
            if project.fiscal_year != fiscal_year:
                raise InvalidInput(f"{project.code} is of fiscal year {project.fiscal_year}", field="project_ids")
            if kind == Disclosure.GOALS.value and project.goals_rating not in (Grade.EXCELLENT, Grade.GOOD):
                raise RuleViolation(f"{project.code} has no approved goals to submit", code="goals-not-approved")
            if kind == Disclosure.RESULTS.value and project.evaluation_basis() is None:
                raise RuleViolation(f"{project.code} has no results to submit", code="no-results")
        due = congress_due(fiscal_year, kind, params)
        return cls._create(
            cls.Submitted,
            id=submission_id(fiscal_year, kind),
            **by.event_fields(),
            fiscal_year=fiscal_year,
            what=kind,
            projects=[project.id for project in projects],
            codes=[project.code for project in projects],
            due_on=due,
            late=by.effective_on > due,
            ruleset_version=ruleset_version,
        )
