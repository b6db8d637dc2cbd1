"""The key evaluation (重点评价) of a project, through the application: finance commissions it (to an agency, or does
it itself), or the project's own department commissions an agency; an agency's runs under 两审一督导 in full — its
plan and its report each submitted and reviewed (两审), finance's supervision with findings the agency answers
(一督导) — and the score, once it stands, is the project's evaluation. The rule is the project's
``commission_key_evaluation`` and the methods after it (:mod:`ledger.domain.project`)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.agencies import commissionable
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_own_department, require_role
from ledger.domain.errors import Forbidden, InvalidInput
from ledger.domain.project import Project
from ledger.domain.values import Role, reason


class KeyEvaluationUseCases(LedgerCore):
    """委托, 两审一督导, 评分: a project's key evaluation, each step by whom it belongs to."""

    @use_case
    def commission_key_evaluation(self, act: Act, pid: UUID, agency_name: str | None) -> Written:
        """重点评价 commissioned by finance (to an agency, or done itself) or by the project's own department or unit
        (部门委托第三方机构: always to an agency) — never to an agency blacklisted, barred, not qualified or tied to
        the department. An agency's runs under 两审一督导 in full."""
        require_role(act, Role.FINANCE, Role.DEPARTMENT)
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            if act.principal.role == Role.DEPARTMENT:
                require_own_department(act, project)
                if agency_name is None:
                    raise InvalidInput("a department commissions a third-party agency: name it", field="agency")
            agency = commissionable(self, act, agency_name, project.department, project.unit)
            evaluation = f"KE-{project.fiscal_year}-{project.code}-{len(project.key_evaluations) + 1}"
            project.commission_key_evaluation(
                evaluation,
                None if agency is None else str(agency.id),
                None if agency is None else agency.name,
                act.by,
                params,
            )
            return self.commit(project, act=act)

    @staticmethod
    def _require_commissioned(act: Act, project: Project, evaluation_id: str) -> None:
        """The act's principal is the agency commissioned for ``evaluation_id`` (403 ``not-commissioned`` for another
        agency, ``role-not-allowed`` for any other role)."""
        evaluation = project.key_evaluation(evaluation_id)
        require_role(act, Role.AGENCY)
        if evaluation["agency_name"] is None or not act.principal.acts_for(evaluation["agency_name"]):
            raise Forbidden(
                f"{act.principal.organisation} was not commissioned for {evaluation_id}", code="not-commissioned"
            )

    @use_case
    def submit_key_evaluation(self, act: Act, pid: UUID, evaluation_id: str, what: str) -> Written:
        """两审一督导: the commissioned agency submits its evaluation plan (评价方案) or its report (评价报告)."""
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_commissioned(act, project, evaluation_id)
            if what == "plan":
                project.submit_key_evaluation_plan(evaluation_id, params, act.by)
            elif what == "report":
                project.submit_key_evaluation_report(evaluation_id, params, act.by)
            else:
                raise InvalidInput("submit what: plan or report", field="what")
            return self.commit(project, act=act)

    @use_case
    def review_key_evaluation(self, act: Act, pid: UUID, evaluation_id: str, what: str, approved: bool) -> Written:
        """两审: finance reviews the agency's plan or its report (a rejection with its reason)."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            if what == "plan":
                project.review_key_evaluation_plan(evaluation_id, approved, act.by, params)
            elif what == "report":
                project.review_key_evaluation_report(evaluation_id, approved, act.by, params)
            else:
                raise InvalidInput("review what: plan or report", field="what")
            return self.commit(project, act=act)

    @use_case
    def note_key_evaluation_supervision(
        self, act: Act, pid: UUID, evaluation_id: str, notes: str, findings: list[str] | None = None
    ) -> Written:
        """一督导: finance supervises the evaluation, with findings (督导意见) the agency answers."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            # The ruleset only where an answer falls due: an evaluation under the full procedure.
            full = project.key_evaluation(evaluation_id).get("procedure") is not None
            project.supervise_key_evaluation(
                evaluation_id,
                reason(notes, "notes"),
                [reason(item, f"findings[{i}]", required=True) for i, item in enumerate(findings or [])],
                act.by,
                self._rules()[0] if full else None,
            )
            return self.commit(project, act=act)

    @use_case
    def answer_key_evaluation_supervision(
        self, act: Act, pid: UUID, evaluation_id: str, supervision_no: int, answer: str
    ) -> Written:
        """The commissioned agency answers a supervision's findings (督导意见回复)."""
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_commissioned(act, project, evaluation_id)
            project.answer_key_evaluation_supervision(
                evaluation_id, supervision_no, reason(answer, "answer", required=True), act.by
            )
            return self.commit(project, act=act)

    @use_case
    def score_key_evaluation(self, act: Act, pid: UUID, evaluation_id: str, scores: Mapping[str, object]) -> Written:
        """The commissioned agency (or finance, when it evaluates itself) records the score."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            evaluation = project.key_evaluation(evaluation_id)
            if evaluation["agency_name"] is None:
                require_role(act, Role.FINANCE)
            else:
                self._require_commissioned(act, project, evaluation_id)
            project.score_key_evaluation(evaluation_id, inputs.scores(scores), params, version, act.by)
            return self.commit(project, act=act)
