"""``jixiao demo``: the story of :mod:`api.cli.demo_story` — fiscal 2021's whole cycle and fiscal 2022's budget, which
2021's results shape — taken day by day.

The story is an agenda of dated steps, run in date order; each simulated morning the scheduler's time-driven rules
(``ledger.domain.sweeps``) run first, as the service's scheduler would, so deadlines, deviations, automatic
suspension and overdue rectifications are raised by the ``system`` principal on the day they fall due. Every step
is guarded by the state already recorded and every sweep is idempotent, so running the demo again (or after an
interruption) records nothing twice.

Over 500 lines: :class:`DemoRun` is the projects' steps, each an action beside the guard that makes it run once; cut
in two, a step's date and what it does would sit in different files. The organisations' steps (units, overall goals,
decisions) are :mod:`api.cli.demo_organisations`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from api.cli.demo_organisations import OrganisationSteps, Step, filed
from api.cli.demo_story import (
    ADJUSTED,
    ADJUSTMENT_REJECTED,
    AUDIT_FINDINGS,
    AUDIT_FOUND_ON,
    AUDIT_REPORT,
    BAD_AGENCY,
    CLOSING_DAY,
    CONTINUATIONS_DECLARED,
    CONTINUED,
    DEPARTMENT_COMMISSIONED,
    DEPARTMENTS,
    EX_ANTE_BY_AGENCY,
    EX_ANTE_BY_FINANCE,
    FINANCE,
    GOALS_RETURNED,
    KEY_EVALUATED,
    LATE_GOALS,
    LATE_MONITORING,
    LATE_SELF_EVALUATION,
    LIBRARY,
    NEXT_YEAR,
    OK_AGENCY,
    PROJECTS,
    PROJECTS_2022,
    RED_DEVIATION,
    REJECTED_EX_ANTE,
    SAMPLE_SEED,
    UNANSWERED_DEVIATION,
    WEAK,
    YEAR,
    YEAR_END,
    YEAR_END_RESULTS,
    YELLOW_DEVIATION,
    DemoProject,
    actuals_for,
    department_principal,
    indicators_for,
)
from api.cli.demo_summary import DemoSummary, format_summary, summarise
from ledger.application import Act, Ledger
from ledger.domain import rules
from ledger.domain.congress import submission_id
from ledger.domain.draw import sample_id
from ledger.domain.errors import DomainError
from ledger.domain.findings import finding_id
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from ledger.domain.project import Project
from ledger.domain.project_values import Disclosure, Stage
from ledger.domain.sweeps import SWEEPS
from ledger.domain.values import FEN, Indicator, Principal

__all__ = ["DemoRun", "DemoSummary", "format_summary", "run_demo", "summarise"]

SPOT_CHECKED = "JY-01"  # 不定期核查 of its monitoring report
SPOT_CHECK_DAY = date(2021, 9, 10)
SPOT_CHECK_RECTIFICATION_DUE = date(2021, 10, 29)
ESCALATION_DECIDED_ON = date(2022, 9, 26)  # the key evaluation's rectification, escalated mid-September


class DemoRun:
    """The agenda, run in date order; each simulated morning the sweeps run first.

    ``every_day`` simulates every calendar day; otherwise only the days something can happen (a step's day, the
    morning after anything was recorded, the next day a sweep has an object due). ``on_day`` is called at the
    start of each simulated day (tests move their clock with it).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        every_day: bool = False,
        on_day: Callable[[date], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ):
        self.ledger = ledger
        self.progress = progress
        self.params = ledger.ruleset().parameters()
        self.every_day = every_day
        self.on_day = on_day
        self.refusals: list[str] = []
        self.scheduled: Counter[str] = Counter()
        self.scheduled_on: dict[int, date] = {}
        self.organisations = OrganisationSteps(ledger, self.params)

    def finance(self, on: date, reason: str = "", report: dict[str, str] | None = None) -> Act:
        return Act(FINANCE, on, reason, [] if report is None else [report])

    def dept(self, spec: DemoProject, on: date, reason: str = "", report: dict[str, str] | None = None) -> Act:
        """The project's own staff (its unit's, or its department's), with the report the step names if any."""
        return Act(department_principal(spec.unit or spec.department), on, reason, [] if report is None else [report])

    def pid(self, spec: DemoProject) -> UUID:
        """The project's id (as a ledger of any version recorded it)."""
        return self.ledger.project_id_of(spec.year, spec.code)

    @staticmethod
    def on(spec: DemoProject, day: date) -> date:
        """``day`` of 2021's calendar, for ``spec``'s fiscal year: 2022's projects follow it a year later."""
        return day.replace(year=day.year + spec.year - YEAR)

    def project(self, spec: DemoProject) -> Project:
        return self.ledger.project(self.pid(spec))

    def run(self) -> DemoSummary:
        by_day: dict[date, list[Step]] = defaultdict(list)
        for step in self.agenda():
            by_day[step.on].append(step)  # within a day, in the story's order
        step_days = sorted(by_day)
        day, last = step_days[0], step_days[-1]
        total, done = sum(map(len, by_day.values())), 0
        while day <= last:
            head = self.ledger.head()
            if self.on_day is not None:
                self.on_day(day)
            self.sweep(day)
            for step in by_day.get(day, []):
                step.run()
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
            if self.every_day:
                day += timedelta(days=1)
                continue
            following = [d for d in step_days if d > day][:1]
            due = self.ledger.next_sweep_check(day)
            following += [due] if due is not None else []
            following += [day + timedelta(days=1)] if self.ledger.head() != head else []
            day = min(following, default=last + timedelta(days=1))
        summary = summarise(self.ledger, self.refusals)
        summary.scheduled = dict(self.scheduled)
        summary.scheduled_on = dict(self.scheduled_on)
        return summary

    def sweep(self, day: date) -> None:
        """The scheduler's morning: every time-driven rule, in dependency order."""
        for name in SWEEPS:
            report = self.ledger.sweep(name, day)
            self.scheduled.update(report.raised)
            self.scheduled_on.update(dict.fromkeys(report.positions, day))

    def agenda(self) -> list[Step]:
        # The organisations first: within a day, the overall goals are approved before the projects' budgets.
        steps = self.setup_steps() + self.organisations.steps()
        for spec in PROJECTS + PROJECTS_2022:
            steps += self.planning_steps(spec)
        for spec in PROJECTS + PROJECTS_2022:
            steps += self.implementation_steps(spec)
        steps += self.key_evaluation_steps()
        for spec in PROJECTS:
            steps += self.evaluation_steps(spec)
        steps += self.sample_steps()
        steps += self.blacklist_steps()
        steps += self.rectification_steps()
        steps += self.audit_steps()
        steps.append(Step(date(2022, 6, 30), self.assess_departments))
        # 报送人大, each before the scheduler's warning: the goals with the budget draft, the results with the accounts.
        # 2022's goals go once the continuations' are reviewed (15 December), before the warning of the 24th.
        for year, what, on in (
            (YEAR, Disclosure.GOALS, date(2020, 12, 20)),
            (YEAR, Disclosure.RESULTS, date(2022, 6, 20)),
            (NEXT_YEAR, Disclosure.GOALS, date(2021, 12, 20)),
        ):
            steps.append(Step(on, partial(self.submit_to_congress, year, what, on)))
        steps += [Step(CLOSING_DAY, partial(self.close, spec)) for spec in PROJECTS]
        return steps

    # ------------------------------------------------------------- set-up

    def setup_steps(self) -> list[Step]:
        return [Step(date(2020, 8, 3), self.register)]

    def register(self) -> None:
        ledger = self.ledger
        on = date(2020, 8, 3)
        for name in DEPARTMENTS:
            try:
                ledger.department(name)
            except DomainError:
                ledger.register_department(self.finance(on), name)
        for name, credentials, code in (
            (OK_AGENCY, "工程咨询甲级资信；预算绩效评价业务十二年", "91632800864542843F"),
            (BAD_AGENCY, "会计师事务所执业证书；预算绩效评价业务五年", "916300001036648540"),
        ):
            try:
                ledger.agency(name)
            except DomainError:
                ledger.register_agency(self.finance(on, "纳入第三方机构库"), name, credentials, credit_code=code)
        library = ledger.indicator_library()
        for code, definition in LIBRARY.items():
            if code not in library.indicators:
                ledger.define_indicator(self.finance(on, "共性指标库"), code, definition)

    # ------------------------------------------------- declare .. approve

    def planning_steps(self, spec: DemoProject) -> list[Step]:
        """Declared in September, goals by 20 October, reviewed in November, approved with the budget on 15 January,
        disclosed ten days later — in 2022 a year on. A continuation is declared, admitted and its goals submitted
        on 13 December, once the year-end results it rests on are applied, and reviewed on the 15th."""
        if spec.continues is not None:
            declared = CONTINUATIONS_DECLARED
            steps = [
                Step(declared, partial(self.declare, spec, declared)),
                Step(declared, partial(self.admit, spec, declared)),
                Step(declared, partial(self.submit_goals, spec, declared)),
                Step(declared + timedelta(days=2), partial(self.review_goals, spec, declared + timedelta(days=2))),
            ]
        else:
            declared, admitted = self.on(spec, date(2020, 9, 10)), self.on(spec, date(2020, 9, 30))
            reviewed = self.on(spec, date(2020, 11, 5))
            submitted_on = self.on(spec, date(2020, 11, 3) if spec.code == LATE_GOALS else date(2020, 10, 20))
            steps = [
                Step(declared, partial(self.declare, spec, declared)),
                *self.ex_ante_steps(spec),
                Step(admitted, partial(self.admit, spec, admitted)),
                Step(submitted_on, partial(self.submit_goals, spec, submitted_on)),
                Step(reviewed, partial(self.review_goals, spec, reviewed)),
                Step(self.on(spec, date(2020, 11, 12)), partial(self.revise_goals, spec)),
                Step(self.on(spec, date(2020, 11, 20)), partial(self.review_revised_goals, spec)),
            ]
        disclosed = self.on(spec, date(2021, 1, 25))
        return [
            *steps,
            Step(self.on(spec, date(2021, 1, 15)), partial(self.approve_budget, spec)),
            Step(disclosed, partial(self.disclose, spec, Disclosure.GOALS, disclosed, "随部门预算公开")),
        ]

    def declare(self, spec: DemoProject, on: date) -> None:
        if not self.ledger.exists(self.pid(spec)):
            self.ledger.declare_project(
                self.dept(spec, on, f"编制{spec.year}年部门预算"),
                code=spec.code,
                name=spec.name,
                kind=spec.kind,
                department=spec.department,
                fiscal_year_=spec.year,
                budget_book=spec.book,
                special_category=spec.special,
                requested=spec.requested,
                new_major=spec.new_major,
                unit=spec.unit,
                continues=None if spec.continues is None else (spec.year - 1, spec.continues),
            )

    # 事前绩效评估: the department files its report and finance reviews it (审核) — 农业农村和科技局 through the
    # agency it commissions, its first report returned for the 分年投资额; 住房和城乡建设局's PPP project is assessed
    # by finance itself.

    def ex_ante_steps(self, spec: DemoProject) -> list[Step]:
        """Commissioned on 11 September, the first report filed on the 16th and reviewed on the 21st, a returned one
        filed again on the 23rd and reviewed on the 28th; finance's own assessment on the 25th (a year on in 2022)."""
        day = partial(self.on, spec)
        return [
            Step(day(date(2020, 9, 11)), partial(self.commission_ex_ante, spec)),
            Step(day(date(2020, 9, 16)), partial(self.file_ex_ante, spec, day(date(2020, 9, 16)))),
            Step(day(date(2020, 9, 21)), partial(self.review_ex_ante, spec, day(date(2020, 9, 21)))),
            Step(day(date(2020, 9, 23)), partial(self.file_ex_ante, spec, day(date(2020, 9, 23)))),
            Step(day(date(2020, 9, 25)), partial(self.assess_ex_ante, spec)),
            Step(day(date(2020, 9, 28)), partial(self.review_ex_ante, spec, day(date(2020, 9, 28)))),
        ]

    def _needs_ex_ante(self, spec: DemoProject) -> Project | None:
        project = self.project(spec)
        needed = project.stage == Stage.DECLARED and project.ex_ante_required(self.params) and project.ex_ante is None
        return project if needed else None

    def commission_ex_ante(self, spec: DemoProject) -> None:
        project = self._needs_ex_ante(spec)
        if project is not None and spec.code == EX_ANTE_BY_AGENCY and project.ex_ante_agency is None:
            self.ledger.commission_ex_ante_agency(
                self.dept(spec, self.on(spec, date(2020, 9, 11)), "委托第三方机构开展事前绩效评估"),
                project.id,
                OK_AGENCY,
            )

    def file_ex_ante(self, spec: DemoProject, on: date) -> None:
        project = self._needs_ex_ante(spec)
        if project is None or spec.code == EX_ANTE_BY_FINANCE or project.pending_ex_ante_filing is not None:
            return
        first = not project.ex_ante_filings
        if not first and project.ex_ante_filings[-1]["status"] != "returned":
            return
        if first != (on == self.on(spec, date(2020, 9, 16))):
            return  # the first report on its day; a second only after a return
        rejected = spec.code == REJECTED_EX_ANTE
        points = "11" if rejected else "17"
        requested = Decimal(spec.requested)
        later = Decimal("0.00") if first and spec.code == EX_ANTE_BY_AGENCY else (requested / 4).quantize(FEN)
        years = {str(spec.year): requested, **({str(spec.year + 1): later} if later else {})}
        by = Principal("zx-pg-01", "agency", OK_AGENCY) if spec.code == EX_ANTE_BY_AGENCY else None
        report = filed("ex_ante_report", f"{spec.code} 第{len(project.ex_ante_filings) + 1}稿")
        act = Act(by or department_principal(spec.unit or spec.department), on, "出具事前绩效评估报告", [report])
        self.ledger.file_ex_ante(
            act,
            project.id,
            scores=dict.fromkeys(rules.EX_ANTE_DIMENSIONS, points),
            opinions=dict.fromkeys(rules.EX_ANTE_DIMENSIONS, "论证不充分" if rejected else "论证充分"),
            opinion="不予支持" if rejected else "予以支持",
            funding_sources={"市级财政": requested, **({"上级补助": later} if later else {})},
            annual_investment=years,
            affordability="与本级财力相适应，尽力而为、量力而行",
        )

    def review_ex_ante(self, spec: DemoProject, on: date) -> None:
        project = self._needs_ex_ante(spec)
        pending = None if project is None else project.pending_ex_ante_filing
        if project is None or pending is None:
            return
        returned = spec.code == EX_ANTE_BY_AGENCY and pending["no"] == 1
        reason = "分年投资额未列明后续年度投入，资金来源未覆盖总投资，退回补充" if returned else "审核通过"
        self.ledger.review_ex_ante(self.finance(on, reason), project.id, pending["no"], not returned)

    def assess_ex_ante(self, spec: DemoProject) -> None:
        project = self._needs_ex_ante(spec)
        if project is not None and spec.code == EX_ANTE_BY_FINANCE:
            self.ledger.assess_ex_ante(
                self.finance(
                    self.on(spec, date(2020, 9, 25)),
                    "财政部门组织专家开展事前绩效评估",
                    filed("ex_ante_report", spec.code),
                ),
                project.id,
                dict.fromkeys(rules.EX_ANTE_DIMENSIONS, "17"),
            )

    def admit(self, spec: DemoProject, on: date) -> None:
        project = self.project(spec)
        if project.stage == Stage.DECLARED:
            self.ledger.admit_project(self.finance(on, "纳入项目库"), project.id)

    def submit_goals(self, spec: DemoProject, on: date) -> None:
        project = self.project(spec)
        if project.stage != Stage.ADMITTED:
            return
        goals = indicators_for(spec, self.params)
        if spec.code == GOALS_RETURNED:  # the first draft leaves out the quality indicator's ambition
            goals = [g if g.key != "I2" else Indicator(**{**vars(g), "target": Decimal(60)}) for g in goals]
        self.ledger.submit_goals(self.dept(spec, on), project.id, goals)

    def review_goals(self, spec: DemoProject, on: date) -> None:
        project = self.project(spec)
        if project.stage != Stage.GOALS_SUBMITTED or project.goals_revisions:
            return
        returned = spec.code == GOALS_RETURNED
        rating = "中" if returned else ("良" if spec.code in WEAK else "优")
        fixes = "电子健康档案建档率目标偏低，应不低于国家基本公共卫生服务规范要求" if returned else ""
        self.ledger.review_goals(self.finance(on, "绩效目标审核"), project.id, rating, fixes)

    def revise_goals(self, spec: DemoProject) -> None:
        project = self.project(spec)
        if project.stage == Stage.GOALS_RETURNED:
            self.ledger.submit_goals(
                self.dept(spec, self.on(spec, date(2020, 11, 12)), "按审核意见修改"),
                project.id,
                indicators_for(spec, self.params),
            )

    def review_revised_goals(self, spec: DemoProject) -> None:
        project = self.project(spec)
        if project.stage == Stage.GOALS_SUBMITTED and project.goals_revisions:
            self.ledger.review_goals(self.finance(self.on(spec, date(2020, 11, 20)), "复审"), project.id, "良", "")

    def approve_budget(self, spec: DemoProject) -> None:
        """批复 as the city's congress approved the budget: a continuation within what its earlier result allows —
        at the cap of a 调减 — unless finance overrides it with its reason; a 取消 is refused, as the rules say."""
        project = self.project(spec)
        if project.stage != Stage.GOALS_APPROVED:
            return
        on, reason = self.on(spec, date(2021, 1, 15)), f"市人大批准{spec.year}年预算"
        amount = Decimal(spec.requested)
        earlier = None if project.continues is None else self.ledger.project(project.continues)
        if earlier is not None and earlier.results is not None and spec.override is None:
            cap = earlier.results["next_year_budget"]
            amount = amount if cap is None else min(amount, cap)
        try:
            if spec.override is not None:
                self.ledger.approve_budget(self.finance(on, spec.override), project.id, amount, override=True)
            else:
                self.ledger.approve_budget(self.finance(on, reason), project.id, amount)
        except DomainError as refused:
            self.refusals.append(f"{refused.code}: {spec.code} {spec.name} — {refused.detail}")

    def disclose(self, spec: DemoProject, what: Disclosure, on: date, reason: str) -> None:
        project = self.project(spec)
        ready = Stage.BUDGET_APPROVED if what is Disclosure.GOALS else Stage.RESULTS_APPLIED
        if project.stage == ready and what not in project.disclosed:
            self.ledger.disclose(self.dept(spec, on, reason), project.id, what)  # the department's duty

    # ------------------------------------------------------ implementation

    def implementation_steps(self, spec: DemoProject) -> list[Step]:
        steps = []
        if spec.code == ADJUSTED:
            steps += [
                Step(
                    date(2021, 4, 12),
                    partial(
                        self.request_adjustment,
                        spec,
                        date(2021, 4, 12),
                        Decimal(10),
                        "两个小区纳入棚户区改造，改造数量调整为10个",
                    ),
                ),
                Step(date(2021, 4, 20), partial(self.decide_adjustment, spec, date(2021, 4, 20), True, "调整理由充分")),
            ]
        if spec.code == ADJUSTMENT_REJECTED:
            steps += [
                Step(
                    date(2021, 5, 6),
                    partial(self.request_adjustment, spec, date(2021, 5, 6), Decimal(3800), "保障对象动态调整"),
                ),
                Step(
                    date(2021, 5, 14),
                    partial(self.decide_adjustment, spec, date(2021, 5, 14), False, "保障人数下调缺乏依据，不予同意"),
                ),
            ]
        april_report, april_review = self.on(spec, date(2021, 5, 10)), self.on(spec, date(2021, 5, 20))
        july_report = self.on(spec, date(2021, 8, 18) if spec.code == LATE_MONITORING else date(2021, 8, 10))
        july_review = self.on(spec, date(2021, 8, 20))
        steps += [
            Step(april_report, partial(self.report_monitoring, spec, 4, april_report)),
            Step(april_review, partial(self.review_monitoring, spec, 4, april_review)),
            Step(april_review, partial(self.answer_deviation, spec, 4, april_review)),
            Step(july_report, partial(self.report_monitoring, spec, 7, july_report)),
            Step(july_review, partial(self.review_monitoring, spec, 7, july_review)),
            Step(july_review, partial(self.answer_deviation, spec, 7, july_review)),
        ]
        if spec.code == UNANSWERED_DEVIATION:
            steps.append(Step(date(2021, 8, 30), partial(self.rectify_unanswered, spec)))
        if spec.code == SPOT_CHECKED:
            steps.append(Step(SPOT_CHECK_DAY, partial(self.spot_check, spec)))
        return steps

    def spot_check(self, spec: DemoProject) -> None:
        """不定期核查 of the January–July monitoring report: a finding, and its rectification by the end of October."""
        project = self.project(spec)
        if not project.spot_checks and any(item["month"] == 7 for item in project.monitoring):
            self.ledger.record_spot_check(
                self.finance(SPOT_CHECK_DAY, "不定期核查绩效运行监控报告"),
                project.id,
                "monitoring",
                ["监控报告所列受益学生人数与学籍系统数据不一致"],
                month=7,
                rectification_deadline=SPOT_CHECK_RECTIFICATION_DUE,
            )

    def request_adjustment(self, spec: DemoProject, on: date, target: Decimal, reason: str) -> None:
        project = self.project(spec)
        if project.stage == Stage.BUDGET_APPROVED and not project.adjustments:
            goals = [g if g.key != "I1" else Indicator(**{**vars(g), "target": target}) for g in project.goals]
            self.ledger.request_goal_adjustment(self.dept(spec, on, reason), project.id, goals)

    def decide_adjustment(self, spec: DemoProject, on: date, approve: bool, reason: str) -> None:
        project = self.project(spec)
        if project.pending_adjustment is not None:
            self.ledger.decide_goal_adjustment(self.finance(on, reason), project.id, 1, approve)

    def report_monitoring(self, spec: DemoProject, month: int, on: date) -> None:
        project = self.project(spec)
        if project.stage != Stage.BUDGET_APPROVED or any(item["month"] >= month for item in project.monitoring):
            return
        assert project.approved_amount is not None
        approved = project.approved_amount
        share = {
            RED_DEVIATION: Decimal("0.18"),
            YELLOW_DEVIATION: Decimal("0.33"),
            UNANSWERED_DEVIATION: Decimal("0.35"),
        }.get(spec.code, Decimal("0.52"))
        if month == 4:
            share = Decimal("0.15") if spec.code in (RED_DEVIATION, YELLOW_DEVIATION) else Decimal("0.30")
        executed = max((approved * share).quantize(Decimal("0.01")), project.executed)
        shortfall = "征地协调滞后，工程进度慢于计划" if executed < approved * Decimal("0.4") else ""
        self.ledger.report_monitoring(
            self.dept(spec, on),
            project.id,
            month=month,
            executed=executed,
            indicator_progress={g.key: Decimal(50) for g in project.goals},
            shortfall_reasons=shortfall,
            measures="加快施工进度" if shortfall else "",
        )

    def review_monitoring(self, spec: DemoProject, month: int, on: date) -> None:
        project = self.project(spec)
        if any(item["month"] == month and item["review"] is None for item in project.monitoring):
            self.ledger.review_monitoring(self.finance(on, "双监控审核"), project.id, month, "已审核")

    def answer_deviation(self, spec: DemoProject, month: int, on: date) -> None:
        """Finance answers the deviations found in the red and yellow projects, within the working days allowed."""
        project = self.project(spec)
        if not any(d["month"] == month and not d["answered"] for d in project.deviations):
            return
        if spec.code == RED_DEVIATION and month == 7:
            assert project.approved_amount is not None
            cut = (project.approved_amount * Decimal("0.25")).quantize(Decimal("0.01"))
            self.ledger.order_corrective_action(
                self.finance(on, "执行严重滞后，收回部分资金统筹使用"), project.id, "reduce_budget", cut, month
            )
        elif spec.code == RED_DEVIATION:
            self.ledger.order_corrective_action(
                self.finance(on, "已约谈项目单位，督促加快执行进度"), project.id, "continue", None, month
            )
        elif spec.code == YELLOW_DEVIATION:
            self.ledger.order_corrective_action(
                self.finance(on, "已制定赶工计划，继续执行"), project.id, "continue", None, month
            )

    def rectify_unanswered(self, spec: DemoProject) -> None:
        project = self.project(spec)
        if project.funding_suspended and not project.rectifications:
            self.ledger.require_rectification(
                self.finance(date(2021, 8, 30), "偏差未按期纠正，已暂缓拨款"),
                project.id,
                ["监控偏差未在规定时限内说明原因并纠偏"],
                "monitoring",
                date(2021, 11, 30),
            )

    # -------------------------------------------------- key evaluation

    def key_evaluation_steps(self) -> list[Step]:
        """Finance commissions 高标准农田建设's; 民政局 commissions 养老服务购买's itself (部门委托第三方机构),
        after the year — finance still reviews the plan and the report and supervises — and its results are applied
        on it."""
        spec = next(item for item in PROJECTS if item.code == KEY_EVALUATED)
        by_department = next(item for item in PROJECTS if item.code == DEPARTMENT_COMMISSIONED)
        return self.evaluation_round(
            spec,
            1,
            BAD_AGENCY,
            "qh-kjs-01",
            "重点评价委托",
            "现场督导：抽查农田地块12处，问卷样本量不足",
            {"decision": "15", "process": "19", "output": "34", "effect": "29"},
            (date(2021, 9, 6), date(2021, 9, 20), date(2021, 11, 3), date(2021, 12, 15), date(2021, 12, 20)),
        ) + self.evaluation_round(
            by_department,
            1,
            OK_AGENCY,
            "zx-pg-03",
            "部门委托第三方机构开展重点评价",
            "现场督导：走访养老服务机构6家，服务记录抽查比例偏低",
            {"decision": "13", "process": "17", "output": "30", "effect": "25"},
            (date(2021, 11, 8), date(2021, 11, 22), date(2022, 1, 12), date(2022, 3, 10), date(2022, 3, 15)),
            commissioner=department_principal(by_department.department),
        )

    def evaluation_round(
        self,
        spec: DemoProject,
        number: int,
        agency: str,
        evaluator: str,
        reason: str,
        notes: str,
        scores: dict[str, str],
        days: tuple[date, date, date, date, date],
        commissioner: Principal = FINANCE,
    ) -> list[Step]:
        """One key evaluation through 两审一督导 in full: commissioned from ``agency`` by the ``commissioner`` (finance,
        or the project's department); its plan submitted by the agency's ``evaluator`` three days before finance
        reviews it; supervised by finance (``notes``, one finding), the finding answered five days later; the report
        submitted three days before finance reviews it; scored by the ``evaluator``."""
        commissioned, planned, supervised, reported, scored = days
        evaluator_ = Principal(evaluator, "agency", agency)
        before, after = timedelta(days=3), timedelta(days=5)
        by = Act(commissioner, commissioned, reason)
        return [
            Step(commissioned, partial(self.commission, spec, agency, by, number)),
            Step(planned - before, partial(self.submit, spec, number, evaluator_, planned - before, "plan")),
            Step(planned, partial(self.review_plan, spec, number, planned)),
            Step(supervised, partial(self.supervise, spec, number, supervised, notes)),
            Step(supervised + after, partial(self.answer, spec, number, evaluator_, supervised + after)),
            Step(reported - before, partial(self.submit, spec, number, evaluator_, reported - before, "report")),
            Step(reported, partial(self.review_report, spec, number, reported)),
            Step(scored, partial(self.score, spec, number, evaluator_, scored, scores)),
        ]

    def evaluation(self, spec: DemoProject, number: int) -> tuple[str, dict[str, Any]] | None:
        evaluations = list(self.project(spec).key_evaluations.items())
        return evaluations[number - 1] if len(evaluations) >= number else None

    def commission(self, spec: DemoProject, agency: str, by: Act, number: int = 1) -> None:
        if len(self.project(spec).key_evaluations) == number - 1:
            self.ledger.commission_key_evaluation(by, self.pid(spec), agency)

    def submit(self, spec: DemoProject, number: int, evaluator: Principal, on: date, what: str) -> None:
        found = self.evaluation(spec, number)
        if found is not None and not found[1][f"{what}_pending"] and not found[1][f"{what}_approved"]:
            document = {"plan": "评价方案", "report": "评价报告"}[what]
            self.ledger.submit_key_evaluation(
                Act(evaluator, on, f"提交{document}", [filed(f"evaluation_{what}", found[0])]),
                self.pid(spec),
                found[0],
                what,
            )

    def review_plan(self, spec: DemoProject, number: int, on: date) -> None:
        found = self.evaluation(spec, number)
        if found is not None and found[1]["plan_pending"]:
            by = self.finance(on, "评价方案审核", filed("evaluation_plan", found[0]))
            self.ledger.review_key_evaluation(by, self.pid(spec), found[0], "plan", True)

    def supervise(self, spec: DemoProject, number: int, on: date, notes: str) -> None:
        found = self.evaluation(spec, number)
        if found is not None and not found[1]["supervision"]:
            finding = notes.split("，")[-1]  # the note's last clause is what the agency must answer
            self.ledger.note_key_evaluation_supervision(self.finance(on), self.pid(spec), found[0], notes, [finding])

    def answer(self, spec: DemoProject, number: int, evaluator: Principal, on: date) -> None:
        found = self.evaluation(spec, number)
        if found is not None and found[1]["supervisions"] and found[1]["supervisions"][0]["answer"] is None:
            self.ledger.answer_key_evaluation_supervision(
                Act(evaluator, on, ""), self.pid(spec), found[0], 1, "已按督导意见补充样本并更新工作底稿"
            )

    def review_report(self, spec: DemoProject, number: int, on: date) -> None:
        found = self.evaluation(spec, number)
        if found is not None and found[1]["report_pending"]:
            self.ledger.review_key_evaluation(
                self.finance(on, "评价报告审核", filed("evaluation_report", found[0])),
                self.pid(spec),
                found[0],
                "report",
                True,
            )

    def score(self, spec: DemoProject, number: int, evaluator: Principal, on: date, scores: dict[str, str]) -> None:
        found = self.evaluation(spec, number)
        if found is not None and found[1]["report_approved"] and found[1]["score"] is None:
            self.ledger.score_key_evaluation(Act(evaluator, on, "重点评价报告"), self.pid(spec), found[0], scores)

    # ------------------------------------------------ after the year

    def evaluation_steps(self, spec: DemoProject) -> list[Step]:
        """Self-evaluated by 25 February (one late), results applied on 10 June and disclosed with the final
        accounts — but the projects 2022 continues, evaluated at the year's end so their results reach the 2022
        budget: on 1 December, applied on 10 December, disclosed ten days later."""
        if spec.code in CONTINUED:
            evaluated_on, applied_on, disclosed = YEAR_END, YEAR_END_RESULTS, YEAR_END_RESULTS + timedelta(days=10)
        else:
            evaluated_on = date(2022, 4, 2) if spec.code == LATE_SELF_EVALUATION else date(2022, 2, 25)
            applied_on, disclosed = date(2022, 6, 10), date(2022, 6, 20)
        return [
            Step(evaluated_on, partial(self.self_evaluate, spec, evaluated_on)),
            Step(applied_on, partial(self.apply_results, spec, applied_on)),
            Step(disclosed, partial(self.disclose, spec, Disclosure.RESULTS, disclosed, "随部门决算公开")),
        ]

    def self_evaluate(self, spec: DemoProject, on: date) -> None:
        project = self.project(spec)
        if project.stage != Stage.BUDGET_APPROVED or project.approved_amount is None:
            return
        share = WEAK.get(spec.code, Decimal(1))
        executed = (project.approved_amount * (Decimal("0.97") if share >= 1 else share)).quantize(Decimal("0.01"))
        self.ledger.self_evaluate(
            self.dept(spec, on, "2021年度单位自评", filed("self_evaluation_report", spec.code)),
            project.id,
            actuals_for(project.goals, share),
            max(executed, project.executed),
        )

    def apply_results(self, spec: DemoProject, on: date) -> None:
        project = self.project(spec)
        if project.stage == Stage.SELF_EVALUATED:
            budget = NEXT_YEAR if spec.code in CONTINUED else NEXT_YEAR + 1
            self.ledger.apply_results(self.finance(on, f"编制{budget}年预算时应用评价结果"), project.id)

    def sample_steps(self) -> list[Step]:
        return [
            Step(date(2022, 4, 6), self.announce_draw),
            Step(date(2022, 4, 7), self.contribute_to_draw),
            Step(date(2022, 4, 8), self.draw_sample),
            # one project drawn is re-evaluated by a commissioned agency (两审 before its score stands), the rest by
            # finance itself
            Step(date(2022, 4, 20), self.commission_re_evaluation),
            Step(date(2022, 4, 22), partial(self.submit_re_evaluation, "plan", date(2022, 4, 22))),
            Step(date(2022, 4, 25), partial(self.review_re_evaluation, "plan", date(2022, 4, 25))),
            Step(date(2022, 4, 28), self.supervise_re_evaluation),
            Step(date(2022, 5, 3), self.answer_re_evaluation),
            Step(date(2022, 5, 7), partial(self.submit_re_evaluation, "report", date(2022, 5, 7))),
            Step(date(2022, 5, 10), partial(self.review_re_evaluation, "report", date(2022, 5, 10))),
            Step(date(2022, 5, 12), self.score_re_evaluation),
            Step(date(2022, 5, 16), self.re_evaluate),
            Step(date(2022, 5, 20), self.rectify_inflated),
        ]

    # 再评价抽查, nobody steering it alone: finance announces the SHA-256 of a secret, the audit office adds random
    # bytes of its own, finance reveals. The demo's secret and contribution are digests of fixed strings, so that
    # every run draws the same sample (a real one is random: `openssl rand -hex 32`).
    DRAW_SECRET = hashlib.sha256(f"市财政局抽查密钥 {SAMPLE_SEED}".encode()).hexdigest()
    AUDIT_CONTRIBUTION = hashlib.sha256(f"市审计局抽查随机数 {SAMPLE_SEED}".encode()).hexdigest()
    AUDITOR = Principal("shenji-001", "auditor", "市审计局")

    def announce_draw(self) -> None:
        if not self.ledger.exists(sample_id(YEAR)):
            self.ledger.announce_re_evaluation_draw(
                self.finance(date(2022, 4, 6), "2021年度财政再评价抽查公告"),
                YEAR,
                rules.commitment(bytes.fromhex(self.DRAW_SECRET)),
            )

    def contribute_to_draw(self) -> None:
        current = self.ledger.re_evaluation_sample(YEAR).current
        if current is not None and current["status"] == "announced":
            self.ledger.contribute_to_re_evaluation_draw(
                Act(self.AUDITOR, date(2022, 4, 7), "审计局提交抽查随机数"), YEAR, self.AUDIT_CONTRIBUTION
            )

    def draw_sample(self) -> None:
        current = self.ledger.re_evaluation_sample(YEAR).current
        if current is not None and current["status"] == "contributed":
            self.ledger.reveal_re_evaluation_draw(
                self.finance(date(2022, 4, 8), "财政再评价抽查揭示"), YEAR, self.DRAW_SECRET
            )

    def drawn(self) -> list[Project]:
        return [self.ledger.project(UUID(selected)) for selected in self.ledger.re_evaluation_sample(YEAR).selected]

    def boldest(self) -> Project:
        """The drawn project with the highest self-evaluation: it does not survive scrutiny (自评虚高)."""
        return max(self.drawn(), key=lambda p: p.self_evaluation["total"] if p.self_evaluation else Decimal(0))

    def by_agency(self) -> Project:
        """The drawn project finance commissions an agency to re-evaluate: the first, by id, but the boldest."""
        boldest = self.boldest()
        return min((p for p in self.drawn() if p.id != boldest.id), key=lambda p: str(p.id))

    def commission_re_evaluation(self) -> None:
        project = self.by_agency()
        if project.commissioned_re_evaluation is None and project.re_evaluation is None:
            self.ledger.commission_re_evaluation(
                self.finance(date(2022, 4, 20), "委托第三方机构开展财政再评价"), project.id, OK_AGENCY
            )

    RE_EVALUATOR = Principal("zx-pg-02", "agency", OK_AGENCY)

    def re_evaluation_in_hand(self) -> tuple[Project, str, dict[str, Any]] | None:
        """The drawn project an agency re-evaluates, its evaluation's id and state (None before it is commissioned)."""
        project = self.by_agency()
        evaluation = project.commissioned_re_evaluation
        return None if evaluation is None else (project, evaluation, project.key_evaluations[evaluation])

    def submit_re_evaluation(self, what: str, on: date) -> None:
        found = self.re_evaluation_in_hand()
        if found is not None and not found[2][f"{what}_pending"] and not found[2][f"{what}_approved"]:
            document = {"plan": "再评价方案", "report": "再评价报告"}[what]
            self.ledger.submit_key_evaluation(
                Act(self.RE_EVALUATOR, on, f"提交{document}", [filed(f"evaluation_{what}", found[1])]),
                found[0].id,
                found[1],
                what,
            )

    def supervise_re_evaluation(self) -> None:
        found = self.re_evaluation_in_hand()
        if found is not None and found[2]["plan_approved"] and not found[2]["supervision"]:
            self.ledger.note_key_evaluation_supervision(
                self.finance(date(2022, 4, 28)), found[0].id, found[1], "现场督导：抽查资金拨付凭证", ["问卷样本量偏小"]
            )

    def answer_re_evaluation(self) -> None:
        found = self.re_evaluation_in_hand()
        if found is not None and found[2]["supervisions"] and found[2]["supervisions"][0]["answer"] is None:
            self.ledger.answer_key_evaluation_supervision(
                Act(self.RE_EVALUATOR, date(2022, 5, 3), ""), found[0].id, found[1], 1, "已扩大问卷样本"
            )

    def review_re_evaluation(self, what: str, on: date) -> None:
        project = self.by_agency()
        evaluation = project.commissioned_re_evaluation
        if evaluation is not None and project.key_evaluations[evaluation][f"{what}_pending"]:
            by = self.finance(on, "再评价方案、报告审核", filed(f"evaluation_{what}", evaluation))
            self.ledger.review_key_evaluation(by, project.id, evaluation, what, True)

    def score_re_evaluation(self) -> None:
        project = self.by_agency()
        evaluation = project.commissioned_re_evaluation
        if evaluation is not None and project.key_evaluations[evaluation]["score"] is None:
            self.ledger.score_key_evaluation(
                Act(Principal("zx-pg-02", "agency", OK_AGENCY), date(2022, 5, 12), "再评价报告"),
                project.id,
                evaluation,
                {"decision": "14", "process": "18", "output": "32", "effect": "27"},
            )

    def re_evaluate(self) -> None:
        boldest = self.boldest()
        for project in self.drawn():
            if project.re_evaluation is not None or project.commissioned_re_evaluation is not None:
                continue
            scores = (
                {"decision": "11", "process": "14", "output": "26", "effect": "21"}
                if project.id == boldest.id
                else {"decision": "14", "process": "19", "output": "33", "effect": "28"}
            )
            self.ledger.re_evaluate(self.finance(date(2022, 5, 16), "财政再评价"), project.id, scores)

    def rectify_inflated(self) -> None:
        project = self.boldest()
        if (
            project.re_evaluation
            and project.re_evaluation["inflated"]
            and not any(item["source"] == "re_evaluation" for item in project.rectifications)
        ):
            self.ledger.require_rectification(
                self.finance(date(2022, 5, 20), "自评虚高"),
                project.id,
                ["自评结果与再评价差距较大，自评依据不充分"],
                "re_evaluation",
                date(2022, 7, 31),
            )

    def blacklist_steps(self) -> list[Step]:
        spec = next(item for item in PROJECTS if item.code == KEY_EVALUATED)
        return [
            Step(date(2022, 3, 10), self.record_misconduct),
            Step(date(2022, 3, 18), self.blacklist),
            Step(date(2022, 3, 21), partial(self.commission_blacklisted, spec)),
            *self.evaluation_round(
                spec,
                2,
                OK_AGENCY,
                "zx-pg-01",
                "重新委托重点评价",
                "现场督导：全面核查农田地块，样本覆盖率30%",
                {"decision": "13", "process": "15", "output": "27", "effect": "22"},
                (date(2022, 3, 22), date(2022, 3, 28), date(2022, 4, 15), date(2022, 5, 6), date(2022, 5, 10)),
            ),
            Step(date(2022, 5, 18), partial(self.rectify_key_evaluation, spec)),
        ]

    def record_misconduct(self) -> None:
        if not self.ledger.agency(BAD_AGENCY).misconduct:
            spec = next(item for item in PROJECTS if item.code == KEY_EVALUATED)
            falsified = self.evaluation(spec, 1)
            self.ledger.record_misconduct(
                Act(FINANCE, date(2022, 3, 10), "", ["9" * 64]),
                BAD_AGENCY,
                "falsification",
                "高标准农田建设重点评价中伪造现场勘查记录，评价结果不实",
                [] if falsified is None else [(self.pid(spec), falsified[0])],  # its score is voided when blacklisted
            )

    def blacklist(self) -> None:
        if not self.ledger.agency(BAD_AGENCY).blacklistings:
            basis = "依据《第三方机构预算绩效评价业务监督管理暂行办法》"
            self.ledger.blacklist_agency(self.finance(date(2022, 3, 18), basis), BAD_AGENCY)

    def commission_blacklisted(self, spec: DemoProject) -> None:
        if len(self.project(spec).key_evaluations) == 1:
            try:
                self.ledger.commission_key_evaluation(self.finance(date(2022, 3, 21)), self.pid(spec), BAD_AGENCY)
            except DomainError as refused:
                self.refusals.append(f"{refused.code}: {refused.detail}")

    def rectify_key_evaluation(self, spec: DemoProject) -> None:
        project = self.project(spec)
        if len(project.key_evaluations) == 2 and not any(
            item["source"] == "key_evaluation" for item in project.rectifications
        ):
            self.ledger.require_rectification(
                self.finance(date(2022, 5, 18), "重点评价发现问题"),
                project.id,
                ["部分地块灌排设施未达设计标准", "项目档案不完整"],
                "key_evaluation",
                date(2022, 8, 31),
            )

    def rectification_steps(self) -> list[Step]:
        """The unanswered deviation's rectification is rejected once, then accepted; the inflated self-evaluation's
        is accepted; the key evaluation's is left open, so the scheduler records it overdue."""
        steps = []
        for deadline, source, rejected_first in (
            (SPOT_CHECK_RECTIFICATION_DUE, "spot_check", False),
            (date(2021, 11, 30), "monitoring", True),
            (date(2022, 7, 31), "re_evaluation", False),
        ):
            steps.append(
                Step(
                    deadline - timedelta(days=20),
                    partial(self.rectify, deadline, source, "report", "补充完善佐证材料，逐项落实整改措施"),
                )
            )
            if rejected_first:
                steps += [
                    Step(
                        deadline - timedelta(days=14),
                        partial(self.rectify, deadline, source, "reject", "整改措施不具体，请细化"),
                    ),
                    Step(
                        deadline - timedelta(days=7),
                        partial(self.rectify, deadline, source, "report again", "制定分月用款计划，责任落实到人"),
                    ),
                ]
            steps.append(
                Step(deadline - timedelta(days=2), partial(self.rectify, deadline, source, "accept", "整改到位"))
            )
        steps.append(Step(ESCALATION_DECIDED_ON, self.decide_escalations))
        return steps

    def decide_escalations(self) -> None:
        """收回 by finance of a twentieth of the budget of each project whose rectification the scheduler escalated."""
        for pid in self.ledger.project_ids():
            project = self.ledger.project(pid)
            for item in project.rectifications:
                escalation = item.get("escalation")
                if escalation is not None and escalation["decision"] is None and project.approved_amount:
                    self.ledger.decide_escalation(
                        self.finance(ESCALATION_DECIDED_ON, "整改逾期仍未完成，收回部分资金"),
                        pid,
                        item["no"],
                        "recover",
                        (project.approved_amount / 20).quantize(Decimal("0.01")),
                    )

    def rectify(self, deadline: date, source: str, action: str, text: str) -> None:
        on = {
            "report": deadline - timedelta(days=20),
            "reject": deadline - timedelta(days=14),
            "report again": deadline - timedelta(days=7),
            "accept": deadline - timedelta(days=2),
        }[action]
        for pid in self.ledger.project_ids():
            project = self.ledger.project(pid)
            for item in project.rectifications:
                if item["deadline"] != deadline or item["source"] != source:
                    continue
                report = filed("rectification_report", f"{project.code}-{item['no']}-{action}")
                department = Act(department_principal(project.department), on, "", [report])
                if action == "report" and item["status"] == "open" and not item["reports"]:
                    self.ledger.report_rectification(department, pid, item["no"], text)
                elif action == "reject" and item["status"] == "reported" and len(item["reports"]) == 1:
                    self.ledger.decide_rectification(self.finance(on, text), pid, item["no"], False)
                elif action == "report again" and item["status"] == "open" and len(item["reports"]) == 1:
                    self.ledger.report_rectification(department, pid, item["no"], text)
                elif action == "accept" and item["status"] == "reported":
                    self.ledger.decide_rectification(self.finance(on, text), pid, item["no"], True)

    # ------------------------------------------------------- 审计发现

    def audit_steps(self) -> list[Step]:
        """The audit office's findings from its audit of the 2021 budget's execution, recorded on 12 July 2022 and
        due to be answered within the ruleset's 30 days (by 11 August): 住房和城乡建设局 answers on 2 August;
        民政局 answers the one about 城乡低保资金 only on the 19th, after the scheduler's warning (4 August) and its
        missed notice (the 12th)."""
        steps = []
        for subject_kind, subject, findings, answered_on, response in AUDIT_FINDINGS:
            steps += [
                Step(AUDIT_FOUND_ON, partial(self.record_audit_finding, subject_kind, subject, findings)),
                Step(answered_on, partial(self.respond_to_audit_finding, subject_kind, subject, answered_on, response)),
            ]
        return steps

    def audit_subject(self, subject_kind: str, subject: str) -> tuple[str, UUID]:
        """How the auditor names the subject (a project by its id, an organisation by its name), and its id."""
        if subject_kind == "project":
            pid = self.ledger.project_id_of(YEAR, subject)
            return str(pid), pid
        return subject, self.ledger.organisation(subject).id

    def record_audit_finding(self, subject_kind: str, subject: str, findings: list[str]) -> None:
        named, subject_id = self.audit_subject(subject_kind, subject)
        if not self.ledger.exists(finding_id(subject_kind, subject_id, AUDIT_REPORT)):
            self.ledger.record_audit_finding(
                Act(self.AUDITOR, AUDIT_FOUND_ON, "2021年度预算执行审计", [filed("audit_report", AUDIT_REPORT)]),
                subject_kind,
                named,
                AUDIT_REPORT,
                findings,
            )

    def respond_to_audit_finding(self, subject_kind: str, subject: str, on: date, response: str) -> None:
        fid = finding_id(subject_kind, self.audit_subject(subject_kind, subject)[1], AUDIT_REPORT)
        if self.ledger.exists(fid) and self.ledger.audit_finding(fid).response is None:
            report = filed("rectification_report", f"{AUDIT_REPORT} {subject}")
            by = Act(department_principal(self.ledger.audit_finding(fid).responder), on, "审计整改情况", [report])
            self.ledger.respond_to_audit_finding(by, fid, response)

    def assess_departments(self) -> None:
        for rank, name in enumerate(DEPARTMENTS):
            if str(YEAR) in self.ledger.department(name).assessments:
                continue
            scores = {dimension: str(92 - rank * 3 - offset) for offset, dimension in enumerate(ASSESSMENT_DIMENSIONS)}
            self.ledger.assess_department(
                self.finance(date(2022, 6, 30), "2021年度部门综合绩效考评"), name, YEAR, scores
            )

    def submit_to_congress(self, year: int, what: Disclosure, on: date) -> None:
        """Finance submits the year's projects with approved goals (with results) to the people's congress, once —
        the goals of those the budget draft funds: not a continuation of a project whose result was 取消."""
        if self.ledger.exists(submission_id(year, what)):
            return
        projects = [self.project(spec) for spec in (PROJECTS if year == YEAR else PROJECTS_2022)]
        ready = [
            project.id
            for project in projects
            if (
                project.goals_rating in ("优", "良") and not self.cancelled(project)
                if what is Disclosure.GOALS
                else project.evaluation_basis()
            )
        ]
        reason = "随同预算草案报送市人大" if what is Disclosure.GOALS else "随同决算草案报送市人大"
        self.ledger.submit_to_congress(self.finance(on, reason), year, what, ready)

    def cancelled(self, project: Project) -> bool:
        """Whether ``project`` continues one whose result decision was 取消 (nothing the budget may fund)."""
        if project.continues is None:
            return False
        earlier = self.ledger.project(project.continues).results
        return earlier is not None and earlier["decision"] == "cancel"

    def close(self, spec: DemoProject) -> None:
        project = self.project(spec)
        if Stage(project.stage) in (Stage.RESULTS_APPLIED, Stage.REJECTED) and not project.open_rectifications:
            self.ledger.close_project(self.finance(CLOSING_DAY, "年度绩效管理工作完成"), project.id)


def run_demo(
    ledger: Ledger,
    *,
    every_day: bool = False,
    on_day: Callable[[date], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> DemoSummary:
    """Run the story (``progress(done, total)`` is told of each step of its agenda as it is taken)."""
    return DemoRun(ledger, every_day=every_day, on_day=on_day, progress=progress).run()
