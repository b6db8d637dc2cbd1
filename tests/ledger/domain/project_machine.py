"""A hypothesis state machine that throws random commands at one project.

Most draws are refused; that is the point. After every step the invariants
hold, a refused command has changed nothing and recorded nothing, and at the
end the stored events replay to exactly the live aggregate.

Over 500 lines: one hypothesis state machine: every rule is a command with its preconditions, and the invariants
check all of them together.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.application import Ledger
from ledger.domain import rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import DomainError
from ledger.domain.ex_ante import checked_report
from ledger.domain.organisations import Department, Unit
from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import SYSTEM, Attribution, Grade, Indicator, Principal
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.project_support import mutating

PARAMS = rules.DEFAULT_PARAMETERS
HOLIDAYS = [date(2021, 10, 1)]
FINANCE = Principal("fin", "finance", "市财政局")
DEPT = Principal("dep", "department", "教育局")
UNIT = Principal("school", "department", "教育局所属单位")
AGENCY = Principal("ag", "agency", "某咨询评估有限公司")
START = date(2021, 1, 10)
REPORT = ("e" * 64,)  # the ex-ante report's digest

scores_0_20 = st.integers(min_value=0, max_value=20).map(Decimal)
shares = st.sampled_from([Decimal(x) for x in ("0", "0.1", "0.2", "0.35", "0.5", "0.8", "1", "1.2")])
ratings = st.sampled_from([grade.value for grade in Grade])
months = st.integers(min_value=0, max_value=13)
days = st.integers(min_value=-5, max_value=400)


def goals(target: int = 100, weight_skew: Decimal = Decimal(0)) -> list[Indicator]:
    return [
        Indicator("I1", "output", "quantity", "受益人数", ">=", Decimal(target), "人", Decimal(30) + weight_skew),
        Indicator("I2", "cost", "economic", "单位成本", "<=", Decimal(50), "元", Decimal(20)),
        Indicator("I3", "effect", "social", "达标率", ">=", Decimal(90), "%", Decimal(30)),
        Indicator("I4", "satisfaction", "service_users", "满意度", "qualitative", "好", "", Decimal(10)),
    ]


class ProjectMachine(RuleBasedStateMachine):
    ledger: Ledger | None = None  # set by the PostgreSQL-backed subclass

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []
        self.today = START
        self.refusals = 0
        self.decision: str | None = None  # the result decision ``advance`` applies (None: by the grade)
        self.continuations: list[Project] = []  # later projects continuing this one (results into budgets)

    @initialize(
        new_major=st.booleans(),
        unit_of=st.sampled_from([None, "教育局", " 教育局", "卫生健康委员会"]),
        kind=st.sampled_from(["project", "policy"]),
    )
    def declare(self, new_major: bool, unit_of: str | None, kind: str) -> None:
        """The project of 教育局 itself, or of a budget unit: one of 教育局's (its name in any spelling), or one of
        another department's, which is refused (the department's own project is declared instead)."""
        unit = None
        if unit_of is not None:
            department = Department.register(unit_of, Attribution(FINANCE, date(2020, 8, 1)))
            unit = Unit.register(f"{unit_of.strip()}所属单位", department, Attribution(FINANCE, date(2020, 8, 3)))
        code = f"P-{uuid4().hex[:10]}"
        by = Attribution(UNIT if unit is not None else DEPT, date(2020, 9, 1))

        def declared(of: Unit | None) -> Project:
            return Project.declare(
                by,
                code=code,
                name="测试项目",
                kind=kind,
                department="教育局",
                fiscal_year=2021,
                budget_book="general_public",
                special_category=None,
                requested=Decimal("4000000.00"),
                new_major=new_major,
                unit=of,
            )

        if unit is not None and not unit.belongs_to("教育局"):
            with pytest.raises(DomainError) as refusal:
                declared(unit)
            assert refusal.value.code == "unit-not-in-department"
            self.refusals += 1
            unit = None
        self.project = declared(unit)
        self._collect()

    # ----------------------------------------------------------- harness

    def _collect(self) -> None:
        new = list(self.project.pending_events)
        for item in new:
            assert isinstance(item, LedgerAggregate.Event)
            assert item.principal.role in ("finance", "department", "agency", "system")
            assert isinstance(item.effective_on, date)
        self.events.extend(new)
        if self.ledger is not None:
            self.ledger.save(self.project)  # stores the events and snapshots every 50
        else:
            self.project.collect_events()

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> None:
        if self._refused(self.project, command, *args, **kwargs) is None:
            self._collect()

    def _refused(self, target: Project, command: Any, *args: Any, **kwargs: Any) -> DomainError | None:
        """The refusal of ``command`` on ``target``, which changed nothing and recorded nothing; None if done."""
        before = copy.deepcopy({k: v for k, v in vars(target).items() if k != "_pending_events"})
        try:
            command(*args, **kwargs)
        except DomainError as refusal:
            self.refusals += 1
            after = {k: v for k, v in vars(target).items() if k != "_pending_events"}
            assert after == before, "a refused command changed the project"
            assert not target.pending_events, "a refused command recorded an event"
            return refusal
        return None

    def at(self) -> date:
        return self.today

    # ------------------------------------------------------------- rules

    @rule(step=st.integers(min_value=0, max_value=60))
    def time_passes(self, step: int) -> None:
        self.today += timedelta(days=step)

    @rule(scores=st.lists(scores_0_20, min_size=5, max_size=5))
    def assess_ex_ante(self, scores: list[Decimal]) -> None:
        self.attempt(
            self.project.assess_ex_ante,
            dict(zip(rules.EX_ANTE_DIMENSIONS, scores, strict=True)),
            PARAMS,
            1,
            Attribution(FINANCE, date(2020, 9, 20), "专家评审"),
        )

    @rule(day=st.integers(min_value=0, max_value=20))
    def commission_ex_ante(self, day: int) -> None:
        """委托第三方机构: the department names the agency for its ex-ante assessment."""
        on = date(2020, 9, 5) + timedelta(days=day)
        self.attempt(self.project.commission_ex_ante_agency, "a1", AGENCY.organisation, PARAMS, Attribution(DEPT, on))

    @rule(
        points=st.sampled_from([Decimal(11), Decimal(13), Decimal(17), Decimal(21)]),
        by_agency=st.booleans(),
        with_report=st.booleans(),
        day=st.integers(min_value=0, max_value=20),
    )
    def file_ex_ante(self, points: Decimal, by_agency: bool, with_report: bool, day: int) -> None:
        """出具绩效评估报告: by the department or the agency (refused unless it was commissioned), with the report as
        evidence or without it (refused)."""
        project = self.project
        by = Attribution(
            AGENCY if by_agency else DEPT, date(2020, 9, 5) + timedelta(days=day), "", REPORT[:with_report]
        )

        def filing() -> None:
            report = checked_report(
                scores=dict.fromkeys(rules.EX_ANTE_DIMENSIONS, points),
                opinions=dict.fromkeys(rules.EX_ANTE_DIMENSIONS, "论证"),
                opinion="评估结论",
                funding_sources={"市级财政": project.requested},
                annual_investment={str(project.fiscal_year): project.requested},
                affordability="尽力而为、量力而行",
                stated_conclusion=None,
                evidence=by.evidence,
                kind=project.kind,
                fiscal_year=project.fiscal_year,
                requested=project.requested,
                params=PARAMS,
            )
            project.file_ex_ante(report, AGENCY.organisation if by_agency else None, PARAMS, 1, HOLIDAYS, by)

        self.attempt(filing)

    @rule(
        number=st.integers(min_value=1, max_value=3),
        approved=st.booleans(),
        reason=st.sampled_from(["", "退回补充分年投资额"]),
        day=st.integers(min_value=0, max_value=25),
    )
    def review_ex_ante(self, number: int, approved: bool, reason: str, day: int) -> None:
        """财政部门审核 of a filed report: approved, or returned with a reason."""
        on = date(2020, 9, 5) + timedelta(days=day)
        self.attempt(self.project.review_ex_ante, number, approved, Attribution(FINANCE, on, reason))

    @rule(reason=st.sampled_from(["", "已按意见修改"]))
    def admit(self, reason: str) -> None:
        self.attempt(self.project.admit, PARAMS, Attribution(FINANCE, date(2020, 9, 25), reason))

    @rule(
        skew=st.sampled_from([Decimal(0), Decimal(0), Decimal("0.01"), Decimal(-5)]),
        aim=st.integers(min_value=1, max_value=1000),
    )
    def submit_goals(self, skew: Decimal, aim: int) -> None:
        self.attempt(self.project.submit_goals, goals(aim, skew), PARAMS, 1, Attribution(DEPT, date(2020, 10, 10)))

    @rule(rating=ratings, reason=st.sampled_from(["", "指标不够细化"]))
    def review_goals(self, rating: str, reason: str) -> None:
        self.attempt(self.project.review_goals, rating, "", Attribution(FINANCE, date(2020, 11, 1), reason))

    @rule(
        amount=st.sampled_from([Decimal("0.00"), Decimal("1000000.00"), Decimal("4000000.00")]),
        offset=st.sampled_from([0, 400]),
    )
    def approve_budget(self, amount: Decimal, offset: int) -> None:
        self.attempt(
            self.project.approve_budget,
            amount,
            Attribution(FINANCE, date(2021, 1, 5) + timedelta(days=offset)),
            params=PARAMS,  # the goals then owed to the public by the ruleset's days
        )

    @rule(aim=st.integers(min_value=1, max_value=1000), reason=st.sampled_from(["", "实施条件变化"]))
    def request_adjustment(self, aim: int, reason: str) -> None:
        self.attempt(self.project.request_goal_adjustment, goals(aim), PARAMS, Attribution(DEPT, self.at(), reason))

    @rule(number=st.integers(min_value=1, max_value=3), approve=st.booleans(), reason=st.sampled_from(["", "理由"]))
    def decide_adjustment(self, number: int, approve: bool, reason: str) -> None:
        self.attempt(self.project.decide_goal_adjustment, number, approve, Attribution(FINANCE, self.at(), reason))

    @rule(month=months, share=shares, progress=st.integers(min_value=0, max_value=120))
    def report_monitoring(self, month: int, share: Decimal, progress: int) -> None:
        approved = self.project.approved_amount or Decimal("1000000.00")
        executed = (approved * share).quantize(Decimal("0.01"))
        progress_map = {"I1": Decimal(progress), "I3": Decimal(progress)}
        self.attempt(
            self.project.report_monitoring,
            month,
            executed,
            progress_map,
            {},
            "",
            "",
            PARAMS,
            Attribution(DEPT, date(2021, 6, 1)),
        )

    @rule(month=months)
    def review_monitoring(self, month: int) -> None:
        self.attempt(self.project.review_monitoring, month, "已审核", Attribution(FINANCE, self.at()))

    @rule()
    def detect_deviation(self) -> None:
        self.attempt(self.project.detect_deviation, PARAMS, 1, HOLIDAYS, FINANCE, self.at())

    @rule(
        decision=st.sampled_from(["continue", "reallocate", "suspend_funding", "cancel", "reduce_budget"]),
        amount=st.sampled_from([None, Decimal("100000.00"), Decimal("9000000.00")]),
        reason=st.sampled_from(["", "纠偏"]),
    )
    def corrective_action(self, decision: str, amount: Decimal | None, reason: str) -> None:
        self.attempt(
            self.project.order_corrective_action, decision, amount, None, Attribution(FINANCE, self.at(), reason)
        )

    @rule()
    def suspend_if_unanswered(self) -> None:
        self.attempt(self.project.suspend_funding_if_unanswered, self.at(), FINANCE)

    @rule(share=shares)
    def self_evaluate(self, share: Decimal) -> None:
        approved = self.project.approved_amount or Decimal("1000000.00")
        actual = {"I1": Decimal(100) * share, "I2": Decimal(50), "I3": Decimal(90) * share, "I4": "较好"}
        executed = max((approved * min(share, Decimal(1))).quantize(Decimal("0.01")), self.project.executed)
        self.attempt(self.project.self_evaluate, actual, executed, PARAMS, 1, Attribution(DEPT, date(2022, 2, 1)))

    @rule()
    def select(self) -> None:
        self.attempt(self.project.select_for_re_evaluation, "sample-2021", Attribution(FINANCE, self.at()))

    @rule(scores=st.tuples(st.integers(0, 15), st.integers(0, 20), st.integers(0, 35), st.integers(0, 30)))
    def re_evaluate(self, scores: tuple[int, int, int, int]) -> None:
        named = dict(zip(("decision", "process", "output", "effect"), map(Decimal, scores), strict=True))
        self.attempt(self.project.re_evaluate, named, PARAMS, 1, Attribution(FINANCE, self.at()))

    @rule()
    def commission_re_evaluation(self) -> None:
        """再评价 by a commissioned agency: only for a project drawn and not yet re-evaluated."""
        number = len(self.project.key_evaluations) + 1
        self.attempt(
            self.project.commission_re_evaluation,
            f"KE-{number}",
            "a1",
            AGENCY.organisation,
            Attribution(FINANCE, self.at()),
            PARAMS,  # 两审一督导 in full, like any agency's key evaluation: the rules set when its plan is due
        )

    @rule(with_agency=st.booleans())
    def commission_key_evaluation(self, with_agency: bool) -> None:
        number = len(self.project.key_evaluations) + 1
        self.attempt(
            self.project.commission_key_evaluation,
            f"KE-{number}",
            "a1" if with_agency else None,
            AGENCY.organisation if with_agency else None,
            Attribution(FINANCE, self.at()),
            PARAMS,
        )

    @rule(number=st.integers(1, 2), what=st.sampled_from(["plan", "report"]))
    def submit_key_evaluation(self, number: int, what: str) -> None:
        """两审一督导: the agency submits its plan or its report."""
        method = (
            self.project.submit_key_evaluation_plan if what == "plan" else self.project.submit_key_evaluation_report
        )
        self.attempt(method, f"KE-{number}", PARAMS, Attribution(AGENCY, self.at()))

    @rule(number=st.integers(1, 2), findings=st.sampled_from([[], ["底稿不全"], ["底稿不全", "样本偏少"]]))
    def supervise_key_evaluation(self, number: int, findings: list[str]) -> None:
        self.attempt(
            self.project.supervise_key_evaluation,
            f"KE-{number}",
            "现场督导",
            findings,
            Attribution(FINANCE, self.at()),
            PARAMS,
        )

    @rule(number=st.integers(1, 2), supervision=st.integers(1, 3))
    def answer_key_evaluation_supervision(self, number: int, supervision: int) -> None:
        self.attempt(
            self.project.answer_key_evaluation_supervision,
            f"KE-{number}",
            supervision,
            "已补充底稿",
            Attribution(AGENCY, self.at()),
        )

    @rule(number=st.integers(1, 2))
    def void_key_evaluation(self, number: int) -> None:
        """The agency blacklisted: the evaluation voided (recorded whatever the stage)."""
        self.attempt(
            self.project.void_key_evaluation, f"KE-{number}", AGENCY.organisation, 1, Attribution(FINANCE, self.at())
        )

    @rule(number=st.integers(1, 2), what=st.sampled_from(["plan", "report"]), approved=st.booleans())
    def review_key_evaluation(self, number: int, what: str, approved: bool) -> None:
        method = (
            self.project.review_key_evaluation_plan if what == "plan" else self.project.review_key_evaluation_report
        )
        self.attempt(
            method, f"KE-{number}", approved, Attribution(FINANCE, self.at(), "" if approved else "退回"), PARAMS
        )

    @rule(
        number=st.integers(1, 2),
        scores=st.tuples(st.integers(0, 15), st.integers(0, 20), st.integers(0, 35), st.integers(0, 30)),
    )
    def score_key_evaluation(self, number: int, scores: tuple[int, int, int, int]) -> None:
        named = dict(zip(("decision", "process", "output", "effect"), map(Decimal, scores), strict=True))
        self.attempt(
            self.project.score_key_evaluation, f"KE-{number}", named, PARAMS, 1, Attribution(AGENCY, self.at())
        )

    @rule(
        decision=st.sampled_from([None, "prioritise", "maintain", "reduce", "cancel", "rectify_first"]),
        reason=st.sampled_from(["", "统筹考虑"]),
    )
    def apply_results(self, decision: str | None, reason: str) -> None:
        self.attempt(self.project.apply_results, decision, PARAMS, 1, Attribution(FINANCE, self.at(), reason))

    @rule(
        decision=st.sampled_from([None, "continue", "adjust", "terminate", "abolish"]),
        reason=st.sampled_from(["", "政策调整"]),
    )
    def decide_policy(self, decision: str | None, reason: str) -> None:
        """政策调整: refused but for a policy with its results applied, once; a departure from the grade's default
        only with a reason."""
        self.attempt(self.project.decide_policy, decision, Attribution(FINANCE, self.at(), reason))
        if self.project.policy_decision is not None:
            event(f"policy decided: {self.project.policy_decision['decision']}")

    @rule()
    def declare_continuation(self) -> None:
        """A project of a later year continuing this one: refused until its results are applied."""
        on = max(self.at(), date(2022, 1, 1))
        made: list[Project] = []
        refusal = self._refused(
            self.project,
            lambda: made.append(
                Project.declare(
                    Attribution(DEPT, on),
                    code=f"C-{uuid4().hex[:10]}",
                    name="延续项目",
                    kind="project",
                    department=" 教育局",
                    fiscal_year=on.year + 1,
                    budget_book="general_public",
                    special_category=None,
                    requested=Decimal("5000000.00"),
                    new_major=False,
                    continues=self.project,
                )
            ),
        )
        if refusal is not None:
            assert refusal.code == "continuation-without-results"
            assert self.project.results is None
            return
        assert self.project.results is not None
        continuation = made[0]
        continuation.admit(PARAMS, Attribution(FINANCE, on))
        continuation.submit_goals(goals(), PARAMS, 1, Attribution(DEPT, on))
        continuation.review_goals("优", "", Attribution(FINANCE, on))
        self._keep(continuation)
        self.continuations.append(continuation)

    @rule(
        amount=st.sampled_from([Decimal("1.00"), Decimal("3600000.00"), Decimal("3600000.01"), Decimal("9000000.00")]),
        override=st.booleans(),
        reason=st.sampled_from(["", "市政府决定继续安排"]),
    )
    def approve_continuation(self, amount: Decimal, override: bool, reason: str) -> None:
        """Approve the latest continuation's budget, within what this project's result allows or overriding it."""
        waiting = [item for item in self.continuations if item.approved_amount is None]
        if not waiting:
            return
        continuation = waiting[-1]
        on = max(self.at(), continuation.opened_on)
        by = Attribution(FINANCE, on, reason)
        command = continuation.approve_budget
        refusal = self._refused(
            continuation, command, amount, by, earlier=copy.deepcopy(self.project), override=override
        )
        if refusal is not None:
            event(f"continuation refused: {refusal.code}")
            return
        results = self.project.results or {}
        event(f"continuation approved: {'override' if override else 'within'} {results.get('decision')}")
        self._keep(continuation)

    def _keep(self, continuation: Project) -> None:
        if self.ledger is not None:
            self.ledger.save(continuation)
        else:
            continuation.collect_events()

    @rule(source=st.sampled_from(["monitoring", "audit", "nonsense"]), deadline_days=days)
    def require_rectification(self, source: str, deadline_days: int) -> None:
        self.attempt(
            self.project.require_rectification,
            ["问题"],
            source,
            self.at() + timedelta(days=deadline_days),
            Attribution(FINANCE, self.at()),
        )

    @rule(number=st.integers(1, 3), measures=st.sampled_from(["", "已整改"]))
    def report_rectification(self, number: int, measures: str) -> None:
        self.attempt(self.project.report_rectification, number, measures, Attribution(DEPT, self.at()))

    @rule(number=st.integers(1, 3), accept=st.booleans(), reason=st.sampled_from(["", "不到位"]))
    def decide_rectification(self, number: int, accept: bool, reason: str) -> None:
        self.attempt(self.project.decide_rectification, number, accept, Attribution(FINANCE, self.at(), reason))

    @rule()
    def mark_overdue(self) -> None:
        self.attempt(self.project.mark_rectifications_overdue, self.at(), FINANCE)

    @rule(step=st.integers(min_value=0, max_value=30))
    def raise_deadline_notices(self, step: int) -> None:
        self.today += timedelta(days=step)
        self.attempt(self.project.raise_deadline_notices, self.at(), PARAMS, SYSTEM)

    @rule(what=st.sampled_from(["goals", "results"]))
    def disclose(self, what: str) -> None:
        self.attempt(self.project.disclose, what, Attribution(FINANCE, self.at()))

    @rule()
    def close(self) -> None:
        self.attempt(self.project.close, Attribution(FINANCE, self.at()))

    @rule(
        on=st.one_of(st.dates(), st.dates(min_value=date(2020, 8, 1), max_value=date(2022, 12, 31))),
        command=st.sampled_from(
            [
                "plan",
                "report",
                "supervise",
                "submit",
                "answer",
                "score",
                "admit",
                "disclose",
                "adjustment",
                "rectification",
                "review_monitoring",
                "commission",
                "require",
            ]
        ),
        number=st.integers(1, 2),
    )
    def at_any_date(self, on: date, command: str, number: int) -> None:
        """A command dated anywhere from year 1 to 9999: before what it concerns came to be it is refused, and
        changes nothing (``attempt``); whatever is recorded keeps ``dated_no_earlier_than_what_it_concerns``."""
        project, ke = self.project, f"KE-{number}"
        calls: dict[str, tuple[Any, ...]] = {
            "plan": (project.review_key_evaluation_plan, ke, True, Attribution(FINANCE, on), PARAMS),
            "report": (project.review_key_evaluation_report, ke, True, Attribution(FINANCE, on), PARAMS),
            "supervise": (project.supervise_key_evaluation, ke, "督导", ["意见"], Attribution(FINANCE, on), PARAMS),
            "submit": (project.submit_key_evaluation_plan, ke, PARAMS, Attribution(AGENCY, on)),
            "answer": (project.answer_key_evaluation_supervision, ke, 1, "回复", Attribution(AGENCY, on)),
            "score": (
                project.score_key_evaluation,
                ke,
                dict.fromkeys(("decision", "process", "output", "effect"), Decimal(10)),
                PARAMS,
                1,
                Attribution(AGENCY, on),
            ),
            "admit": (project.admit, PARAMS, Attribution(FINANCE, on)),
            "disclose": (project.disclose, "goals", Attribution(FINANCE, on)),
            "adjustment": (project.decide_goal_adjustment, number, True, Attribution(FINANCE, on)),
            "rectification": (project.report_rectification, number, "已整改", Attribution(DEPT, on)),
            "review_monitoring": (project.review_monitoring, number * 3, "已审核", Attribution(FINANCE, on)),
            "commission": (
                project.commission_key_evaluation,
                f"KE-{len(project.key_evaluations) + 1}",
                None,
                None,
                Attribution(FINANCE, on),
            ),
            "require": (
                project.require_rectification,
                ["问题"],
                "audit",
                on + timedelta(days=30),
                Attribution(FINANCE, on),
            ),
        }
        if command == "require" and on > date(9999, 11, 30):
            return  # no deadline after it to set
        method, *args = calls[command]
        self.attempt(method, *args)

    @rule(
        steps=st.integers(min_value=1, max_value=8),
        choice=st.integers(min_value=0, max_value=5),
        decision=st.sampled_from([None, "rectify_first", "reduce", "cancel", "prioritise"]),
    )
    def advance(self, steps: int, choice: int, decision: str | None = None) -> None:
        """Take the next valid step of the cycle, so random runs reach every stage; results are applied by the grade,
        or with ``decision`` (a decision a continuation must respect)."""
        self.decision = decision
        for _ in range(steps):
            self.next_step(choice)

    def next_step(self, choice: int) -> None:
        project = self.project
        stage = Stage(project.stage)
        if stage is Stage.DECLARED:
            pending = project.pending_ex_ante_filing
            if pending is not None:  # finance reviews the report: returned once with choice 4, without a reason with 1
                returned = choice == 1 or (choice == 4 and pending["no"] == 1)
                self.review_ex_ante(pending["no"], not returned, "" if choice == 1 else "退回补充", 25)
            elif project.ex_ante_required(PARAMS) and project.ex_ante is None and choice in (1, 2, 3, 4):
                self.file_ex_ante(Decimal(11) if choice == 3 else Decimal(17), False, True, 10)
            elif project.ex_ante_required(PARAMS) and project.ex_ante is None:
                points = Decimal(10) if choice == 5 else Decimal(17)
                self.assess_ex_ante([points] * 5)
            else:
                self.admit("已按意见修改")
        elif stage in (Stage.ADMITTED, Stage.GOALS_RETURNED):
            self.submit_goals(Decimal(0), 100)
        elif stage is Stage.GOALS_SUBMITTED:
            self.review_goals(["优", "良", "中", "优", "良", "差"][choice], "理由")
        elif stage is Stage.GOALS_APPROVED:
            self.approve_budget(Decimal("4000000.00"), 0)
        elif stage is Stage.BUDGET_APPROVED:
            self.implement((choice + len(self.events)) % 6)  # rotate: one advance mixes every kind of step
        elif stage is Stage.SELF_EVALUATED:
            if choice in (0, 1) and project.selected_in_sample is None:
                self.select()
            elif choice in (0, 1, 2) and project.selected_in_sample and project.re_evaluation is None:
                self.re_evaluate((5 + choice, 10, 20, 15))
            elif choice in (3, 4) and not any(item["score"] for item in project.key_evaluations.values()):
                self.next_evaluation_step()  # a key evaluation after the self-evaluation, before the results
            else:
                self.apply_results(self.decision, "统筹考虑")
        elif stage in (Stage.RESULTS_APPLIED, Stage.CANCELLED):
            self.wrap_up(choice)

    def implement(self, choice: int) -> None:
        project = self.project
        latest_report = project.latest_monitoring
        latest = latest_report["month"] if project.monitoring and latest_report is not None else 0
        if choice in (0, 1) and latest < 12:
            share = [Decimal("0.1"), Decimal("0.3"), Decimal("0.5"), Decimal("0.9")][(latest // 3) % 4]
            self.report_monitoring(min(latest + 2 + choice, 12), share, 40 if choice else 5)
            self.detect_deviation()
        elif choice == 2:
            # Cycle through every decision, so sequences like suspend-then-reduce happen often.
            cycle = [
                "continue",
                "suspend_funding",
                "reduce_budget",
                "reallocate",
                "suspend_funding",
                "reduce_budget",
                "continue",
                "cancel",
            ]
            decision = cycle[len(project.corrective_actions) % len(cycle)]
            self.corrective_action(decision, Decimal("100000.00") if decision == "reduce_budget" else None, "纠偏")
            self.today += timedelta(days=20)
            self.suspend_if_unanswered()
        elif choice == 3:
            self.next_evaluation_step()
        elif choice == 4:
            self.request_adjustment(120, "实施条件变化")
            self.decide_adjustment(len(project.adjustments), bool(len(project.adjustments) % 2), "理由")
        else:
            self.self_evaluate(Decimal("0.8"))

    def next_evaluation_step(self) -> None:
        """The next step of the latest key evaluation (two reviews, and for an agency's the submissions, a
        supervision and its answer), or a new one once it is scored or voided."""
        number = len(self.project.key_evaluations)
        evaluation = self.project.key_evaluations.get(f"KE-{number}")
        full = evaluation is not None and evaluation.get("procedure") is not None
        if evaluation is None or evaluation["score"] is not None or evaluation.get("voided"):
            self.commission_key_evaluation(not number % 2)  # the first an agency's, under 两审一督导 in full
        elif evaluation["plan_approved"] is not True:
            if full and not evaluation["plan_pending"]:
                self.submit_key_evaluation(number, "plan")
            else:
                self.review_key_evaluation(number, "plan", True)
        elif evaluation["report_approved"] is True:
            self.score_key_evaluation(number, (12, 15, 30, 25))
        elif full and evaluation["report_pending"]:
            self.review_key_evaluation(number, "report", True)
        elif full and not evaluation["supervisions"]:
            self.submit_key_evaluation(number, "report")  # refused: not supervised yet
            self.supervise_key_evaluation(number, ["底稿不全"])
        elif full and any(item["answer"] is None and item["findings"] for item in evaluation["supervisions"]):
            self.submit_key_evaluation(number, "report")  # refused: a finding unanswered
            self.answer_key_evaluation_supervision(number, len(evaluation["supervisions"]))
        elif full:
            self.submit_key_evaluation(number, "report")
        else:
            self.review_key_evaluation(number, "report", True)

    def wrap_up(self, choice: int) -> None:
        open_items = self.project.open_rectifications
        if choice == 0 and len(self.project.rectifications) < 3:
            self.require_rectification("audit", 30)
        elif open_items and open_items[0]["status"] == "open":
            self.report_rectification(open_items[0]["no"], "已整改")
        elif open_items:
            self.decide_rectification(open_items[0]["no"], choice != 1, "不到位")
        elif choice == 2:
            self.disclose(["goals", "results"][len(self.project.disclosed) % 2])
        elif choice in (3, 4, 5) and self.project.kind == "policy" and self.project.policy_decision is None:
            self.decide_policy({3: "continue", 4: "terminate", 5: "adjust"}[choice], "政策调整")
        elif choice in (3, 4) and self.project.results is not None and len(self.continuations) < 3:
            if not self.continuations or self.continuations[-1].approved_amount is not None:
                self.declare_continuation()
            if choice == 3:  # within what the result allows, if it allows it
                self.approve_continuation(Decimal("1.00"), False, "")
            else:  # more than any cap, as finance's override (refused where nothing is overridden)
                self.approve_continuation(Decimal("9000000.00"), True, "市政府决定继续安排")
        else:
            self.close()

    # -------------------------------------------------------- invariants

    @invariant()
    def version_counts_events(self) -> None:
        assert self.project.version == len(self.events)
        assert [event.originator_version for event in self.events] == list(range(1, len(self.events) + 1))

    @invariant()
    def money_is_consistent(self) -> None:
        project = self.project
        assert project.executed >= 0
        assert project.executed == project.executed.quantize(Decimal("0.01"))
        if project.approved_amount is None:
            assert project.stage in {
                Stage.DECLARED,
                Stage.REJECTED,
                Stage.ADMITTED,
                Stage.GOALS_SUBMITTED,
                Stage.GOALS_RETURNED,
                Stage.GOALS_APPROVED,
                Stage.GOALS_REFUSED,
                Stage.CLOSED,
            }
            assert project.executed == 0
        else:
            assert project.approved_amount > 0
            assert project.executed <= project.approved_amount, "executed beyond the approved budget"

    @invariant()
    def an_ex_ante_assessment_stands_only_as_finance_made_it_or_reviewed_it(self) -> None:
        """The assessment that stands is finance's own, or a department's report finance approved (its conclusion as
        filed); one report awaits review at a time; a return gives its reason; no admission without a standing
        assessment where one is required, none after a 不予支持."""
        project = self.project
        filings = project.ex_ante_filings
        assert [item["no"] for item in filings] == list(range(1, len(filings) + 1))
        assert sum(1 for item in filings if item["status"] == "filed") <= 1
        approved = [item for item in filings if item["status"] == "approved"]
        assessed = [item for item in self.events if isinstance(item, Project.ExAnteAssessed)]
        admitted = any(isinstance(item, Project.Admitted) for item in self.events)
        for item in filings:
            assert item["report"], "a report filed without the report"
            if item["review"] is not None:
                assert item["review"]["reviewed_on"] >= item["filed_on"]
                assert item["status"] != "returned" or item["review"]["reason"].strip()
        ex_ante = project.ex_ante
        if ex_ante is None:
            assert not approved
            assert not assessed
            assert not (admitted and project.ex_ante_required(PARAMS)), "admitted without an ex-ante assessment"
        elif ex_ante["led_by"] == "department":
            assert not assessed
            assert [item["no"] for item in approved] == [ex_ante["filing_no"]]
            assert approved[0]["conclusion"] == ex_ante["conclusion"]
            assert ex_ante["filed_by"] == approved[0]["filed_by"]
        else:
            assert ex_ante["led_by"] == "finance"
            assert len(assessed) == 1
            assert not approved
        if ex_ante is not None and ex_ante["conclusion"] == rules.ExAnteConclusion.REJECT:
            assert not admitted
            assert project.stage in (Stage.REJECTED, Stage.CLOSED)
        if project.stage != Stage.DECLARED:
            assert project.pending_ex_ante_filing is None

    @invariant()
    def no_budget_without_approved_goals(self) -> None:
        if self.project.approved_amount is not None:
            assert self.project.goals_rating in (Grade.EXCELLENT, Grade.GOOD)

    @invariant()
    def goals_are_weighted_as_the_rules_say(self) -> None:
        if self.project.goals:
            total = sum((indicator.weight for indicator in self.project.goals), Decimal(0))
            assert total == 100 - PARAMS.execution_rate_weight

    @invariant()
    def periods_and_adjustments_are_orderly(self) -> None:
        months_reported = [item["month"] for item in self.project.monitoring]
        assert months_reported == sorted(set(months_reported))
        assert sum(1 for item in self.project.adjustments if item["status"] == "pending") <= 1
        assert len({d["month"] for d in self.project.deviations}) == len(self.project.deviations)

    @invariant()
    def scores_are_within_range(self) -> None:
        for result in (self.project.self_evaluation, self.project.re_evaluation):
            if result is not None:
                assert 0 <= result["total"] <= 100
        if self.project.self_evaluation is not None:
            assert self.project.self_evaluation["grade"] == rules.grade(self.project.self_evaluation["total"], PARAMS)

    @invariant()
    def no_results_applied_to_a_sampled_project_before_its_re_evaluation(self) -> None:
        """结果应用 waits for the re-evaluation of a project drawn in the sample (finance's, or the commissioned
        agency's score), and so does closing its file."""
        selected = False
        stands = False
        re_evaluations: set[str] = set()
        for item in self.events:
            if isinstance(item, Project.SelectedForReEvaluation):
                selected = True
            elif isinstance(item, Project.ReEvaluated):
                stands = True
            elif isinstance(item, Project.ReEvaluationCommissioned):
                re_evaluations.add(item.evaluation_id)
            elif isinstance(item, Project.KeyEvaluationScored) and item.evaluation_id in re_evaluations:
                stands = True
            elif isinstance(item, Project.ResultsApplied | Project.Closed) and selected:
                assert stands, f"{type(item).__name__} of a sampled project before its re-evaluation stood"

    @invariant()
    def key_evaluation_scored_only_after_both_reviews(self) -> None:
        """两审一督导: no score stands without both reviews — and for an agency's, a plan and a report it submitted,
        a supervision, every finding answered; a voided score is never what results rest on."""
        for evaluation_id, evaluation in self.project.key_evaluations.items():
            if evaluation["score"] is not None:
                assert evaluation["plan_approved"] is True
                assert evaluation["report_approved"] is True
                if evaluation.get("procedure") is not None:
                    assert evaluation["supervisions"]
                    assert all(item["answer"] is not None for item in evaluation["supervisions"] if item["findings"])
                    submitted = {
                        type(item).__name__
                        for item in self.events
                        if getattr(item, "evaluation_id", None) == evaluation_id
                    }
                    assert {"KeyEvaluationPlanSubmitted", "KeyEvaluationReportSubmitted"} <= submitted
        voided = [item for item in self.project.key_evaluations.values() if item.get("voided")]
        standing = [item for item in self.project.key_evaluations.values() if item["score"] and not item.get("voided")]
        if voided and not standing:
            assert (self.project.evaluation_basis() or ("",))[0] != "key_evaluation"
        awaiting_new = False  # a key evaluation voided, and none scored since: results and closing wait
        for item in self.events:
            if isinstance(item, Project.KeyEvaluationVoided):
                awaiting_new = True
            elif isinstance(item, Project.KeyEvaluationScored):
                awaiting_new = False
            elif isinstance(item, Project.ResultsApplied | Project.Closed):
                assert not awaiting_new, f"{type(item).__name__} while a voided evaluation awaits its replacement"

    @invariant()
    def deadline_notices_are_raised_once_and_dated_by_the_rule(self) -> None:
        seen: set[tuple[str, str, int, date]] = set()
        warning = timedelta(days=PARAMS.deadline_warning_days)
        for item in self.events:
            if isinstance(item, Project.DeadlineApproaching | Project.DeadlineMissed):
                identity = (type(item).__name__, item.deadline, item.ref, item.due_on)
                assert identity not in seen, f"{identity} raised twice"
                seen.add(identity)
                if isinstance(item, Project.DeadlineMissed):
                    assert item.effective_on == item.due_on + timedelta(days=1)
                else:
                    assert item.due_on - warning <= item.effective_on <= item.due_on

    @invariant()
    def scheduled_work_waits_for_its_next_check(self) -> None:
        """What lets the scheduler skip an object until its next check: after the time-driven rules have run
        today, none of them records anything on any day before the earliest next check (absent new commands)."""
        probe = copy.deepcopy(self.project)
        today = self.today
        probe.detect_deviation(PARAMS, 1, HOLIDAYS, SYSTEM, today)
        self._time_driven(probe, today)
        checks = [probe.next_deadline_notice(PARAMS), probe.next_suspension_check(), probe.next_overdue_check()]
        assert all(check is None or check > today for check in checks), (today, checks)
        earliest = min((check for check in checks if check is not None), default=today + timedelta(days=400))
        recorded = len(probe.pending_events)
        for day in {today + timedelta(days=1), earliest - timedelta(days=1)}:
            if today < day < earliest:
                assert not probe.detect_deviation(PARAMS, 1, HOLIDAYS, SYSTEM, day)
                self._time_driven(probe, day)
                assert len(probe.pending_events) == recorded, f"recorded on {day}, before the next check {earliest}"

    @staticmethod
    def _time_driven(project: Project, day: date) -> None:
        project.raise_deadline_notices(day, PARAMS, SYSTEM)
        project.suspend_funding_if_unanswered(day, SYSTEM)
        project.mark_rectifications_overdue(day, SYSTEM)

    @invariant()
    def dated_no_earlier_than_what_it_concerns(self) -> None:
        """Nothing a principal records is dated before the declaration, nor before the part of the project it
        concerns came to be: a key evaluation's commissioning, a rectification's requirement, a goal adjustment's
        request, a monitoring report's filing."""
        declared, *rest = self.events
        born: dict[tuple[str, object], date] = {}
        starts = {
            Project.KeyEvaluationCommissioned: "evaluation_id",
            Project.ReEvaluationCommissioned: "evaluation_id",  # an agency's re-evaluation: 两审一督导 follows it too
            Project.RectificationRequired: "rectification_no",
            Project.GoalAdjustmentRequested: "adjustment_no",
            Project.MonitoringReported: "month",
            Project.ExAnteFiled: "filing_no",
        }
        follows = {
            Project.ExAnteReviewed: "filing_no",
            Project.KeyEvaluationPlanReviewed: "evaluation_id",
            Project.KeyEvaluationReportReviewed: "evaluation_id",
            Project.KeyEvaluationSupervisionNoted: "evaluation_id",
            Project.KeyEvaluationPlanSubmitted: "evaluation_id",
            Project.KeyEvaluationReportSubmitted: "evaluation_id",
            Project.KeyEvaluationSupervised: "evaluation_id",
            Project.KeyEvaluationSupervisionAnswered: "evaluation_id",
            Project.KeyEvaluationScored: "evaluation_id",
            Project.RectificationReported: "rectification_no",
            Project.RectificationAccepted: "rectification_no",
            Project.RectificationRejected: "rectification_no",
            Project.GoalAdjustmentApproved: "adjustment_no",
            Project.GoalAdjustmentRejected: "adjustment_no",
            Project.MonitoringReviewed: "month",
        }
        for item in rest:
            if item.principal.is_system:
                continue
            assert item.effective_on >= declared.effective_on, f"{type(item).__name__} before the declaration"
            kind = type(item)
            if kind in starts:
                born[(starts[kind], getattr(item, starts[kind]))] = item.effective_on
            elif kind in follows:
                started = born[(follows[kind], getattr(item, follows[kind]))]
                assert item.effective_on >= started, f"{kind.__name__} on {item.effective_on}, before {started}"

    @invariant()
    def a_projects_unit_is_its_departments(self) -> None:
        """The unit a project names (if any) is the one declared, of the project's department, for ever."""
        declared = self.events[0]
        assert self.project.unit == declared.unit
        assert self.project.unit in (None, "教育局所属单位")

    @invariant()
    def a_budget_never_exceeds_what_the_earlier_result_allows_unless_overridden(self) -> None:
        """A continuation's approval records this project's result decision as it stands (results are applied once),
        and its amount is within what the decision allows — 取消 nothing, 调减 up to the recorded next year's budget,
        整改后再安排 only with every rectification required so far accepted — unless finance recorded an override
        with its reason, where it was not within."""
        for continuation in self.continuations:
            link, amount = continuation.budget_linkage, continuation.approved_amount
            if amount is None:
                assert link is None
                continue
            results = self.project.results
            assert link is not None
            assert results is not None
            assert (link["earlier"], link["decision"], link["grade"]) == (
                str(self.project.id),
                results["decision"],
                results["grade"],
            )
            cap = results["next_year_budget"] if results["decision"] == "reduce" else None
            assert link["cap"] == cap
            rectified = bool(link["rectifications_accepted"]) and not link["rectifications_open"]
            policy = link.get("policy_decision")
            decided = None if self.project.policy_decision is None else self.project.policy_decision["decision"]
            assert policy in (None, decided)  # decided once: none when approved, or this one
            within = (
                results["decision"] != "cancel"
                and policy != "terminate"
                and (cap is None or amount <= cap)
                and (results["decision"] != "rectify_first" or rectified)
            )
            for number in link["rectifications_accepted"]:
                assert self.project.rectification(number)["status"] == "accepted"  # accepted stays accepted
            assert link["allowed"] == within
            assert link["override"] == (not within), "an override where nothing was overridden, or none where needed"

    @invariant()
    def a_policy_decision_follows_the_results_of_a_policy(self) -> None:
        """政策调整 only of a policy, after its results, once: the grade's default unless a reason says otherwise."""
        decided = [item for item in self.events if isinstance(item, Project.PolicyAdjustmentDecided)]
        assert len(decided) <= 1
        if not decided:
            assert self.project.policy_decision is None
            return
        (item,) = decided
        results = self.project.results
        assert self.project.kind == "policy"
        assert results is not None
        assert item.effective_on >= results["applied_on"]
        assert item.grade == results["grade"]
        if item.decision != rules.policy_decision_default(item.grade):
            assert item.reason.strip()
        assert self.project.policy_decision == {
            "decision": item.decision,
            "grade": item.grade,
            "decided_on": item.effective_on,
        }

    @invariant()
    def closed_means_nothing_open(self) -> None:
        if self.project.stage == Stage.CLOSED:
            assert not self.project.open_rectifications

    # -------------------------------------------------------------- replay

    def teardown(self) -> None:
        if not hasattr(self, "project"):
            return
        event(f"final stage: {self.project.stage}")  # hypothesis statistics show how deep the runs reach
        to_stored = ledger_mapper()
        stored = [to_stored.to_stored_event(event) for event in self.events]
        replayed: Any = None
        for item in stored:
            replayed = mutating(to_stored.to_domain_event(item)).mutate(replayed)
        assert replayed == self.project, "replaying the stored events did not rebuild the live project"
        snapshot = mutating(to_stored.to_domain_event(to_stored.to_stored_event(Snapshot.take(self.project))))
        assert snapshot.mutate(None) == self.project, "a snapshot did not restore the live project"
        if self.ledger is not None:
            self.ledger.wait_for_snapshots()  # stored in the background: the load below starts from the newest
            self.ledger.repository.cache = None  # read from the database, not from memory
            assert self.ledger.repository.get(self.project.id) == self.project
