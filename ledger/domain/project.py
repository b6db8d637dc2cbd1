"""The project (项目/政策): one budget project or policy of one department in one year.

Its whole budget-performance life is one state machine; every arrow is an event (:mod:`ledger.domain.project_events`).
Command methods check the rules, then record; the events' ``apply`` methods only change state, so replaying the
stored events rebuilds the same project. Role and organisation checks live in the application, which knows the
caller; the deadline calendar is :mod:`ledger.domain.deadlines`.

Over 500 lines: the command methods are one state machine's transitions, each beside the checks that guard it; cut
in two, a reader would follow one project's life through two files.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import deadlines, engagement, rules
from ledger.domain import project_events as events
from ledger.domain import project_linkage as linkage
from ledger.domain.base import keyed_id, preparation_opens, recorded_ids, require_not_before
from ledger.domain.deadlines import Deadline
from ledger.domain.disclosure import late, project_content
from ledger.domain.engagement import require_reason as _require_reason
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.ex_ante import ExAnteLead, ExAnteReport, FilingStatus
from ledger.domain.organisations import Unit
from ledger.domain.overall import require_overall_goals
from ledger.domain.project_state import ProjectState
from ledger.domain.project_values import (
    EVALUATED,
    IMPLEMENTING,
    CorrectiveDecision,
    Disclosure,
    EscalationDecision,
    RectificationSource,
    SpotCheckSubject,
    Stage,
)
from ledger.domain.values import Attribution, Grade, Indicator, Principal, ProjectKind, enum_value

WorkingDays = tuple[Collection[date], Collection[date]]  # a working calendar's holidays and working weekend days


def project_id(fiscal_year: int, code: str) -> UUID:
    """The id a project of ``fiscal_year`` declared under ``code`` gets (from the code's key: one project however
    the code is spelled)."""
    return keyed_id("project", fiscal_year, code)


def project_ids(fiscal_year: int, code: str) -> tuple[UUID, ...]:
    """Every id a project of this year and code may be recorded under (:func:`ledger.domain.base.recorded_ids`)."""
    return recorded_ids("project", fiscal_year, code)


class Project(ProjectState):
    """A project and its budget-performance record. State is plain data so snapshots round-trip exactly."""

    TOPIC_MODULE = "ledger.project"  # stored topics keep the module they were first recorded under

    # Version 2 added deadline_notices, version 3 declared_on, version 4 unit, version 5 continues and budget_linkage,
    # version 6 disclosure_due, version 7 policy_decision; older snapshots are upcast (their events replay unchanged;
    # without declared_on the project's dates are bounded by its fiscal year's preparation instead; a project declared
    # before units existed is its department's own, one declared before continuations continues none; one approved
    # before disclosure was a watched duty owes none; one before 政策调整 has none decided), version 8
    # ex_ante_agency and ex_ante_filings (a project before departments filed ex-ante reports has none; its
    # assessment was finance's), version 9 spot_checks (one before 不定期核查 has none).
    class_version = 9

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["deadline_notices"] = {}

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["declared_on"] = None

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        state["unit"] = None

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        state["continues"] = None
        state["budget_linkage"] = None

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        state["disclosure_due"] = {}

    @staticmethod
    def upcast_v6_v7(state: dict[str, Any]) -> None:
        state["policy_decision"] = None

    @staticmethod
    def upcast_v7_v8(state: dict[str, Any]) -> None:
        state["ex_ante_agency"] = None
        state["ex_ante_filings"] = []
        if state.get("ex_ante") is not None:
            state["ex_ante"] = {**state["ex_ante"], "led_by": ExAnteLead.FINANCE.value}

    @staticmethod
    def upcast_v8_v9(state: dict[str, Any]) -> None:
        state["spot_checks"] = []

    # ------------------------------------------------------------------ events

    # The events (ledger.domain.project_events), each attached here under its own name: the library makes it a
    # subclass of Project.Event, and it is stored and resolved as "ledger.project:Project.<Name>".
    Declared = events.Declared
    ExAnteAssessed = events.ExAnteAssessed
    ExAnteAgencyCommissioned = events.ExAnteAgencyCommissioned
    ExAnteFiled = events.ExAnteFiled
    ExAnteReviewed = events.ExAnteReviewed
    Admitted = events.Admitted
    GoalsSubmitted = events.GoalsSubmitted
    GoalsReviewed = events.GoalsReviewed
    BudgetApproved = events.BudgetApproved
    GoalAdjustmentRequested = events.GoalAdjustmentRequested
    GoalAdjustmentApproved = events.GoalAdjustmentApproved
    GoalAdjustmentRejected = events.GoalAdjustmentRejected
    MonitoringReported = events.MonitoringReported
    MonitoringReviewed = events.MonitoringReviewed
    DeviationDetected = events.DeviationDetected
    CorrectiveActionOrdered = events.CorrectiveActionOrdered
    FundingSuspended = events.FundingSuspended
    SelfEvaluated = events.SelfEvaluated
    SelectedForReEvaluation = events.SelectedForReEvaluation
    ReEvaluated = events.ReEvaluated
    KeyEvaluationCommissioned = events.KeyEvaluationCommissioned
    KeyEvaluationPlanSubmitted = events.KeyEvaluationPlanSubmitted
    ReEvaluationCommissioned = events.ReEvaluationCommissioned
    KeyEvaluationPlanReviewed = events.KeyEvaluationPlanReviewed
    KeyEvaluationReportSubmitted = events.KeyEvaluationReportSubmitted
    KeyEvaluationReportReviewed = events.KeyEvaluationReportReviewed
    KeyEvaluationSupervisionNoted = events.KeyEvaluationSupervisionNoted
    KeyEvaluationSupervised = events.KeyEvaluationSupervised
    KeyEvaluationSupervisionAnswered = events.KeyEvaluationSupervisionAnswered
    KeyEvaluationScored = events.KeyEvaluationScored
    KeyEvaluationVoided = events.KeyEvaluationVoided
    ResultsApplied = events.ResultsApplied
    PolicyAdjustmentDecided = events.PolicyAdjustmentDecided
    RectificationRequired = events.RectificationRequired
    RectificationReported = events.RectificationReported
    RectificationAccepted = events.RectificationAccepted
    RectificationRejected = events.RectificationRejected
    RectificationOverdue = events.RectificationOverdue
    SpotChecked = events.SpotChecked
    RectificationEscalated = events.RectificationEscalated
    EscalationDecided = events.EscalationDecided
    Disclosed = events.Disclosed
    Closed = events.Closed
    DeadlineApproaching = events.DeadlineApproaching
    DeadlineMissed = events.DeadlineMissed

    # ---------------------------------------------------------------- helpers

    def notices_for(self, deadline: Deadline) -> dict[str, Any] | None:
        """What was raised for ``deadline`` so far: the days of its approaching and missed notices."""
        return self.deadline_notices.get(deadline.key)

    @property
    def pending_adjustment(self) -> dict[str, Any] | None:
        return next((item for item in self.adjustments if item["status"] == "pending"), None)

    @property
    def open_rectifications(self) -> list[dict[str, Any]]:
        return [item for item in self.rectifications if item["status"] != "accepted"]

    @property
    def latest_monitoring(self) -> dict[str, Any] | None:
        return self.monitoring[-1] if self.monitoring else None

    def _require_stage(self, allowed: frozenset[Stage] | set[Stage], action: str) -> None:
        if self.stage == Stage.CLOSED:
            raise RuleViolation(f"project {self.code} is closed", code="project-closed")
        if Stage(self.stage) not in allowed:
            expected = ", ".join(sorted(stage.value for stage in allowed))
            raise RuleViolation(f"cannot {action} at stage {self.stage} (allowed at: {expected})", code="wrong-stage")

    def _require_open(self) -> None:
        if self.stage == Stage.CLOSED:
            raise RuleViolation(f"project {self.code} is closed", code="project-closed")

    @property
    def opened_on(self) -> date:
        """The first day the project's business can be dated: its declaration's (or, restored from an old snapshot,
        its fiscal year's preparation opening)."""
        return self.declared_on or preparation_opens(self.fiscal_year)

    def record(self, event_class: type[Any], by: Attribution, **kwargs: Any) -> None:
        """Nothing a principal does to the project is dated before it was declared (the scheduler dates its notices
        by its own day)."""
        if not by.principal.is_system:
            require_not_before(by.effective_on, self.opened_on, f"project {self.code} was declared")
        super().record(event_class, by, **kwargs)

    @staticmethod
    def _require_since(effective_on: date, item: dict[str, Any], field: str, what: str) -> None:
        """Not before the sub-object ``item`` came to be (its ``field``; absent in entries of old snapshots)."""
        require_not_before(effective_on, item.get(field), what)

    def _require_in_year(self, when: date, first: date, last: date, field: str = "effective_on") -> None:
        if not first <= when <= last:
            raise InvalidInput(
                f"{field} {when} is outside {first} to {last} for fiscal year {self.fiscal_year}",
                code="invalid-date",
                field=field,
            )

    # --------------------------------------------------------------- commands

    @classmethod
    def declare(
        cls,
        by: Attribution,
        *,
        code: str,
        name: str,
        kind: str,
        department: str,
        fiscal_year: int,
        budget_book: str,
        special_category: str | None,
        requested: Decimal,
        new_major: bool,
        unit: Unit | None = None,
        continues: ProjectState | None = None,
    ) -> Project:
        """申报 by ``department``, or by one of its budget units (``unit``): a unit of another department is refused.
        ``continues``: the earlier project it continues (of the department, an earlier year, results applied)."""
        require_not_before(
            by.effective_on,
            preparation_opens(fiscal_year),
            f"the budget preparation of fiscal year {fiscal_year} opened",
        )
        if unit is not None:
            if not unit.belongs_to(department):
                raise RuleViolation(
                    f"{unit.name} is a unit of {unit.department}, not of {department}", code="unit-not-in-department"
                )
            require_not_before(by.effective_on, unit.registered_on, f"{unit.name} was registered")
        if continues is not None:
            linkage.require_continuable(continues, department, fiscal_year, by)
        return cls._create(
            cls.Declared,
            id=project_id(fiscal_year, code),
            **by.event_fields(),
            code=code,
            name=name,
            kind=kind,
            department=department,
            fiscal_year=fiscal_year,
            budget_book=budget_book,
            special_category=special_category,
            requested=requested,
            new_major=new_major,
            unit=None if unit is None else unit.name,
            continues=None if continues is None else continues.id,
        )

    def ex_ante_required(self, params: rules.RuleParameters) -> bool:
        return rules.ex_ante_required(self.new_major, self.requested, params)

    def _require_ex_ante_open(self, params: rules.RuleParameters, action: str) -> None:
        """The project is declared, needs an ex-ante assessment, and none stands yet."""
        self._require_stage({Stage.DECLARED}, action)
        if not self.ex_ante_required(params):
            raise RuleViolation(f"project {self.code} does not need an ex-ante assessment", code="ex-ante-not-required")
        if self.ex_ante is not None:
            raise RuleViolation("the ex-ante assessment is already recorded", code="already-decided")

    def _require_no_pending_filing(self) -> None:
        pending = self.pending_ex_ante_filing
        if pending is not None:
            raise RuleViolation(
                f"ex-ante report {pending['no']} awaits finance's review (审核)", code="ex-ante-under-review"
            )

    def assess_ex_ante(
        self, scores: dict[str, Decimal], params: rules.RuleParameters, ruleset_version: int, by: Attribution
    ) -> None:
        """事前绩效评估 by finance itself (财政部门组织开展): it stands as recorded. Not while a department's report
        awaits finance's review: finance reviews it first (approves it, or returns it with its reasons)."""
        self._require_ex_ante_open(params, "record an ex-ante assessment")
        self._require_no_pending_filing()
        result = rules.ex_ante_conclusion(scores, params)
        self.record(
            self.ExAnteAssessed,
            by,
            scores=dict(scores),
            total=result.total,
            conclusion=str(result.conclusion),
            ruleset_version=ruleset_version,
        )

    def commission_ex_ante_agency(
        self, agency_id: str, agency_name: str, params: rules.RuleParameters, by: Attribution
    ) -> None:
        """委托第三方机构: the department names the agency that carries out its ex-ante assessment (the application
        checks the agency: registered, not blacklisted, not tied to the department). Not while a report awaits
        review; a later commissioning replaces an earlier one."""
        self._require_ex_ante_open(params, "commission an ex-ante assessment")
        self._require_no_pending_filing()
        self.record(self.ExAnteAgencyCommissioned, by, agency_id=agency_id, agency_name=agency_name)

    def file_ex_ante(
        self,
        report: ExAnteReport,
        agency_name: str | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        holidays: Collection[date],
        by: Attribution,
        working_weekends: Collection[date] = (),
        *,
        calendar_version: int | None = None,
    ) -> int:
        """出具绩效评估报告: the department files its ex-ante assessment (``report``, checked by
        :func:`ledger.domain.ex_ante.checked_report`), itself or through the agency it commissioned (``agency_name``,
        not dated before the commissioning). Finance reviews it within the ruleset's working days (counted on
        ``holidays`` and ``working_weekends``: the working calendar at ``calendar_version``). Returns its number."""
        self._require_ex_ante_open(params, "file an ex-ante assessment")
        self._require_no_pending_filing()
        if agency_name is not None:
            commissioned = self.ex_ante_agency
            if commissioned is None or commissioned["agency_name"] != agency_name:
                raise RuleViolation(
                    f"{agency_name} was not commissioned for the ex-ante assessment of {self.code}",
                    code="ex-ante-agency-not-commissioned",
                )
            self._require_since(by.effective_on, commissioned, "commissioned_on", f"{agency_name} was commissioned")
        number = len(self.ex_ante_filings) + 1
        review_due = rules.add_working_days(
            by.effective_on, params.ex_ante_review_working_days, holidays, working_weekends
        )
        self.record(
            self.ExAnteFiled,
            by,
            filing_no=number,
            **report.fields(),
            agency_name=agency_name,
            review_due=review_due,
            ruleset_version=ruleset_version,
            calendar_version=calendar_version,
        )
        return number

    def review_ex_ante(self, number: int, approved: bool, by: Attribution) -> None:
        """财政部门审核 of the filed report ``number``: approved, its conclusion stands (不予支持 rejects the
        project); or returned with the reasons given (required), and the department files again."""
        self._require_stage({Stage.DECLARED}, "review an ex-ante report")
        filing = self.ex_ante_filing(number)
        if filing["status"] != FilingStatus.FILED:
            raise RuleViolation(f"ex-ante report {number} is not awaiting review", code="already-decided")
        self._require_since(by.effective_on, filing, "filed_on", f"ex-ante report {number} was filed")
        if not approved:
            _require_reason(by, "a returned ex-ante report")
        self.record(self.ExAnteReviewed, by, filing_no=number, approved=approved, conclusion=filing["conclusion"])

    def admit(self, params: rules.RuleParameters, by: Attribution) -> None:
        self._require_stage({Stage.DECLARED}, "admit to the project library")
        if self.ex_ante_required(params):
            if self.ex_ante is None:
                pending = self.pending_ex_ante_filing
                if pending is not None:
                    raise RuleViolation(
                        f"ex-ante report {pending['no']} of {self.code} awaits finance's review (审核): "
                        "admission needs the reviewed conclusion",
                        code="ex-ante-not-reviewed",
                    )
                raise RuleViolation(
                    f"project {self.code} is new-major and requests {self.requested}: "
                    "an ex-ante assessment is required before admission",
                    code="ex-ante-required",
                )
            if self.ex_ante["conclusion"] == rules.ExAnteConclusion.SUPPORT_AFTER_REVISION and not by.reason.strip():
                raise InvalidInput(
                    "admission after 调整完善后支持 must state the revisions made",
                    code="reason-required",
                    field="reason",
                )
        self.record(self.Admitted, by)

    def submit_goals(
        self, indicators: list[Indicator], params: rules.RuleParameters, ruleset_version: int, by: Attribution
    ) -> None:
        self._require_stage({Stage.ADMITTED, Stage.GOALS_RETURNED, Stage.GOALS_SUBMITTED}, "submit goals")
        rules.validate_goals(indicators, params)
        self.record(self.GoalsSubmitted, by, indicators=list(indicators), ruleset_version=ruleset_version)

    def review_goals(self, rating: str, required_fixes: str, by: Attribution) -> None:
        self._require_stage({Stage.GOALS_SUBMITTED}, "review goals")
        grade = enum_value(Grade, rating, "rating")
        if grade in (Grade.FAIR, Grade.POOR) and not (by.reason.strip() or required_fixes.strip()):
            raise InvalidInput("a rating of 中 or 差 must give the reason", code="reason-required", field="reason")
        self.record(self.GoalsReviewed, by, rating=grade.value, required_fixes=required_fixes)

    def approve_budget(
        self,
        amount: Decimal,
        by: Attribution,
        *,
        earlier: ProjectState | None = None,
        override: bool = False,
        overall_goals: dict[str, Any] | None = None,
        params: rules.RuleParameters | None = None,
    ) -> None:
        """批复. A continuation is approved within what ``earlier``'s (the project it continues, as recorded now)
        result decision allows, or beyond it as finance's ``override`` with a reason (:mod:`project_linkage`).
        ``overall_goals``: what the application found of the department's overall goals
        (:func:`ledger.domain.overall.budget_gate`), checked here and recorded with the approval. ``params``: the
        ruleset in force, whose ``goals_disclosure_days`` fix the day the goals must be disclosed by (recorded with
        the approval; without it, as before disclosure was a watched duty, none is owed)."""
        if (earlier is None) != (self.continues is None) or (earlier is not None and earlier.id != self.continues):
            raise ValueError(f"approve {self.code} with the project it continues ({self.continues}), and only that")
        if self.stage in (
            Stage.GOALS_SUBMITTED,
            Stage.GOALS_RETURNED,
            Stage.GOALS_REFUSED,
            Stage.ADMITTED,
            Stage.DECLARED,
        ):
            rating = self.goals_rating or "none"
            raise RuleViolation(
                f"goals of {self.code} are not rated 优/良 (rating: {rating}): no approved goals, no budget",
                code="goals-not-approved",
            )
        self._require_stage({Stage.GOALS_APPROVED}, "approve the budget")
        if amount <= 0:
            raise InvalidInput("the approved amount must be positive", code="invalid-money", field="amount")
        self._require_in_year(by.effective_on, date(self.fiscal_year - 1, 1, 1), date(self.fiscal_year, 12, 31))
        if earlier is not None:
            linkage.require_results_applied(earlier, by)
        link = None if earlier is None else linkage.linkage(earlier, amount)
        linkage.require_allowed(link, override, by)
        require_overall_goals(overall_goals)
        checked: dict[str, Any] = {} if overall_goals is None else {"overall_goals": overall_goals}
        if params is not None:
            checked["goals_disclosure_due"] = rules.goals_disclosure_due(by.effective_on, params)
        self.record(self.BudgetApproved, by, amount=amount, linkage=link, override=override, **checked)

    def request_goal_adjustment(
        self, indicators: list[Indicator], params: rules.RuleParameters, by: Attribution
    ) -> int:
        self._require_stage(IMPLEMENTING, "request a goal adjustment")
        _require_reason(by, "a goal adjustment")
        if self.pending_adjustment is not None:
            raise RuleViolation("a goal adjustment is already awaiting finance's decision", code="adjustment-pending")
        rules.validate_goals(indicators, params)
        number = len(self.adjustments) + 1
        self.record(self.GoalAdjustmentRequested, by, adjustment_no=number, indicators=list(indicators))
        return number

    def decide_goal_adjustment(self, number: int, approve: bool, by: Attribution) -> None:
        self._require_stage(IMPLEMENTING, "decide a goal adjustment")
        adjustment = self.adjustment(number)
        self._require_since(by.effective_on, adjustment, "requested_on", f"goal adjustment {number} was requested")
        if adjustment["status"] != "pending":
            raise RuleViolation(f"goal adjustment {number} is already decided", code="already-decided")
        if not approve:
            _require_reason(by, "a rejection")
        event = self.GoalAdjustmentApproved if approve else self.GoalAdjustmentRejected
        self.record(event, by, adjustment_no=number)

    def report_monitoring(
        self,
        month: int,
        executed: Decimal,
        indicator_progress: dict[str, Decimal],
        forecast: dict[str, Decimal],
        shortfall_reasons: str,
        measures: str,
        params: rules.RuleParameters,
        by: Attribution,
    ) -> None:
        """绩效运行监控 through ``month``; the report records the month the ruleset's January–M report runs to
        (``monitoring_report_month``), so whether it was that report stays decided whatever a later ruleset says."""
        self._require_stage(IMPLEMENTING, "report monitoring")
        if not 1 <= month <= 12:
            raise InvalidInput("month must be 1 to 12", field="month")
        latest = self.latest_monitoring
        if latest is not None and month <= latest["month"]:
            raise RuleViolation(
                f"a report through month {latest['month']} exists; periods must advance",
                code="monitoring-period-invalid",
            )
        assert self.approved_amount is not None
        if executed > self.approved_amount:
            raise RuleViolation(
                f"executed {executed} exceeds the approved budget {self.approved_amount}", code="amount-exceeds-budget"
            )
        if executed < self.executed:
            raise InvalidInput(
                f"executed {executed} is below the {self.executed} already reported; amounts are cumulative",
                code="invalid-money",
                field="executed",
            )
        keys = {indicator.key for indicator in self.goals}
        for key in [*indicator_progress, *forecast]:
            if key not in keys:
                raise InvalidInput(f"unknown indicator {key!r}", code="invalid-indicator", field=f"progress.{key}")
        last = rules.due_in_year(self.fiscal_year, rules.MONITORING_REPORTS_UNTIL)
        self._require_in_year(by.effective_on, date(self.fiscal_year, 1, 1), last)
        self.record(
            self.MonitoringReported,
            by,
            month=month,
            executed=executed,
            indicator_progress=dict(indicator_progress),
            forecast=dict(forecast),
            shortfall_reasons=shortfall_reasons,
            measures=measures,
            monitoring_report_month=params.monitoring_report_month,
        )

    def review_monitoring(self, month: int, opinion: str, by: Attribution) -> None:
        self._require_stage(IMPLEMENTING | EVALUATED | {Stage.CANCELLED}, "review monitoring")
        report = self.monitoring_for(month)
        self._require_since(by.effective_on, report, "reported_on", f"the report for month {month} was filed")
        if report["review"] is not None:
            raise RuleViolation(f"the report for month {month} is already reviewed", code="already-decided")
        self.record(self.MonitoringReviewed, by, month=month, opinion=opinion)

    def assess_deviation(self, params: rules.RuleParameters) -> rules.DeviationAssessment | None:
        """The deviation the latest monitoring shows, or None if none or already recorded for that period."""
        latest = self.latest_monitoring
        if latest is None or self.approved_amount is None:
            return None
        if any(deviation["month"] == latest["month"] for deviation in self.deviations):
            return None
        assessment = rules.deviation_level(
            latest["month"], latest["executed"], self.approved_amount, latest["indicator_progress"], params
        )
        return assessment if assessment.level is not None else None

    def detect_deviation(
        self,
        params: rules.RuleParameters,
        ruleset_version: int,
        holidays: Collection[date],
        principal: Principal,
        effective_on: date,
        working_weekends: Collection[date] = (),
        *,
        calendar_version: int | None = None,
    ) -> bool:
        """Record the latest period's deviation once, with the working day its answer is due (counted on
        ``holidays`` and ``working_weekends``: the working calendar at ``calendar_version``); return whether one
        was recorded."""
        if self.stage not in IMPLEMENTING:
            return False
        assessment = self.assess_deviation(params)
        if assessment is None:
            return False
        latest = self.latest_monitoring
        assert latest is not None
        assert assessment.level is not None
        respond_by = rules.add_working_days(
            effective_on, params.deviation_response_working_days, holidays, working_weekends
        )
        self.record(
            self.DeviationDetected,
            Attribution(principal, effective_on, "; ".join(assessment.reasons)),
            month=latest["month"],
            level=str(assessment.level),
            findings=list(assessment.reasons),
            execution_rate=assessment.execution_rate,
            time_progress=assessment.time_progress,
            respond_by=respond_by,
            ruleset_version=ruleset_version,
            calendar_version=calendar_version,
        )
        return True

    def order_corrective_action(
        self, decision: str, amount: Decimal | None, deviation_month: int | None, by: Attribution
    ) -> None:
        choice = self._corrective_action(decision, amount, by)
        if deviation_month is not None and not any(d["month"] == deviation_month for d in self.deviations):
            raise InvalidInput(f"no deviation recorded for month {deviation_month}", field="deviation_month")
        self.record(
            self.CorrectiveActionOrdered, by, decision=choice.value, amount=amount, deviation_month=deviation_month
        )

    def _corrective_action(self, decision: str, amount: Decimal | None, by: Attribution) -> CorrectiveDecision:
        """A corrective action (纠偏) may be ordered: while the project is implemented, with a reason, an amount for
        reduce_budget only, never below what is executed."""
        self._require_stage(IMPLEMENTING, "order a corrective action")
        choice = enum_value(CorrectiveDecision, decision, "decision")
        _require_reason(by, "a corrective action")
        if choice is CorrectiveDecision.REDUCE_BUDGET:
            if amount is None or amount <= 0:
                raise InvalidInput("reduce_budget needs a positive amount", code="invalid-money", field="amount")
            assert self.approved_amount is not None
            if self.approved_amount - amount < self.executed:
                raise RuleViolation(
                    f"cannot reduce below the {self.executed} already executed", code="amount-exceeds-budget"
                )
        elif amount is not None:
            raise InvalidInput("only reduce_budget takes an amount", field="amount")
        return choice

    def _unanswered_deviations(self) -> list[dict[str, Any]]:
        """Deviations neither answered by a corrective action nor yet followed by an automatic suspension."""
        automatic = {item["deviation_month"] for item in self.corrective_actions if item["automatic"]}
        return [d for d in self.deviations if not d["answered"] and d["month"] not in automatic]

    def suspend_funding_if_unanswered(self, today: date, principal: Principal) -> bool:
        """暂缓拨款 for every deviation whose answer is overdue; recorded once per deviation."""
        if self.stage not in IMPLEMENTING:
            return False
        overdue = [d for d in self._unanswered_deviations() if today > d["respond_by"]]
        for deviation in overdue:
            why = f"deviation of month {deviation['month']} not answered by {deviation['respond_by']}"
            self.record(self.FundingSuspended, Attribution(principal, today, why), deviation_month=deviation["month"])
        return bool(overdue)

    def next_suspension_check(self) -> date | None:
        """The first day funding could be suspended automatically, unless something is recorded before."""
        if self.stage not in IMPLEMENTING:
            return None
        return min((d["respond_by"] + timedelta(days=1) for d in self._unanswered_deviations()), default=None)

    def self_evaluate(
        self,
        actuals: dict[str, Decimal | str],
        executed: Decimal,
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> rules.SelfEvaluationScore:
        self._require_stage(IMPLEMENTING, "submit the self-evaluation")
        assert self.approved_amount is not None
        if executed > self.approved_amount:
            raise RuleViolation(
                f"executed {executed} exceeds the approved budget {self.approved_amount}", code="amount-exceeds-budget"
            )
        self._require_in_year(by.effective_on, date(self.fiscal_year, 12, 1), date(self.fiscal_year + 2, 12, 31))
        result = rules.self_evaluation_score(self.goals, actuals, executed, self.approved_amount, params)
        self.record(
            self.SelfEvaluated,
            by,
            actuals=dict(actuals),
            executed=executed,
            indicator_scores={item.key: item.score for item in result.indicator_scores},
            execution_rate=result.execution_rate,
            execution_score=result.execution_score,
            total=result.total,
            grade=result.grade,
            ruleset_version=ruleset_version,
        )
        return result

    def select_for_re_evaluation(self, sample_id: str, by: Attribution) -> None:
        """Drawn in a sample: the sample records why and on what evidence, the selection only who and when."""
        self._require_stage(EVALUATED, "select for re-evaluation")
        self.record(self.SelectedForReEvaluation, Attribution(by.principal, by.effective_on), sample_id=sample_id)

    def _evaluation_result(self, scores: dict[str, Decimal], params: rules.RuleParameters) -> dict[str, Any]:
        total = rules.re_evaluation_total(scores, params)
        self_total = self.self_evaluation["total"] if self.self_evaluation else None
        inflated = self_total is not None and rules.is_inflated(self_total, total, params)
        return {"scores": dict(scores), "total": total, "grade": rules.grade(total, params), "inflated": inflated}

    @property
    def commissioned_re_evaluation(self) -> str | None:
        """The key evaluation commissioned as the project's re-evaluation (再评价 by an agency), if any."""
        return next((key for key, item in self.key_evaluations.items() if item.get("re_evaluation")), None)

    @property
    def re_evaluation_stands(self) -> bool:
        """Whether a project drawn in the sample has its re-evaluation: finance's own, or the commissioned agency's
        score, accepted after the reviews (两审)."""
        if self.re_evaluation is not None:
            return True
        commissioned = self.commissioned_re_evaluation
        return commissioned is not None and self.key_evaluations[commissioned]["score"] is not None

    def _require_re_evaluation_if_sampled(self, what: str) -> None:
        """A project drawn for re-evaluation is not settled (results applied, file closed) before it stands."""
        if self.selected_in_sample is not None and not self.re_evaluation_stands:
            raise RuleViolation(
                f"project {self.code} was drawn for re-evaluation: {what} waits for the re-evaluation to stand",
                code="re-evaluation-pending",
            )

    def _require_open_re_evaluation(self) -> None:
        self._require_stage(EVALUATED, "re-evaluate")
        if self.selected_in_sample is None:
            raise RuleViolation(f"project {self.code} was not drawn for re-evaluation", code="not-selected")
        if self.re_evaluation is not None:
            raise RuleViolation("the re-evaluation is already recorded", code="already-decided")
        commissioned = self.commissioned_re_evaluation
        if commissioned is not None:
            raise RuleViolation(
                f"the re-evaluation is commissioned to {self.key_evaluations[commissioned]['agency_name']} "
                f"({commissioned})",
                code="re-evaluation-commissioned",
            )

    def re_evaluate(
        self, scores: dict[str, Decimal], params: rules.RuleParameters, ruleset_version: int, by: Attribution
    ) -> None:
        self._require_open_re_evaluation()
        self.record(self.ReEvaluated, by, ruleset_version=ruleset_version, **self._evaluation_result(scores, params))

    def commission_re_evaluation(
        self, evaluation_id: str, agency_id: str, agency_name: str, by: Attribution, params: rules.RuleParameters
    ) -> None:
        """财政再评价 commissioned to an agency, for a project drawn in the sample (instead of finance's own): like any
        agency's key evaluation it runs under 两审一督导 in full (``params`` sets when its plan is due), and its score
        is the re-evaluation."""
        self._require_open_re_evaluation()
        if evaluation_id in self.key_evaluations:
            raise RuleViolation(f"key evaluation {evaluation_id} already exists", code="already-exists")
        procedure, plan_due = engagement.plan_due(agency_id, params, by.effective_on)
        self.record(
            self.ReEvaluationCommissioned,
            by,
            evaluation_id=evaluation_id,
            agency_id=agency_id,
            agency_name=agency_name,
            procedure=procedure,
            plan_due=plan_due,
        )

    def commission_key_evaluation(
        self,
        evaluation_id: str,
        agency_id: str | None,
        agency_name: str | None,
        by: Attribution,
        params: rules.RuleParameters | None = None,
    ) -> None:
        """重点评价 commissioned. An agency's is under 两审一督导 in full (``params`` sets when its plan is due); one
        finance does itself keeps the two reviews only. Also after the results are applied, where a voided
        evaluation is to be replaced."""
        allowed = IMPLEMENTING | EVALUATED
        self._require_stage(allowed, "commission a key evaluation")
        if evaluation_id in self.key_evaluations:
            raise RuleViolation(f"key evaluation {evaluation_id} already exists", code="already-exists")
        procedure, plan_due = engagement.plan_due(agency_id, params, by.effective_on)
        self.record(
            self.KeyEvaluationCommissioned,
            by,
            evaluation_id=evaluation_id,
            agency_id=agency_id,
            agency_name=agency_name,
            procedure=procedure,
            plan_due=plan_due,
        )

    def _commissioned_evaluation(self, evaluation_id: str, by: Attribution) -> dict[str, Any]:
        """The key evaluation a later step (submission, review, supervision, answer, score) acts on: the project
        open, the evaluation not voided, the step dated no earlier than the commission."""
        self._require_open()
        evaluation = self.key_evaluation(evaluation_id)
        engagement.require_not_voided(evaluation, f"key evaluation {evaluation_id}")
        self._require_since(
            by.effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was commissioned"
        )
        return evaluation

    def _full_procedure(self, evaluation_id: str, by: Attribution) -> dict[str, Any]:
        """An agency's evaluation under 两审一督导 in full (a step only it has: 409 ``wrong-stage`` otherwise)."""
        evaluation = self._commissioned_evaluation(evaluation_id, by)
        engagement.require_full(evaluation, f"key evaluation {evaluation_id}")
        return evaluation

    def submit_key_evaluation_plan(self, evaluation_id: str, params: rules.RuleParameters, by: Attribution) -> None:
        """The agency submits its evaluation plan (评价方案), for finance to review within the ruleset's days."""
        evaluation = self._full_procedure(evaluation_id, by)
        review_due = engagement.plan_submission(evaluation, params, by.effective_on)
        self.record(self.KeyEvaluationPlanSubmitted, by, evaluation_id=evaluation_id, review_due=review_due)

    def review_key_evaluation_plan(
        self, evaluation_id: str, approved: bool, by: Attribution, params: rules.RuleParameters | None = None
    ) -> None:
        """Finance reviews the plan: under the full procedure, the one the agency submitted (409
        ``plan-not-submitted``), a rejection with its reason; an approval opens the supervision and the report."""
        evaluation = self._commissioned_evaluation(evaluation_id, by)
        dues = engagement.plan_review(evaluation, approved, by, params)
        self.record(self.KeyEvaluationPlanReviewed, by, evaluation_id=evaluation_id, approved=approved, **dues)

    def supervise_key_evaluation(
        self,
        evaluation_id: str,
        notes: str,
        findings: list[str],
        by: Attribution,
        params: rules.RuleParameters | None = None,
    ) -> int:
        """一督导: finance supervises the evaluation — what it saw (``notes``) and its findings (督导意见), which the
        agency answers within the ruleset's days. Under the full procedure, once the plan is approved (409
        ``plan-not-reviewed``), until the report is (409 ``already-decided``), with at least one finding. The notes
        say what was seen: the event records no reason besides them (as first recorded)."""
        evaluation = self._commissioned_evaluation(evaluation_id, by)
        number, answer_due = engagement.supervision(evaluation, notes, findings, by.effective_on, params)
        self.record(
            self.KeyEvaluationSupervised,
            replace(by, reason=""),
            evaluation_id=evaluation_id,
            supervision_no=number,
            notes=notes,
            findings=list(findings),
            answer_due=answer_due,
        )
        return number

    def answer_key_evaluation_supervision(
        self, evaluation_id: str, supervision_no: int, answer: str, by: Attribution
    ) -> None:
        """The agency answers a supervision's findings (督导意见回复), once."""
        evaluation = self._full_procedure(evaluation_id, by)
        engagement.answer(evaluation, supervision_no, answer, by.effective_on, evaluation_id)
        self.record(
            self.KeyEvaluationSupervisionAnswered,
            replace(by, reason=""),
            evaluation_id=evaluation_id,
            supervision_no=supervision_no,
            answer=answer,
        )

    def submit_key_evaluation_report(self, evaluation_id: str, params: rules.RuleParameters, by: Attribution) -> None:
        """The agency submits its evaluation report (评价报告): after its plan was approved, supervised at least
        once with every finding answered."""
        evaluation = self._full_procedure(evaluation_id, by)
        review_due = engagement.report_submission(evaluation, params, by.effective_on)
        self.record(self.KeyEvaluationReportSubmitted, by, evaluation_id=evaluation_id, review_due=review_due)

    def review_key_evaluation_report(
        self, evaluation_id: str, approved: bool, by: Attribution, params: rules.RuleParameters | None = None
    ) -> None:
        """Finance reviews the report: under the full procedure, the one the agency submitted (409
        ``report-not-submitted``), supervised with every finding answered; a rejection with its reason."""
        evaluation = self._commissioned_evaluation(evaluation_id, by)
        report_due = engagement.report_review(evaluation, approved, by, params)
        self.record(
            self.KeyEvaluationReportReviewed,
            by,
            evaluation_id=evaluation_id,
            approved=approved,
            report_due=report_due,
        )

    def score_key_evaluation(
        self,
        evaluation_id: str,
        scores: dict[str, Decimal],
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> None:
        """The score stands only after both reviews (and, under the full procedure, a supervision answered)."""
        evaluation = self._commissioned_evaluation(evaluation_id, by)
        engagement.require_scorable(
            evaluation, "a key-evaluation score is accepted only after the plan and report reviews (两审)"
        )
        self.record(
            self.KeyEvaluationScored,
            by,
            evaluation_id=evaluation_id,
            ruleset_version=ruleset_version,
            **self._evaluation_result(scores, params),
        )

    def void_key_evaluation(self, evaluation_id: str, agency_name: str, blacklisting_no: int, by: Attribution) -> bool:
        """作废 on a blacklisting: the evaluation, scored or not, stands no more (whatever the project's stage: the
        record says so). False where it is voided already. Not dated before the commission (422
        ``effective-date-too-early``): a blacklisting dated back before it would void what was commissioned in good
        faith on a day the agency was not listed."""
        evaluation = self.key_evaluation(evaluation_id)
        if evaluation.get("voided") is not None:
            return False
        self._require_since(
            by.effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was commissioned"
        )
        self.record(
            self.KeyEvaluationVoided,
            by,
            evaluation_id=evaluation_id,
            agency_name=agency_name,
            blacklisting_no=blacklisting_no,
            was_scored=evaluation["score"] is not None,
        )
        return True

    def unfinished_or_named(self, agency_id: str, named: Collection[str]) -> list[str]:
        """The evaluations of this project a blacklisting of the agency ``agency_id`` voids: those it had not
        finished (unscored), and those scored that the misconduct cited names (``named``)."""
        return engagement.unfinished_or_named(self.key_evaluations, agency_id, named)

    @property
    def needs_new_evaluation(self) -> bool:
        """A voided key evaluation and no key evaluation scored since (not voided) to replace it."""
        voided: list[int] = [
            item["voided"]["at_version"] for item in self.key_evaluations.values() if item.get("voided")
        ]
        if not voided:
            return False
        replaced: list[int] = [
            item["score"]["scored_at_version"]
            for item in self.key_evaluations.values()
            if item["score"] is not None and item.get("voided") is None
        ]
        return max(replaced, default=0) < max(voided)

    def _require_no_void(self) -> None:
        if self.needs_new_evaluation:
            raise RuleViolation(
                f"a key evaluation of {self.code} was voided: a new one must be scored first",
                code="new-evaluation-required",
            )

    def evaluation_basis(self) -> tuple[str, str] | None:
        """The grade results are applied on: a key evaluation over a re-evaluation over the self-evaluation (an
        agency's re-evaluation, commissioned by finance, counts as the re-evaluation). A voided key evaluation is no
        basis."""
        scored = [
            item for item in self.key_evaluations.values() if item["score"] is not None and item.get("voided") is None
        ]
        if scored:
            latest = max(scored, key=lambda item: item["score"]["scored_at_version"])
            return ("re_evaluation" if latest.get("re_evaluation") else "key_evaluation"), latest["score"]["grade"]
        if self.re_evaluation is not None:
            return "re_evaluation", self.re_evaluation["grade"]
        if self.self_evaluation is not None:
            return "self_evaluation", self.self_evaluation["grade"]
        return None

    def apply_results(
        self, decision: str | None, params: rules.RuleParameters, ruleset_version: int, by: Attribution
    ) -> str:
        self._require_stage({Stage.SELF_EVALUATED}, "apply results")
        self._require_no_void()
        self._require_re_evaluation_if_sampled("applying its results")
        basis = self.evaluation_basis()
        if basis is None:
            raise RuleViolation("there is no evaluation result to apply", code="no-results")
        source, grade = basis
        default = rules.result_application_default(grade, params)
        chosen = enum_value(rules.ResultApplication, decision or default, "decision")
        if chosen != default and not by.reason.strip():
            raise InvalidInput(
                f"departing from the default ({default}) for grade {grade} needs a reason",
                code="reason-required",
                field="reason",
            )
        assert self.approved_amount is not None
        next_year = rules.reduced_budget(self.approved_amount, params) if chosen == "reduce" else None
        self.record(
            self.ResultsApplied,
            by,
            decision=chosen.value,
            basis=source,
            grade=grade,
            next_year_budget=next_year,
            ruleset_version=ruleset_version,
            results_disclosure_due=rules.results_disclosure_due(by.effective_on, params),
        )
        return chosen.value

    def decide_policy(self, decision: str | None, by: Attribution) -> str:
        """政策调整 of a policy, once its results are applied: by default from the grade they rested on (优/良 continue,
        中 adjust, 差 terminate); departing from it needs a reason. A terminated policy's continuation is not funded
        unless finance overrides it (:mod:`project_linkage`)."""
        if self.kind != ProjectKind.POLICY:
            raise RuleViolation(f"{self.code} is a project, not a policy: no 政策调整", code="not-a-policy")
        self._require_stage({Stage.RESULTS_APPLIED}, "decide the policy's adjustment")
        if self.policy_decision is not None:
            raise RuleViolation(f"the 政策调整 of {self.code} is already decided", code="already-decided")
        assert self.results is not None
        self._require_since(by.effective_on, self.results, "applied_on", f"the results of {self.code} were applied")
        grade = self.results["grade"]
        default = rules.policy_decision_default(grade)
        chosen = enum_value(rules.PolicyDecision, decision or default, "decision")
        if chosen != default and not by.reason.strip():
            raise InvalidInput(
                f"departing from the default ({default}) for grade {grade} needs a reason",
                code="reason-required",
                field="reason",
            )
        self.record(self.PolicyAdjustmentDecided, by, decision=chosen.value, grade=grade)
        return chosen.value

    def require_rectification(self, issues: list[str], source: str, deadline: date, by: Attribution) -> int:
        self._require_stage(IMPLEMENTING | EVALUATED | {Stage.CANCELLED}, "require rectification")
        enum_value(RectificationSource, source, "source")
        if not issues:
            raise InvalidInput("list at least one issue to rectify", field="issues")
        if deadline <= by.effective_on:
            raise InvalidInput(
                "the deadline must be after the date it is required", code="invalid-date", field="deadline"
            )
        number = len(self.rectifications) + 1
        self.record(
            self.RectificationRequired,
            by,
            rectification_no=number,
            issues=list(issues),
            source=source,
            deadline=deadline,
        )
        return number

    def report_rectification(self, number: int, measures: str, by: Attribution) -> None:
        self._require_open()
        rectification = self.rectification(number)
        self._require_since(by.effective_on, rectification, "required_on", f"rectification {number} was required")
        if rectification["status"] != "open":
            raise RuleViolation(f"rectification {number} is not open", code="already-decided")
        if not measures.strip():
            raise InvalidInput("describe the measures taken", field="measures")
        self.record(self.RectificationReported, by, rectification_no=number, measures=measures)

    def decide_rectification(self, number: int, accept: bool, by: Attribution) -> None:
        self._require_open()
        rectification = self.rectification(number)
        self._require_since(by.effective_on, rectification, "required_on", f"rectification {number} was required")
        if rectification["status"] != "reported":
            raise RuleViolation(f"rectification {number} has no report awaiting a decision", code="already-decided")
        if not accept:
            _require_reason(by, "a rejection")
        event = self.RectificationAccepted if accept else self.RectificationRejected
        self.record(event, by, rectification_no=number)

    def mark_rectifications_overdue(self, today: date, principal: Principal) -> list[int]:
        marked = []
        for item in self.rectifications:
            if item["status"] != "accepted" and not item["overdue"] and today > item["deadline"]:
                why = f"rectification {item['no']} not completed by {item['deadline']}"
                self.record(self.RectificationOverdue, Attribution(principal, today, why), rectification_no=item["no"])
                marked.append(item["no"])
        return marked

    def next_overdue_check(self) -> date | None:
        """The first day a rectification could be recorded overdue, unless something is recorded before."""
        return min(
            (
                item["deadline"] + timedelta(days=1)
                for item in self.rectifications
                if item["status"] != "accepted" and not item["overdue"]
            ),
            default=None,
        )

    # ------------------------------------------------------------ spot checks and escalation

    def record_spot_check(
        self,
        subject: str,
        month: int | None,
        findings: list[str],
        by: Attribution,
        *,
        corrective_action: str | None = None,
        amount: Decimal | None = None,
        rectification_deadline: date | None = None,
    ) -> int:
        """不定期核查 by finance of the department's monitoring report through ``month`` or of its self-evaluation, with
        its findings; a finding may order a corrective action (纠偏, as for a deviation: while the project is
        implemented, with a reason) and a rectification of the findings by ``rectification_deadline``. Returns the
        spot check's number."""
        checked = enum_value(SpotCheckSubject, subject, "subject")
        if checked is SpotCheckSubject.MONITORING:
            self._require_stage(IMPLEMENTING | EVALUATED | {Stage.CANCELLED}, "spot-check a monitoring report")
            if month is None:
                raise InvalidInput("a spot check of monitoring names the report's month", field="month")
            report = next((item for item in self.monitoring if item["month"] == month), None)
            if report is None:
                raise NotFound(
                    f"no monitoring report through month {month} to check", code="spot-check-subject-not-found"
                )
            self._require_since(by.effective_on, report, "reported_on", f"the report for month {month} was filed")
        else:
            self._require_stage(EVALUATED, "spot-check the self-evaluation")
            if month is not None:
                raise InvalidInput("only a spot check of monitoring names a month", field="month")
            if self.self_evaluation is None:
                raise NotFound("no self-evaluation to check", code="spot-check-subject-not-found")
        if not findings or not all(finding.strip() for finding in findings):
            raise InvalidInput("list the spot check's findings", field="findings")
        choice = None
        if corrective_action is not None:
            choice = self._corrective_action(corrective_action, amount, by)
        elif amount is not None:
            raise InvalidInput("an amount goes with a corrective action only", field="amount")
        if rectification_deadline is not None and rectification_deadline <= by.effective_on:
            raise InvalidInput(
                "the deadline must be after the date it is required",
                code="invalid-date",
                field="rectification_deadline",
            )
        number = len(self.spot_checks) + 1
        self.record(
            self.SpotChecked,
            by,
            spot_check_no=number,
            subject=checked.value,
            month=month,
            findings=list(findings),
            corrective_action=None if choice is None else choice.value,
            amount=amount,
            rectification_no=None if rectification_deadline is None else len(self.rectifications) + 1,
        )
        if rectification_deadline is not None:
            self.require_rectification(list(findings), RectificationSource.SPOT_CHECK.value, rectification_deadline, by)
        return number

    @staticmethod
    def _escalation_due(item: dict[str, Any], params: rules.RuleParameters, calendar: WorkingDays) -> date | None:
        """The first day ``item`` (a rectification) is escalated unless accepted first; None: it never will be."""
        if item["status"] == "accepted" or item.get("escalation") is not None:
            return None
        grace_ends = rules.add_working_days(
            item["deadline"], params.rectification_escalation_working_days, calendar[0], calendar[1]
        )
        return grace_ends + timedelta(days=1)

    def escalate_overdue_rectifications(
        self,
        today: date,
        params: rules.RuleParameters,
        ruleset_version: int,
        calendar: WorkingDays,
        principal: Principal,
        *,
        calendar_version: int | None = None,
    ) -> list[int]:
        """整改逾期升级: every rectification recorded overdue and still not accepted once the ruleset's
        ``rectification_escalation_working_days`` have passed after its deadline (working days on ``calendar``: its
        holidays and working weekends) is escalated to finance, once (a project with a rectification not accepted is
        never closed)."""
        escalated = []
        for item in self.rectifications:
            due = self._escalation_due(item, params, calendar)
            if due is None or not item["overdue"] or today < due:
                continue
            why = (
                f"rectification {item['no']} not accepted {params.rectification_escalation_working_days} working days "
                f"after its deadline {item['deadline']}"
            )
            self.record(
                self.RectificationEscalated,
                Attribution(principal, today, why),
                rectification_no=item["no"],
                grace_working_days=params.rectification_escalation_working_days,
                grace_ends=due - timedelta(days=1),
                ruleset_version=ruleset_version,
                calendar_version=calendar_version,
            )
            escalated.append(item["no"])
        return escalated

    def next_escalation_check(self, params: rules.RuleParameters, calendar: WorkingDays) -> date | None:
        """The first day a rectification could be escalated, unless something is recorded before (one not yet
        recorded overdue is escalated no earlier than the overdue sweep records it, which changes the project)."""
        if self.stage == Stage.CLOSED:
            return None
        days = (self._escalation_due(item, params, calendar) for item in self.rectifications if item["overdue"])
        return min((day for day in days if day is not None), default=None)

    def decide_escalation(self, number: int, decision: str, amount: Decimal, by: Attribution) -> None:
        """调减 or 收回 by finance, with a reason, on an escalated rectification, once: reduce lowers the approved
        budget by ``amount``, never below what is executed; recover takes back ``amount`` of the approved funds, spent
        or not."""
        self._require_open()
        item = self.rectification(number)
        escalation = item.get("escalation")
        if escalation is None:
            raise RuleViolation(f"rectification {number} is not escalated", code="rectification-not-escalated")
        require_not_before(by.effective_on, escalation["escalated_on"], f"rectification {number} was escalated")
        if escalation["decision"] is not None:
            raise RuleViolation(f"the escalation of rectification {number} is already decided", code="already-decided")
        choice = enum_value(EscalationDecision, decision, "decision")
        _require_reason(by, "a decision on an escalation")
        if amount <= 0:
            raise InvalidInput("the amount must be positive", code="invalid-money", field="amount")
        assert self.approved_amount is not None
        limit = self.approved_amount - self.executed if choice is EscalationDecision.REDUCE else self.approved_amount
        if amount > limit:
            what = "unspent budget" if choice is EscalationDecision.REDUCE else "approved budget"
            raise RuleViolation(f"{amount} exceeds the {limit} of {what}", code="amount-exceeds-budget")
        self.record(self.EscalationDecided, by, rectification_no=number, decision=choice.value, amount=amount)

    def open_deadlines(self, params: rules.RuleParameters) -> list[Deadline]:
        """The obligations not yet met (时限), earliest first, due on the days of the ruleset in force (``params``)
        (:func:`ledger.domain.deadlines.open_deadlines`)."""
        return deadlines.open_deadlines(
            Stage(self.stage),
            self.fiscal_year,
            self.monitoring,
            self.deviations,
            self.rectifications,
            params,
            self.owed_disclosures,
            self.pending_ex_ante_filing,
            self.key_evaluations,
        )

    @property
    def owed_disclosures(self) -> dict[str, date]:
        """The disclosures owed and not yet made (goals, results), each with the day it is due by."""
        return {what: due for what, due in self.disclosure_due.items() if what not in self.disclosed}

    def raise_deadline_notices(self, today: date, params: rules.RuleParameters, principal: Principal) -> list[Deadline]:
        """Record, once each, an open obligation's approaching notice (from ``deadline_warning_days`` before its
        due date) and its missed notice (after it); return the deadlines noticed."""
        due = deadlines.notices_due(
            self.open_deadlines(params), self.deadline_notices, today, params.deadline_warning_days
        )
        for notice in due:
            self.record(
                self.DeadlineMissed if notice.missed else self.DeadlineApproaching,
                Attribution(principal, notice.effective_on, notice.reason),
                deadline=notice.deadline.kind,
                ref=notice.deadline.ref,
                due_on=notice.deadline.due_on,
            )
        return [notice.deadline for notice in due]

    def next_deadline_notice(self, params: rules.RuleParameters) -> date | None:
        """The first day a deadline notice could fall due, unless something is recorded before."""
        return deadlines.next_notice_day(
            self.open_deadlines(params), self.deadline_notices, params.deadline_warning_days
        )

    def disclose(self, what: str, by: Attribution) -> None:
        """信息公开 of the goals (once approved) or the results (once there are any), each once — also after the
        project's file is closed, which does not discharge the duty. The event records what the public may read from
        then on (:func:`ledger.domain.disclosure.project_content`), the day it was due by and whether it was late."""
        item = enum_value(Disclosure, what, "what")
        if item.value in self.disclosed:
            raise RuleViolation(f"{item.value} already disclosed", code="already-decided")
        if item is Disclosure.GOALS and self.goals_rating not in (Grade.EXCELLENT, Grade.GOOD):
            raise RuleViolation("only approved goals are disclosed", code="goals-not-approved")
        if item is Disclosure.RESULTS and self.evaluation_basis() is None:
            raise RuleViolation("there are no results to disclose", code="no-results")
        due = self.disclosure_due.get(item.value)
        self.record(
            self.Disclosed,
            by,
            what=item.value,
            content=project_content(self, item.value),
            due_on=due,
            late=late(by.effective_on, due),
        )

    def close(self, by: Attribution) -> None:
        self._require_stage({Stage.RESULTS_APPLIED, Stage.CANCELLED, Stage.REJECTED, Stage.GOALS_REFUSED}, "close")
        self._require_re_evaluation_if_sampled("closing its file")
        if self.open_rectifications:
            numbers = ", ".join(str(item["no"]) for item in self.open_rectifications)
            raise RuleViolation(f"rectifications {numbers} are still open", code="open-rectifications")
        self._require_no_void()
        unfinished = [
            key for key, item in self.key_evaluations.items() if item["score"] is None and item.get("voided") is None
        ]
        if unfinished:
            raise RuleViolation(f"key evaluations {', '.join(unfinished)} are not finished", code="evaluations-open")
        self.record(self.Closed, by)
