"""Finance's submissions to the people's congress (:mod:`ledger.domain.congress`): goals with the budget draft,
results with the final accounts, one event listing what was submitted."""

from __future__ import annotations

from uuid import UUID

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_role
from ledger.domain.congress import CongressSubmission, submission_id
from ledger.domain.disclosure import DisclosureDuty, congress_duty_id
from ledger.domain.project_values import Disclosure
from ledger.domain.values import Role, enum_value, fiscal_year


class CongressUseCases(LedgerCore):
    """报送人大 by finance."""

    @use_case
    def submit_to_congress(self, act: Act, year: int, what: str, project_ids: list[UUID]) -> Written:
        """绩效目标随预算草案 / 评价结果随决算草案报送人大 by finance: the year's projects listed, each checked."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        kind = enum_value(Disclosure, what, "what").value
        checked_year = fiscal_year(year)
        self._refuse_existing((submission_id(checked_year, kind),), f"the {kind} submission of {checked_year}")
        projects = [self.project(pid) for pid in project_ids]
        params, version = self._rules()
        submission = CongressSubmission.submit(checked_year, kind, projects, params, version, act.by)
        did = congress_duty_id(checked_year, kind)
        if not self.exists(did):  # a year whose goals (results) came before the duty was watched
            return self._commit_new(submission, act=act)
        with self._changing(DisclosureDuty, did, "disclosure-duty-not-found", act) as duty:
            duty.fulfil(submission.id, submission.due_on, act.by)  # the duty met: the scheduler's notices stop
            return self.commit(submission, duty, act=act)
