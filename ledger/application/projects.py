"""The projects' use cases (项目): from declaration through goals, budget and monitoring, to evaluation and closing.

Each is get, call, save: the caller's role is checked, the project loaded, one of its command methods called with
the caller's attribution (``act.by``), and what it recorded saved. Input arrives as plain values (JSON, CLI
arguments) and is checked here, at the edge of the domain, into the values the project's methods take.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.disclosure import congress_duty
from ledger.application.draws import require_not_in_open_draw
from ledger.application.overall import overall_goals_fact
from ledger.application.roles import require_acts_for, require_own_department, require_role
from ledger.domain import rules
from ledger.domain.base import require_not_before
from ledger.domain.errors import InvalidInput, NotFound
from ledger.domain.project import Project, project_ids
from ledger.domain.project_values import (
    CorrectiveDecision,
    Disclosure,
    EscalationDecision,
    RectificationSource,
    SpotCheckSubject,
)
from ledger.domain.values import (
    BudgetBook,
    Grade,
    Indicator,
    ProjectKind,
    Role,
    SpecialCategory,
    enum_value,
    fiscal_year,
    money,
    reason,
    text,
)


class ProjectUseCases(LedgerCore):
    """申报 to 关闭: one method per step of a project's budget-performance cycle."""

    def project_id_of(self, year: int, code: str) -> UUID:
        """The id of the project of ``year`` declared under ``code`` (however spelled)."""
        return self.recorded_id(project_ids(fiscal_year(year), code))

    # ------------------------------------------------------------ declare .. approve

    @use_case
    def declare_project(
        self,
        act: Act,
        *,
        code: str,
        name: str,
        kind: str,
        department: str,
        fiscal_year_: int,
        budget_book: str,
        special_category: str | None,
        requested: object,
        new_major: bool,
        unit: str | None = None,
        continues: UUID | tuple[int, str] | None = None,
    ) -> Written:
        """申报: a department declares its own project, or one of its budget units' (``unit``); a unit declares its
        own (finance may declare on behalf of either). ``continues``: the earlier project it continues, by its id or
        its fiscal year and code."""
        require_role(act, Role.DEPARTMENT, Role.FINANCE)
        self._check_date(act)
        department = text(department, "department")
        unit = None if unit is None else text(unit, "unit")
        require_acts_for(act, department, f"declare for {department}", unit=unit)
        registered = self.department(department)
        require_not_before(act.effective_on, registered.registered_on, f"{registered.name} was registered")
        of_unit = None if unit is None else self.unit(unit)
        if not isinstance(new_major, bool):
            raise InvalidInput("new_major must be true or false", field="new_major")
        code = text(code, "code", max_length=64)
        self._refuse_existing(project_ids(fiscal_year(fiscal_year_), code), f"project {code} of {fiscal_year_}")
        earlier = None if continues is None else self._continued(continues)
        project = Project.declare(
            act.by,
            code=code,
            name=text(name, "name"),
            kind=enum_value(ProjectKind, kind, "kind").value,
            department=department,
            fiscal_year=fiscal_year(fiscal_year_),
            budget_book=enum_value(BudgetBook, budget_book, "budget_book").value,
            special_category=None
            if special_category is None
            else enum_value(SpecialCategory, special_category, "special_category").value,
            requested=money(requested, "requested", allow_zero=False),
            new_major=new_major,
            unit=of_unit,
            continues=earlier,
        )
        return self._commit_new(project, act=act)

    def _continued(self, continues: UUID | tuple[int, str]) -> Project:
        """The earlier project a declaration names (by id, or by fiscal year and code)."""
        if isinstance(continues, tuple):
            year, code = continues
            pid = self.recorded_id(project_ids(fiscal_year(year), text(code, "continues.code", max_length=64)))
            what = f"{code} of {year}"
        else:
            pid, what = continues, str(continues)
        try:
            return self.project(pid)
        except NotFound:
            raise NotFound(f"the continued project {what} is not recorded", code="continuation-not-found") from None

    @use_case
    def assess_ex_ante(self, act: Act, pid: UUID, scores: Mapping[str, object]) -> Written:
        """事前绩效评估 by finance itself (财政部门组织开展): it stands as recorded."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.assess_ex_ante(inputs.scores(scores), params, version, act.by)
            return self.commit(project, act=act)

    @use_case
    def admit_project(self, act: Act, pid: UUID) -> Written:
        """入库 by finance."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.admit(params, act.by)
            return self.commit(project, act=act)

    @use_case
    def submit_goals(self, act: Act, pid: UUID, indicators: list[Indicator]) -> Written:
        """绩效目标申报 by the project's department."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            project.submit_goals(indicators, params, version, act.by)
            return self.commit(project, act=act)

    @use_case
    def review_goals(self, act: Act, pid: UUID, rating: str, required_fixes: str = "") -> Written:
        """目标审核 by finance: 优/良/中/差."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.review_goals(
                enum_value(Grade, rating, "rating").value, reason(required_fixes, "required_fixes"), act.by
            )
            # The year's first goals approved: finance owes the congress the year's goals (报送人大).
            approved = project.goals_rating in (Grade.EXCELLENT, Grade.GOOD)
            duties = congress_duty(self, project.fiscal_year, Disclosure.GOALS, act) if approved else []
            return self.commit(project, *duties, act=act)

    @use_case
    def approve_budget(self, act: Act, pid: UUID, amount: object, *, override: bool = False) -> Written:
        """预算批复 by finance — refused unless the goals are rated 优/良, and, in a year that requires them, the
        department's overall goals approved (:mod:`ledger.domain.overall`); a continuation within what the earlier
        result decision allows, unless finance overrides it (``override``, with a reason)."""
        require_role(act, Role.FINANCE)
        if not isinstance(override, bool):
            raise InvalidInput("override must be true or false", field="override")
        with self._one_refresh():  # the continued project, the ruleset and the overall goals: one look at the log
            # The continued project is read before this one is locked (never two projects' locks at once); what it is
            # read for — its result decision and accepted rectifications — only ever settles, and the approval
            # records it.
            with self.lock_for(pid):
                continues = self._get(Project, pid, "project-not-found", copy=False).continues  # fixed when declared
            earlier = None if continues is None else self.project(continues)
            params, version = self._rules()  # its goals_disclosure_days fix the day the goals are disclosed by
            with self._changing(Project, pid, "project-not-found", act) as project:
                checked = money(amount, "amount", allow_zero=False)
                fact = overall_goals_fact(  # 整体绩效目标 gate
                    self, project.department, project.fiscal_year, checked, params, version
                )
                project.approve_budget(
                    checked, act.by, earlier=earlier, override=override, overall_goals=fact, params=params
                )
                return self.commit(project, act=act)

    # ------------------------------------------------------------ implementation

    @use_case
    def request_goal_adjustment(self, act: Act, pid: UUID, indicators: list[Indicator]) -> Written:
        """目标调整申请 by the project's department, with a reason."""
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            project.request_goal_adjustment(indicators, params, act.by)
            return self.commit(project, act=act)

    @use_case
    def decide_goal_adjustment(self, act: Act, pid: UUID, adjustment_no: int, approve: bool) -> Written:
        """Finance approves (the goals change) or rejects (nothing changes) a goal adjustment."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.decide_goal_adjustment(adjustment_no, approve, act.by)
            return self.commit(project, act=act)

    @use_case
    def report_monitoring(
        self,
        act: Act,
        pid: UUID,
        *,
        month: int,
        executed: object,
        indicator_progress: Mapping[str, object],
        forecast: Mapping[str, object] | None = None,
        shortfall_reasons: str = "",
        measures: str = "",
    ) -> Written:
        """绩效运行监控: the department reports execution and indicator progress through a month."""
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            project.report_monitoring(
                inputs.month(month),
                money(executed, "executed"),
                inputs.percentages(indicator_progress, "indicator_progress"),
                inputs.percentages(forecast or {}, "forecast"),
                reason(shortfall_reasons, "shortfall_reasons"),
                reason(measures, "measures"),
                params,
                act.by,
            )
            return self.commit(project, act=act)

    @use_case
    def review_monitoring(self, act: Act, pid: UUID, month: int, opinion: str) -> Written:
        """Finance reviews a monitoring report; any deviation the rules find is recorded with it."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        calendar = self.working_days()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.review_monitoring(inputs.month(month), reason(opinion, "opinion"), act.by)
            project.detect_deviation(
                params,
                version,
                calendar.holidays,
                act.principal,
                act.effective_on,
                calendar.working_weekends,
                calendar_version=calendar.version,
            )
            return self.commit(project, act=act)

    @use_case
    def order_corrective_action(
        self, act: Act, pid: UUID, decision: str, amount: object | None = None, deviation_month: int | None = None
    ) -> Written:
        """纠偏 by finance: continue, reallocate, suspend funding, cancel or reduce the budget."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.order_corrective_action(
                enum_value(CorrectiveDecision, decision, "decision").value,
                None if amount is None else money(amount, "amount", allow_zero=False),
                None if deviation_month is None else inputs.month(deviation_month),
                act.by,
            )
            return self.commit(project, act=act)

    # ------------------------------------------------------------ evaluation

    @use_case
    def self_evaluate(self, act: Act, pid: UUID, actuals: Mapping[str, object], executed: object) -> Written:
        """单位自评: the ledger computes the score from the actuals and records inputs, score and ruleset."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            project.self_evaluate(inputs.actuals(actuals), money(executed, "executed"), params, version, act.by)
            return self.commit(project, act=act)

    @use_case
    def re_evaluate(self, act: Act, pid: UUID, scores: Mapping[str, object]) -> Written:
        """财政再评价 by finance of a project drawn in the sample."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.re_evaluate(inputs.scores(scores), params, version, act.by)
            return self.commit(project, act=act)

    @use_case
    def decide_policy(self, act: Act, pid: UUID, decision: str | None = None) -> Written:
        """政策调整 by finance of a policy whose results are applied: continue, adjust or terminate (by default from
        the grade; a departure with a reason)."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            if decision is not None:
                enum_value(rules.PolicyDecision, decision, "decision")
            project.decide_policy(decision, act.by)
            return self.commit(project, act=act)

    @use_case
    def apply_results(self, act: Act, pid: UUID, decision: str | None = None) -> Written:
        """结果应用 by finance, by default from the grade."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            if decision is not None:
                enum_value(rules.ResultApplication, decision, "decision")
            require_not_in_open_draw(self, project, "applying its results")
            project.apply_results(decision, params, version, act.by)
            # The year's first results applied: finance owes the congress the year's results (报送人大).
            duties = congress_duty(self, project.fiscal_year, Disclosure.RESULTS, act)
            return self.commit(project, *duties, act=act)

    # ------------------------------------------------------------ rectification, disclosure, closing

    @use_case
    def require_rectification(self, act: Act, pid: UUID, issues: list[str], source: str, deadline: date) -> Written:
        """整改 required by finance, with issues, source and deadline."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.require_rectification(
                [reason(issue, f"issues[{i}]", required=True) for i, issue in enumerate(issues)],
                enum_value(RectificationSource, source, "source").value,
                deadline,
                act.by,
            )
            return self.commit(project, act=act)

    @use_case
    def report_rectification(self, act: Act, pid: UUID, rectification_no: int, measures: str) -> Written:
        """The department reports its rectification measures and evidence."""
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            project.report_rectification(rectification_no, reason(measures, "measures"), act.by)
            return self.commit(project, act=act)

    @use_case
    def decide_rectification(self, act: Act, pid: UUID, rectification_no: int, accept: bool) -> Written:
        """Finance accepts or rejects a rectification report."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.decide_rectification(rectification_no, accept, act.by)
            return self.commit(project, act=act)

    # ------------------------------------------------------------ spot checks and escalation

    @use_case
    def record_spot_check(
        self,
        act: Act,
        pid: UUID,
        subject: str,
        findings: list[str],
        *,
        month: int | None = None,
        corrective_action: str | None = None,
        amount: object | None = None,
        rectification_deadline: date | None = None,
    ) -> Written:
        """不定期核查 by finance of a department's monitoring report (of ``month``) or self-evaluation, with findings
        that may order a corrective action and a rectification."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.record_spot_check(
                enum_value(SpotCheckSubject, subject, "subject").value,
                None if month is None else inputs.month(month),
                [reason(finding, f"findings[{i}]", required=True) for i, finding in enumerate(findings)],
                act.by,
                corrective_action=(
                    None
                    if corrective_action is None
                    else enum_value(CorrectiveDecision, corrective_action, "corrective_action").value
                ),
                amount=None if amount is None else money(amount, "amount", allow_zero=False),
                rectification_deadline=rectification_deadline,
            )
            return self.commit(project, act=act)

    @use_case
    def decide_escalation(self, act: Act, pid: UUID, rectification_no: int, decision: str, amount: object) -> Written:
        """调减 or 收回 by finance, with its reason, on a rectification the scheduler escalated as overdue."""
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.decide_escalation(
                rectification_no,
                enum_value(EscalationDecision, decision, "decision").value,
                money(amount, "amount", allow_zero=False),
                act.by,
            )
            return self.commit(project, act=act)

    @use_case
    def disclose(self, act: Act, pid: UUID, what: str) -> Written:
        """信息公开: goals with the budget draft, results with the final accounts — by the project's own department
        (or unit), whose duty it is to publish them (预决算公开平台), or by finance."""
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project, finance_too=True)
            project.disclose(what, act.by)
            return self.commit(project, act=act)

    @use_case
    def close_project(self, act: Act, pid: UUID) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_not_in_open_draw(self, project, "closing its file")
            project.close(act.by)
            return self.commit(project, act=act)
