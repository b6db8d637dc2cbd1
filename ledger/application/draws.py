"""The re-evaluation draw's use cases (财政再评价抽查): announced by finance, contributed to by the audit office,
revealed by finance (:mod:`ledger.domain.draw`), and the re-evaluation commissioned to an agency.

The draw replaces the single-party one of the first releases, where finance chose the seed: a reproducible draw,
but one whose drawer could try seeds until a project fell out of the sample. Its ``Drawn`` events replay as they
were; no command records one any more.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application.acts import Act, Written
from ledger.application.agencies import commissionable
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_role
from ledger.domain import rules
from ledger.domain.base import require_not_before
from ledger.domain.draw import ReEvaluationSample, sample_id
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation, VersionConflict
from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import Role, fiscal_year, text


def require_not_in_open_draw(ledger: LedgerCore, project: Project, what: str) -> None:
    """A project in the population of a draw announced and not yet revealed (or failed) is not settled — its results
    applied, its file closed — before the draw says whether it is drawn: finance, holding the secret, could otherwise
    compute the selection and settle a project before revealing it."""
    try:
        sample = ledger._read(ReEvaluationSample, sample_id(project.fiscal_year), "sample-not-found")
    except NotFound:  # no draw of the year yet
        return
    if str(project.id) in sample.pending_population():
        draw = sample.current
        assert draw is not None
        raise RuleViolation(
            f"project {project.code} is in draw {draw['no']} of {project.fiscal_year}, open until "
            f"{draw['reveal_by']}: {what} waits for the draw",
            code="draw-pending",
        )


class DrawUseCases(LedgerCore):
    """抽查公告, 审计随机数, 揭示; 委托第三方再评价."""

    def re_evaluation_sample(self, year: int) -> ReEvaluationSample:
        return self._read(ReEvaluationSample, sample_id(fiscal_year(year)), "sample-not-found")

    def _draw_population(self, year: int) -> list[str]:
        """The year's self-evaluated projects that can still be re-evaluated (a closed file is not reopened)."""
        found = self.reads.originators_of_year(get_topic(Project.SelfEvaluated), get_topic(Project.Declared), year)
        population = [str(pid) for pid in found if self.project(pid).stage != Stage.CLOSED.value]
        if not population:
            raise RuleViolation(f"no self-evaluated projects in {year} to sample", code="self-evaluation-missing")
        return population

    @use_case
    def draw_re_evaluation_sample(
        self, act: Act, year: int, *, seed: str | None = None, size: int | None = None
    ) -> Written:
        """The single-party draw of the first releases, where finance chose the seed: retired, since whoever draws
        could try seeds until a project fell out of the sample. Refused (``draw-retired``) for finance, naming the
        two-party draw that replaces it; its recorded samples stay as they were."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        raise RuleViolation(
            "the single-party draw is retired: announce a two-party draw (POST /re-evaluation-samples/{year}/"
            "announcement with the SHA-256 of a secret), the audit office contributes, finance reveals",
            code="draw-retired",
        )

    @use_case
    def announce_re_evaluation_draw(self, act: Act, year: int, commitment: str, size: int | None = None) -> Written:
        """抽查公告 by finance: the commitment to its secret (SHA-256, hex), the population fixed now, the size
        (default: the ruleset's rate, rounded up); the reveal is due ``draw_reveal_working_days`` working days later."""
        self.groups.alone()  # the population is read from the log
        require_role(act, Role.FINANCE)
        self._check_date(act)
        year = fiscal_year(year)
        require_not_before(act.effective_on, date(year, 12, 1), f"the first self-evaluation of {year} could be made")
        digest = rules.commitment_digest(commitment)
        params, version = self._rules()
        calendar = self.working_days()
        days = (calendar.holidays, calendar.working_weekends, calendar.version)
        population = self._draw_population(year)
        if self.exists(sample_id(year)):
            with self._changing(ReEvaluationSample, sample_id(year), "sample-not-found", act) as sample:
                sample.announce_again(population, digest, size, params, version, days, act.by)
                return self.commit(sample, act=act)
        sample = ReEvaluationSample.announce(year, population, digest, size, params, version, days, act.by)
        return self._commit_new(sample, act=act)

    @use_case
    def contribute_to_re_evaluation_draw(self, act: Act, year: int, contribution: str) -> Written:
        """审计随机数: the audit office's own random bytes (hex, at least 32), once, after the announcement."""
        require_role(act, Role.AUDITOR)
        with self._changing(ReEvaluationSample, sample_id(fiscal_year(year)), "sample-not-found", act) as sample:
            sample.contribute(text(contribution, "contribution", max_length=1024), act.by)
            return self.commit(sample, act=act)

    @use_case
    def reveal_re_evaluation_draw(self, act: Act, year: int, secret: str) -> Written:
        """揭示 by finance: the secret, checked against the commitment; the seed and the sample follow, and each project
        drawn is marked for re-evaluation."""
        self.groups.alone()  # changes every project drawn
        require_role(act, Role.FINANCE)
        year = fiscal_year(year)
        secret = text(secret, "secret", max_length=1024)
        # The projects drawn are read before the sample is locked: a command on a project may read the sample while
        # it holds the project's lock (results, closing), so the sample's lock is never held waiting for a project's.
        self._check_date(act)
        selected = self.re_evaluation_sample(year).reveal(secret, act.by)  # on a copy: refusals come from here
        projects = [self.project(UUID(pid)) for pid in selected]
        with self._changing(ReEvaluationSample, sample_id(year), "sample-not-found", act) as sample:
            if sample.reveal(secret, act.by) != selected:  # the sample changed meanwhile (another reveal won)
                raise VersionConflict("the draw changed meanwhile; reload and retry", code="version-conflict")
            for project in projects:
                project.select_for_re_evaluation(str(sample.id), act.by)
            return self.commit(sample, *projects, act=act)

    @use_case
    def commission_re_evaluation(self, act: Act, pid: UUID, agency_name: str) -> Written:
        """财政再评价 of a project drawn in the sample, commissioned by finance to an agency (under the rules of any
        commissioning: no blacklisted agency, 回避), under 两审一督导 in full: its score, once it stands, is the
        re-evaluation."""
        require_role(act, Role.FINANCE)
        if not isinstance(agency_name, str) or not agency_name.strip():
            raise InvalidInput("name the agency commissioned to re-evaluate", field="agency")
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            agency = commissionable(self, act, agency_name, project.department, project.unit)
            assert agency is not None
            evaluation = f"RE-{project.fiscal_year}-{project.code}-{len(project.key_evaluations) + 1}"
            project.commission_re_evaluation(evaluation, str(agency.id), agency.name, act.by, params)
            return self.commit(project, act=act)
