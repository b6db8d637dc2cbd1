"""A hypothesis state machine that throws random commands at one organisation's overall goals for a year
(整体绩效目标) — submission, review, adjustment, self-evaluation, finance's evaluation (by an agency under 两审一督导 in
full, by finance itself, or by an agency commissioned as before the full procedure: the two reviews only), voiding on a
blacklisting, results and the control figure — and at the budgets of its department's projects, which the goals gate.

Most draws are refused; that is the point. After every step the invariants hold, a refused command has changed
nothing and recorded nothing, and at the end the stored events replay to exactly the live record (and a snapshot
restores it; saved to PostgreSQL, the repository loads it).

Over 500 lines: one hypothesis state machine: every rule is a command with its preconditions, and the invariants
check all of them together (the evaluation's 两审一督导 among them, step by step).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.application import Ledger
from ledger.domain import engagement, rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import DomainError
from ledger.domain.overall import GoalsStatus, OrganisationKind, OverallGoals, budget_gate, validate_overall_goals
from ledger.domain.project import Project
from ledger.domain.values import FEN, Attribution, Grade, Indicator, Principal
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.overall_support import overall_indicators
from tests.ledger.domain.project_support import goals as project_goals
from tests.ledger.domain.project_support import mutating

PARAMS = rules.DEFAULT_PARAMETERS
FINANCE = Principal("fin", "finance", "市财政局")
DEPT = Principal("dep", "department", "教育局")
UNIT = Principal("school", "department", "德令哈市第一中学")
AGENCY = Principal("ag", "agency", "某咨询评估有限公司")
WEIGHTS = dict(PARAMS.overall_evaluation_weights)
RATES = dict(PARAMS.control_figure_rates)

ratings = st.sampled_from([grade.value for grade in Grade])
reasons = st.sampled_from(["", "理由"])
shares = st.sampled_from([Decimal(x) for x in ("0", "0.5", "0.8", "0.95", "1", "1.1")])
qualities = st.sampled_from(["好", "较好", "一般", "较差", "很好"])


def indicators(variant: int = 0) -> list[Indicator]:
    """The six indicators (variant 0), a higher target (1), weights off by a fen (2: refused), a dimension missing
    (3: refused)."""
    items = overall_indicators()
    if variant == 1:
        items[2] = replace(items[2], target=Decimal("99.5"))
    elif variant == 2:
        items[0] = replace(items[0], weight=Decimal("20.01"))
    elif variant == 3:
        items = items[:5]
    return items


def actuals(share: Decimal, quality: str) -> dict[str, Decimal | str]:
    """Actual values at ``share`` of each quantitative target (for <= the reverse), and ``quality`` for both
    qualitative ones."""
    return {
        "cost": (Decimal(100) / max(share, Decimal("0.01"))).quantize(FEN),
        "efficiency": Decimal(90) * share,
        "duty": Decimal(99) * share,
        "social": quality,
        "sustain": quality,
        "satisfied": Decimal(90) * share,
    }


class OverallGoalsMachine(RuleBasedStateMachine):
    ledger: Ledger | None = None  # set by the PostgreSQL-backed subclass

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []
        self.refusals = 0
        self.approvals: list[tuple[dict[str, Any], str, int]] = []  # (the fact recorded, the goals' status, version)

    @initialize(
        kind=st.sampled_from(list(OrganisationKind)),
        spelling=st.sampled_from(["", " "]),
        year=st.sampled_from([2021, 2022]),
    )
    def submit(self, kind: OrganisationKind, spelling: str, year: int) -> None:
        """A department's own overall goals, or one of its school's, for a year below full coverage (2021) or at it
        (2022); each run's organisation named afresh (its goals' id follows from the name: runs saved to one database
        must not meet)."""
        tag = uuid4().hex[:8]
        department = f"教育局{tag}"
        name = department if kind is OrganisationKind.DEPARTMENT else f"第一中学{tag}"
        self.year = year
        self.today = date(year - 1, 10, 1)
        who = DEPT if kind is OrganisationKind.DEPARTMENT else UNIT
        self.goals = OverallGoals.submit(
            spelling + name, kind, department, year, indicators(), 1, Attribution(who, self.today)
        )
        self._collect()

    # ----------------------------------------------------------- harness

    def _collect(self) -> None:
        new = list(self.goals.pending_events)
        for item in new:
            assert isinstance(item, LedgerAggregate.Event)
            assert isinstance(item.effective_on, date)
        self.events.extend(new)
        if self.ledger is not None:
            self.ledger.save(self.goals)
        else:
            self.goals.collect_events()

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> DomainError | None:
        """Run ``command`` on the goals: done (its events collected), or refused having changed nothing."""
        before = copy.deepcopy({k: v for k, v in vars(self.goals).items() if k != "_pending_events"})
        try:
            command(*args, **kwargs)
        except DomainError as refusal:
            self.refusals += 1
            after = {k: v for k, v in vars(self.goals).items() if k != "_pending_events"}
            assert after == before, "a refused command changed the goals"
            assert not self.goals.pending_events, "a refused command recorded an event"
            return refusal
        self._collect()
        return None

    def by(self, principal: Principal, reason: str = "", days: int = 0) -> Attribution:
        return Attribution(principal, self.today + timedelta(days=days), reason)

    @property
    def staff(self) -> Principal:
        return DEPT if self.goals.kind == OrganisationKind.DEPARTMENT else UNIT

    # ------------------------------------------------------------- rules

    @rule(step=st.integers(min_value=0, max_value=90))
    def time_passes(self, step: int) -> None:
        self.today += timedelta(days=step)

    @rule(variant=st.integers(0, 3))
    def resubmit(self, variant: int) -> None:
        self.attempt(self.goals.resubmit, indicators(variant), 1, self.by(self.staff))

    @rule(rating=ratings, reason=reasons)
    def review(self, rating: str, reason: str) -> None:
        self.attempt(self.goals.review, rating, "", self.by(FINANCE, reason))

    @rule(variant=st.integers(0, 3), reason=reasons)
    def request_adjustment(self, variant: int, reason: str) -> None:
        self.attempt(self.goals.request_adjustment, indicators(variant), self.by(self.staff, reason))

    @rule(number=st.integers(1, 3), approve=st.booleans(), reason=reasons)
    def decide_adjustment(self, number: int, approve: bool, reason: str) -> None:
        self.attempt(self.goals.decide_adjustment, number, approve, self.by(FINANCE, reason))

    @rule(share=shares, quality=qualities, drop=st.booleans())
    def self_evaluate(self, share: Decimal, quality: str, drop: bool) -> None:
        given = actuals(share, quality)
        if drop:
            del given["duty"]
        self.attempt(self.goals.self_evaluate, given, PARAMS, 1, self.by(self.staff))

    @rule(how=st.sampled_from(["agency", "agency", "finance", "before"]))
    def commission(self, how: str) -> None:
        """An agency's under 两审一督导 in full (the ruleset given), finance's own, or an agency's commissioned as
        before the full procedure (no ruleset: the two reviews only, as its stored commission records none)."""
        agency = (None, None) if how == "finance" else ("a1", AGENCY.organisation)
        params = None if how == "before" else PARAMS
        self.attempt(self.goals.commission_evaluation, *agency, self.by(FINANCE), params)

    @rule(number=st.integers(1, 3), what=st.sampled_from(["plan", "report"]))
    def submit_evaluation(self, number: int, what: str) -> None:
        """两审一督导: the agency submits its plan or its report (refused outside the full procedure)."""
        method = self.goals.submit_evaluation_plan if what == "plan" else self.goals.submit_evaluation_report
        self.attempt(method, number, PARAMS, self.by(AGENCY))

    @rule(number=st.integers(1, 3), what=st.sampled_from(["plan", "report"]), approved=st.booleans(), reason=reasons)
    def review_evaluation(self, number: int, what: str, approved: bool, reason: str) -> None:
        method = self.goals.review_evaluation_plan if what == "plan" else self.goals.review_evaluation_report
        self.attempt(method, number, approved, self.by(FINANCE, reason), PARAMS)

    @rule(number=st.integers(1, 3), notes=st.sampled_from(["", "现场督导"]))
    def supervise(self, number: int, notes: str) -> None:
        """A supervision note without findings (refused under the full procedure, which wants findings)."""
        self.attempt(self.goals.note_evaluation_supervision, number, notes, self.by(FINANCE))

    @rule(number=st.integers(1, 3), findings=st.sampled_from([[], ["底稿不全"], ["底稿不全", "样本偏少"], [" "]]))
    def supervise_with_findings(self, number: int, findings: list[str]) -> None:
        self.attempt(self.goals.supervise_evaluation, number, "现场督导", findings, self.by(FINANCE), PARAMS)

    @rule(number=st.integers(1, 3), supervision=st.integers(1, 3), text=st.sampled_from(["已补充底稿", " "]))
    def answer_supervision(self, number: int, supervision: int, text: str) -> None:
        self.attempt(self.goals.answer_evaluation_supervision, number, supervision, text, self.by(AGENCY))

    @rule(number=st.integers(1, 3))
    def void(self, number: int) -> None:
        """The agency blacklisted: its evaluation voided, scored or not (the application voids only an agency's)."""
        evaluations = self.goals.evaluations
        if 1 <= number <= len(evaluations) and evaluations[number - 1]["agency_id"] is None:
            return
        if self.attempt(self.goals.void_evaluation, number, AGENCY.organisation, 1, self.by(FINANCE)) is None:
            event("evaluation voided")

    @rule(
        number=st.integers(1, 3),
        points=st.tuples(*(st.integers(0, int(weight) + 1) for weight in WEIGHTS.values())),
    )
    def score(self, number: int, points: tuple[int, ...]) -> None:
        scores = dict(zip(WEIGHTS, map(Decimal, points), strict=True))
        evaluations = self.goals.evaluations
        agency = 1 <= number <= len(evaluations) and evaluations[number - 1]["agency_name"] is not None
        self.attempt(self.goals.score_evaluation, number, scores, PARAMS, 1, self.by(AGENCY if agency else FINANCE))

    @rule(
        base=st.sampled_from([Decimal("0.00"), Decimal("0.10"), Decimal("333.33"), Decimal("12000000.00")]),
        rate=st.sampled_from([None, None, Decimal("0.05"), Decimal(0), Decimal("-0.0333"), Decimal("-1"), Decimal(2)]),
        reason=reasons,
    )
    def apply_results(self, base: Decimal, rate: Decimal | None, reason: str) -> None:
        if self.attempt(self.goals.apply_results, base, rate, PARAMS, 1, self.by(FINANCE, reason)) is None:
            event(f"results applied: {self.goals.results and self.goals.results['decision']}")

    @rule(amount=st.sampled_from([Decimal("1.00"), Decimal("4000000.00")]))
    def approve_a_budget(self, amount: Decimal) -> None:
        """A project of the department for the year, its goals approved: its budget is approved only as the
        department's overall goals allow (the gate reads the department's record — these goals, if they are the
        department's)."""
        project = Project.declare(
            Attribution(DEPT, date(self.year - 1, 9, 1)),
            code=f"P-{uuid4().hex[:8]}",
            name="测试项目",
            kind="project",
            department=self.goals.department,
            fiscal_year=self.year,
            budget_book="general_public",
            special_category=None,
            requested=Decimal("4000000.00"),
            new_major=False,
        )
        project.admit(PARAMS, Attribution(FINANCE, date(self.year - 1, 9, 2)))
        project.submit_goals(project_goals(), PARAMS, 1, Attribution(DEPT, date(self.year - 1, 9, 3)))
        project.review_goals("优", "", Attribution(FINANCE, date(self.year - 1, 9, 4)))
        read = self.goals if self.goals.kind == OrganisationKind.DEPARTMENT else None
        fact = budget_gate(self.goals.department, self.year, amount, read, PARAMS, 1)
        refused = fact["required"] and fact["status"] != GoalsStatus.APPROVED
        if refused:
            with pytest.raises(DomainError, match="整体绩效目标未审核通过") as refusal:
                project.approve_budget(amount, Attribution(FINANCE, date(self.year, 1, 15)), overall_goals=fact)
            assert refusal.value.code == "overall-goals-not-approved"
            event("budget refused by the gate")
            return
        project.approve_budget(amount, Attribution(FINANCE, date(self.year, 1, 15)), overall_goals=fact)
        (approval,) = [item for item in project.pending_events if isinstance(item, Project.BudgetApproved)]
        assert approval.overall_goals == fact
        self.approvals.append((fact, self.goals.status, self.goals.version))
        event(f"budget approved: required={fact['required']}")

    @rule(
        on=st.one_of(st.dates(), st.dates(min_value=date(2020, 9, 1), max_value=date(2024, 12, 31))),
        command=st.sampled_from(
            ["review", "decide", "self", "commission", "plan", "supervise", "submit", "answer", "score", "results"]
        ),
    )
    def at_any_date(self, on: date, command: str) -> None:
        """A command dated anywhere from year 1 to 9999: before what it concerns came to be, or outside the year's
        evaluation, it is refused and changes nothing; whatever is recorded keeps ``dated_as_the_rules_say``."""
        goals = self.goals
        calls: dict[str, tuple[Any, ...]] = {
            "review": (goals.review, "优", "", Attribution(FINANCE, on)),
            "decide": (goals.decide_adjustment, len(goals.adjustments), True, Attribution(FINANCE, on)),
            "self": (goals.self_evaluate, actuals(Decimal(1), "好"), PARAMS, 1, Attribution(self.staff, on)),
            "commission": (goals.commission_evaluation, "a1", AGENCY.organisation, Attribution(FINANCE, on), PARAMS),
            "plan": (goals.review_evaluation_plan, len(goals.evaluations), True, Attribution(FINANCE, on), PARAMS),
            "supervise": (
                goals.supervise_evaluation,
                len(goals.evaluations),
                "督导",
                ["意见"],
                Attribution(FINANCE, on),
                PARAMS,
            ),
            "submit": (goals.submit_evaluation_plan, len(goals.evaluations), PARAMS, Attribution(AGENCY, on)),
            "answer": (goals.answer_evaluation_supervision, len(goals.evaluations), 1, "回复", Attribution(AGENCY, on)),
            "score": (
                goals.score_evaluation,
                len(goals.evaluations),
                dict(WEIGHTS),
                PARAMS,
                1,
                Attribution(FINANCE, on),
            ),
            "results": (goals.apply_results, Decimal("100.00"), None, PARAMS, 1, Attribution(FINANCE, on)),
        }
        method, *args = calls[command]
        self.attempt(method, *args)

    @rule(steps=st.integers(min_value=1, max_value=10), choice=st.integers(min_value=0, max_value=5))
    def advance(self, steps: int, choice: int) -> None:
        """Take the next valid step of the year, so random runs reach every state: goals reviewed (returned or
        refused now and then), adjusted, self-evaluated, evaluated by finance or an agency, results applied."""
        for _ in range(steps):
            self.next_step(choice)

    def next_step(self, choice: int) -> None:
        goals = self.goals
        if goals.status != GoalsStatus.APPROVED:
            if goals.status == GoalsStatus.SUBMITTED:  # returned or refused once at most: then approved
                self.review("优" if goals.submissions > 1 else ["优", "良", "中", "优", "差", "良"][choice], "理由")
            else:
                self.resubmit(choice % 2)
            return
        if goals.pending_adjustment is not None:
            self.today += timedelta(days=5)
            self.decide_adjustment(len(goals.adjustments), choice != 1, "理由")
            return
        if not goals.under_evaluation and choice == 0 and len(goals.adjustments) < 2:
            self.request_adjustment(1, "职能调整")
            return
        evaluation_opens = date(self.year, 12, 1)
        if self.today < evaluation_opens:
            self.today = evaluation_opens + timedelta(days=choice * 10)
            return
        if goals.results is not None and not goals.needs_new_evaluation:
            self.time_passes(30)
            return
        if goals.self_evaluation is None and choice in (0, 1, 2):
            self.self_evaluate(
                [Decimal("0.8"), Decimal("0.95"), Decimal(1)][choice], ["好", "一般", "较好"][choice], False
            )
            return
        open_ones = [item for item in goals.evaluations if engagement.is_unfinished(item)]
        if open_ones:
            self.today += timedelta(days=3)
            self.next_evaluation_step(open_ones[0], choice)
            return
        if (choice in (3, 4) and len(goals.evaluations) < 3) or goals.needs_new_evaluation:
            self.commission(["agency", "finance", "before"][(choice + len(goals.evaluations)) % 3])
            return
        rate = [None, None, Decimal("-0.02"), None, Decimal("0.03"), None][choice]
        self.today += timedelta(days=7)
        self.apply_results(Decimal("12000000.00"), rate, "理由" if rate is not None else "")

    def next_evaluation_step(self, item: dict[str, Any], choice: int) -> None:
        """The next step of an unfinished evaluation: under 两审一督导 in full the agency's plan, its review (rejected
        once now and then, with the reason), a supervision with findings, the agency's answers, its report, the
        review, the score; outside it the two reviews and the score. An agency's voided now and then (blacklisted)."""
        number, full = item["no"], engagement.is_full(item)
        rejected = {
            (type(seen).__name__, seen.approved)
            for seen in self.events
            if isinstance(seen, OverallGoals.EvaluationPlanReviewed | OverallGoals.EvaluationReportReviewed)
            and seen.evaluation_no == number
        }
        if choice == 5 and item["agency_id"] is not None and len(self.goals.evaluations) < 3:
            self.void(number)
        elif full and item["plan_approved"] is not True and not item["plan_pending"]:
            if choice in (1, 3):
                self.review_evaluation(number, "plan", True, "")  # refused: no plan submitted
            self.submit_evaluation(number, "plan")
        elif item["plan_approved"] is not True:
            reject = choice == 4 and ("EvaluationPlanReviewed", False) not in rejected
            self.review_evaluation(number, "plan", not reject, "方案不完整" if reject else "")
        elif full and not item["supervisions"]:
            self.skip_ahead(number, choice)  # refused: not supervised yet
            self.supervise_with_findings(number, [[], ["底稿不全"], ["底稿不全", "样本偏少"]][choice % 3 or 1])
        elif full and any(each["findings"] and each["answer"] is None for each in item["supervisions"]):
            self.skip_ahead(number, choice)  # refused: a finding unanswered
            open_no = next(each["no"] for each in item["supervisions"] if each["answer"] is None and each["findings"])
            self.answer_supervision(number, open_no, "已补充底稿")
        elif full and item["report_approved"] is not True and not item["report_pending"]:
            self.submit_evaluation(number, "report")
        elif item["report_approved"] is not True:
            reject = choice == 2 and ("EvaluationReportReviewed", False) not in rejected
            self.review_evaluation(number, "report", not reject, "报告需补充" if reject else "")
        else:
            points = tuple(max(int(weight) - choice, 0) for weight in WEIGHTS.values())
            self.score(number, points)

    def skip_ahead(self, number: int, choice: int) -> None:
        """Before 一督导 is done: the report submitted, and now and then reviewed and scored too — all refused."""
        self.submit_evaluation(number, "report")
        if choice in (1, 3):
            self.review_evaluation(number, "report", True, "")
            self.score(number, tuple(int(weight) for weight in WEIGHTS.values()))

    # -------------------------------------------------------- invariants

    @invariant()
    def version_counts_events(self) -> None:
        assert self.goals.version == len(self.events)
        assert [item.originator_version for item in self.events] == list(range(1, len(self.events) + 1))

    @invariant()
    def goals_are_always_six_dimensions_weighing_100(self) -> None:
        validate_overall_goals(self.goals.indicators)

    @invariant()
    def the_status_is_the_last_review_and_approval_is_for_good(self) -> None:
        status, approved_at = GoalsStatus.SUBMITTED.value, None
        for index, item in enumerate(self.events):
            if isinstance(item, OverallGoals.Resubmitted):
                assert approved_at is None, "approved goals were resubmitted"
                status = GoalsStatus.SUBMITTED.value
            elif isinstance(item, OverallGoals.Reviewed):
                assert status == GoalsStatus.SUBMITTED, "goals reviewed that were not awaiting review"
                status = {"优": "approved", "良": "approved", "中": "returned", "差": "refused"}[item.rating]
                if status == GoalsStatus.APPROVED:
                    approved_at = index
            elif not isinstance(item, OverallGoals.Submitted):
                assert approved_at is not None, f"{type(item).__name__} before approval"
        assert self.goals.status == status

    @invariant()
    def adjustments_one_at_a_time_and_none_once_under_evaluation(self) -> None:
        assert sum(1 for item in self.goals.adjustments if item["status"] == "pending") <= 1
        evaluating = False
        for item in self.events:
            if isinstance(item, OverallGoals.SelfEvaluated | OverallGoals.EvaluationCommissioned):
                evaluating = True
            if isinstance(item, OverallGoals.AdjustmentRequested):
                assert not evaluating, "goals under evaluation were adjusted"

    @invariant()
    def the_self_evaluation_is_the_ledgers_score_of_the_goals(self) -> None:
        recorded = [item for item in self.events if isinstance(item, OverallGoals.SelfEvaluated)]
        assert len(recorded) <= 1
        own = self.goals.self_evaluation
        assert (own is None) == (not recorded)
        if own is not None:
            expected = rules.overall_self_evaluation_score(self.goals.indicators, own["actuals"], PARAMS)
            assert (own["total"], own["grade"]) == (expected.total, expected.grade)
            assert own["indicator_scores"] == {item.key: item.score for item in expected.indicator_scores}
            assert 0 <= own["total"] <= 100

    @invariant()
    def an_evaluation_is_scored_once_after_both_reviews_within_its_weights(self) -> None:
        self_total = None
        for item in self.events:
            if isinstance(item, OverallGoals.SelfEvaluated):
                self_total = item.total
            elif isinstance(item, OverallGoals.EvaluationScored):
                assert all(item.scores[name] <= weight for name, weight in WEIGHTS.items())
                assert item.total == sum(item.scores.values(), Decimal(0))
                assert item.grade == rules.grade(item.total, PARAMS)
                assert item.inflated == (
                    self_total is not None and self_total - item.total > PARAMS.inflation_threshold
                )
        for evaluation in self.goals.evaluations:
            if evaluation["score"] is not None:
                assert (evaluation["plan_approved"], evaluation["report_approved"]) == (True, True)
        scored = [item.evaluation_no for item in self.events if isinstance(item, OverallGoals.EvaluationScored)]
        assert len(scored) == len(set(scored))

    @invariant()
    def under_the_full_procedure_a_score_follows_the_agencys_plan_report_and_answered_supervision(self) -> None:
        """两审一督导 in full: no score before the agency's plan and report were submitted and approved, at least one
        supervision recorded and every finding answered — read from the events up to the score; outside it (finance's
        own, an old-style commission) no plan or report submitted and no answer owed."""
        for evaluation in self.goals.evaluations:
            number, full = evaluation["no"], engagement.is_full(evaluation)
            steps = [item for item in self.events if getattr(item, "evaluation_no", None) == number]
            names = [type(item).__name__ for item in steps]
            if not full:
                assert not {"EvaluationPlanSubmitted", "EvaluationReportSubmitted"} & set(names)
                assert not any(item["answer_due"] for item in evaluation["supervisions"])
                continue
            if "EvaluationScored" not in names:
                continue
            before = steps[: names.index("EvaluationScored")]
            approved = {type(item).__name__ for item in before if getattr(item, "approved", False)}
            assert approved == {"EvaluationPlanReviewed", "EvaluationReportReviewed"}
            assert {"EvaluationPlanSubmitted", "EvaluationReportSubmitted"} <= {type(item).__name__ for item in before}
            supervisions = [item for item in before if isinstance(item, OverallGoals.EvaluationSupervised)]
            answered = {
                item.supervision_no for item in before if isinstance(item, OverallGoals.EvaluationSupervisionAnswered)
            }
            assert supervisions, "scored without a supervision"
            assert all(item.supervision_no in answered for item in supervisions if item.findings), (
                "a finding unanswered"
            )
            assert evaluation["supervisions"]
            assert all(item["answer"] is not None for item in evaluation["supervisions"] if item["findings"])

    @invariant()
    def a_voided_evaluation_takes_no_later_step_and_is_no_basis(self) -> None:
        """作废 is final: once voided, nothing more is recorded of the evaluation (no review, supervision, answer,
        score, results on it, nor a second voiding); the live basis for results is never a voided evaluation."""
        voided: set[int] = set()
        for item in self.events:
            number = getattr(item, "evaluation_no", None)
            assert number is None or number not in voided, f"{type(item).__name__} of voided evaluation {number}"
            if isinstance(item, OverallGoals.EvaluationVoided):
                voided.add(item.evaluation_no)
                assert item.was_scored == any(
                    isinstance(seen, OverallGoals.EvaluationScored) and seen.evaluation_no == item.evaluation_no
                    for seen in self.events[: item.originator_version - 1]
                )
        assert voided == {item["no"] for item in self.goals.evaluations if item["voided"] is not None}
        basis = self.goals.result_basis()
        assert basis is None or basis["evaluation_no"] not in voided

    @invariant()
    def results_move_the_control_figure_as_the_ruleset_says_unless_overridden(self) -> None:
        """Results once, of a department, with no evaluation unfinished (each scored or voided) nor a voided one
        awaiting its replacement, on the latest scored and not voided (else the self-evaluation);
        the control figure moved by the rate for the grade — or by finance's own, recorded as an override with a
        reason — to the fen; nothing commissioned after but to replace an evaluation voided."""
        applied = [index for index, item in enumerate(self.events) if isinstance(item, OverallGoals.ResultsApplied)]
        assert len(applied) <= 1
        if not applied:
            assert (self.goals.results, self.goals.control_figure) == (None, None)
            return
        (index,) = applied
        results, adjusted = self.events[index], self.events[index + 1]
        assert isinstance(adjusted, OverallGoals.ControlFigureAdjusted)
        assert self.goals.kind == OrganisationKind.DEPARTMENT
        before = self.events[:index]
        commissioned = [item.evaluation_no for item in before if isinstance(item, OverallGoals.EvaluationCommissioned)]
        voided = {item.evaluation_no for item in before if isinstance(item, OverallGoals.EvaluationVoided)}
        scored_nos = {item.evaluation_no for item in before if isinstance(item, OverallGoals.EvaluationScored)}
        assert set(commissioned) <= scored_nos | voided, "results applied with an evaluation unfinished"
        scored = [
            item
            for item in before
            if isinstance(item, OverallGoals.EvaluationScored) and item.evaluation_no not in voided
        ]
        last_void = max(
            (i for i, item in enumerate(before) if isinstance(item, OverallGoals.EvaluationVoided)), default=-1
        )
        assert not voided or (scored and before.index(scored[-1]) > last_void), "results applied awaiting a new one"
        own = [item for item in before if isinstance(item, OverallGoals.SelfEvaluated)]
        basis: OverallGoals.EvaluationScored | OverallGoals.SelfEvaluated = scored[-1] if scored else own[-1]
        assert (results.grade, results.total) == (basis.grade, basis.total)
        assert results.evaluation_no == (scored[-1].evaluation_no if scored else None)
        assert results.effective_on >= basis.effective_on
        assert adjusted.default_rate == RATES[results.grade]
        assert adjusted.override == (adjusted.rate != adjusted.default_rate)
        if adjusted.override:
            assert adjusted.reason.strip()
        amount = (adjusted.control_figure * adjusted.rate).quantize(FEN, rounding=ROUND_HALF_UP)
        assert adjusted.amount == amount
        assert adjusted.next_control_figure == adjusted.control_figure + amount
        assert adjusted.next_fiscal_year == self.year + 1
        sign = {1: "increase", 0: "maintain", -1: "reduce"}[(adjusted.rate > 0) - (adjusted.rate < 0)]
        assert results.decision == sign
        awaiting_new = False  # after results, an evaluation is commissioned only to replace a voided one
        for item in self.events[index:]:
            if isinstance(item, OverallGoals.EvaluationVoided):
                awaiting_new = True
            elif isinstance(item, OverallGoals.EvaluationScored):
                awaiting_new = False
            elif isinstance(item, OverallGoals.EvaluationCommissioned):
                assert awaiting_new, "an evaluation commissioned after results with none voided to replace"

    @invariant()
    def dated_as_the_rules_say(self) -> None:
        """Nothing before the latest submission it follows; evaluation from 1 December of the year to the end of the
        year after the next; each step of an evaluation or an adjustment not before it began."""
        submitted_on = self.events[0].effective_on
        begun: dict[tuple[str, int], date] = {}
        opens, closes = date(self.year, 12, 1), date(self.year + 2, 12, 31)
        for item in self.events[1:]:
            if isinstance(item, OverallGoals.Resubmitted):
                submitted_on = item.effective_on
            assert item.effective_on >= submitted_on, f"{type(item).__name__} before the submission"
            if isinstance(item, OverallGoals.SelfEvaluated | OverallGoals.EvaluationCommissioned):
                assert opens <= item.effective_on <= closes
            if isinstance(item, OverallGoals.AdjustmentRequested):
                begun[("adjustment", item.adjustment_no)] = item.effective_on
            elif isinstance(item, OverallGoals.AdjustmentApproved | OverallGoals.AdjustmentRejected):
                assert item.effective_on >= begun[("adjustment", item.adjustment_no)]
            elif isinstance(item, OverallGoals.EvaluationCommissioned):
                begun[("evaluation", item.evaluation_no)] = item.effective_on
            elif hasattr(item, "evaluation_no") and not isinstance(item, OverallGoals.ResultsApplied):
                assert item.effective_on >= begun[("evaluation", item.evaluation_no)]

    @invariant()
    def a_budget_waits_for_approved_overall_goals_in_a_year_of_full_coverage(self) -> None:
        """Every approval recorded what it read of the department's goals — their status and version as they then
        stood — and was made only where they were approved or none were required."""
        for fact, status, version in self.approvals:
            assert fact["required"] == (self.year >= 2022)
            if self.goals.kind == OrganisationKind.DEPARTMENT:
                assert (fact["status"], fact["version"]) == (status, version)
            else:
                assert fact["status"] is None  # a unit's goals are not its department's
            assert not fact["required"] or fact["status"] == GoalsStatus.APPROVED

    # -------------------------------------------------------------- replay

    def teardown(self) -> None:
        if not hasattr(self, "goals"):
            return
        event(f"final: {self.goals.status}, results {'applied' if self.goals.results else 'not applied'}")
        mapper = ledger_mapper()
        replayed: Any = None
        for item in self.events:
            replayed = mutating(mapper.to_domain_event(mapper.to_stored_event(item))).mutate(replayed)
        assert replayed == self.goals, "replaying the stored events did not rebuild the live goals"
        snapshot = mutating(mapper.to_domain_event(mapper.to_stored_event(Snapshot.take(self.goals))))
        assert snapshot.mutate(None) == self.goals, "a snapshot did not restore the live goals"
        if self.ledger is not None:
            self.ledger.repository.cache = None  # read from the database, not from memory
            assert self.ledger.repository.get(self.goals.id) == self.goals
