"""What bench_projections' log holds beside the demo's fiscal year: issue 16's loop, recorded through the ledger's
use cases once, then cloned with the demo's histories (:mod:`bench.projections_log`), so every read model —
``department_overall``, ``budget_linkage``, ``disclosure`` and ``decisions`` among them — has its own events to
apply in the million.

- budget units under four departments; every department's and unit's 2023 overall goals submitted and approved
  (优), half of them disclosed, the rest watched by the scheduler (approaching, missed);
- three departments' 2023 overall performance self-evaluated, evaluated by finance itself (两审), results applied
  with the next control figure; the others' self-evaluation watched (approaching, missed);
- a 2023 continuation of every demo project whose result allows one (优先保障, 合理保障, 调减 within its cap), approved
  with its linkage and the overall-goals gate;
- a 通报表扬 on an evaluation, a 约谈 on the 2021 ranking with its rectification reported and accepted, a 通报批评
  whose report is watched (approaching, missed).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from api.cli.demo_story import DEPARTMENTS, PROJECTS, department_principal
from bench.sample import overall_indicators
from ledger.application.ledger import Act, Ledger
from ledger.domain.errors import DomainError
from ledger.domain.organisations import unit_id
from ledger.domain.project import project_id
from ledger.domain.values import Principal

FINANCE = Principal("fin-bench", "finance", "市财政局")
YEAR = 2023
ALLOWING = ("prioritise", "maintain", "reduce")  # result decisions a continuation is funded under
OVERALL_ACTUALS = {"cost": "96", "efficiency": "92", "duty": "99.3", "social": "93", "sustain": "96", "satisfied": "91"}
OVERALL_SCORES = {
    "running_cost": "13",
    "management_efficiency": "18",
    "duty_performance": "27",
    "social_effect": "13",
    "sustainability": "9",
    "satisfaction": "9",
}


def act(principal: Principal, on: date, reason: str = "") -> Act:
    return Act(principal, on, reason=reason)


def unit_name(department: str) -> str:
    return f"{department}直属事业单位"


def overall_goals(ledger: Ledger) -> list[str]:
    """Units under four departments; every organisation's 2023 overall goals approved, half disclosed. Returns the
    organisations."""
    for department in DEPARTMENTS[:4]:
        if not ledger.exists(unit_id(unit_name(department))):  # a demo that registers units has other names
            ledger.register_unit(act(FINANCE, date(2022, 7, 1)), department, unit_name(department))
    whose = [(name, name) for name in DEPARTMENTS] + [(unit_name(d), d) for d in DEPARTMENTS[:4]]
    for n, (name, department) in enumerate(whose):
        staff = department_principal(department)  # a department's staff act for its units too
        ledger.submit_overall_goals(act(staff, date(2022, 7, 5)), name, YEAR, overall_indicators())
        ledger.review_overall_goals(act(FINANCE, date(2022, 7, 8)), name, YEAR, "优")
        if n % 2 == 0:
            ledger.disclose_overall_goals(act(staff, date(2022, 7, 20), "随部门预算公开"), name, YEAR)
    ledger.sweep("disclosure-deadlines", date(2022, 7, 25))
    ledger.sweep("disclosure-deadlines", date(2022, 8, 1))
    return [name for name, _ in whose]


def overall_evaluations(ledger: Ledger) -> None:
    """Three departments' 2023 overall performance self-evaluated, evaluated by finance, results applied; the
    others' self-evaluation watched."""
    for name in DEPARTMENTS[:3]:
        staff = department_principal(name)
        ledger.self_evaluate_overall(act(staff, date(2023, 12, 20)), name, YEAR, OVERALL_ACTUALS)
        ledger.commission_overall_evaluation(act(FINANCE, date(2023, 12, 21)), name, YEAR, None)
        ledger.review_overall_evaluation(act(FINANCE, date(2023, 12, 22)), name, YEAR, 1, "plan", True)
        ledger.review_overall_evaluation(act(FINANCE, date(2023, 12, 23)), name, YEAR, 1, "report", True)
        ledger.score_overall_evaluation(act(FINANCE, date(2023, 12, 24)), name, YEAR, 1, OVERALL_SCORES)
        ledger.apply_overall_results(act(FINANCE, date(2023, 12, 30)), name, YEAR, "12000000.00")
    ledger.sweep("overall-deadlines", date(2024, 3, 25))
    ledger.sweep("overall-deadlines", date(2024, 4, 1))


def continuations(ledger: Ledger) -> int:
    """A 2023 continuation of each demo project whose result allows one, approved within it. Returns how many."""
    made = 0
    for spec in PROJECTS:
        earlier = project_id(YEAR - 2, spec.code)
        if not ledger.exists(earlier):
            continue
        project = ledger.project(earlier)
        if project.results is None:
            continue
        decision = project.results["decision"]
        if decision not in ALLOWING:
            continue
        code = f"{project.code}-续"
        staff = department_principal(project.department)
        pid = ledger.declare_project(
            act(staff, date(2022, 7, 15)),
            code=code,
            name=f"{project.name}（续）",
            kind=project.kind,
            department=project.department,
            fiscal_year_=YEAR,
            budget_book=project.budget_book,
            special_category=project.special_category,
            requested=str(project.approved_amount),
            new_major=False,
            continues=earlier,
        ).aggregate_id
        ledger.admit_project(act(FINANCE, date(2022, 7, 20)), pid)
        ledger.submit_goals(act(staff, date(2022, 8, 1)), pid, list(project.goals))
        ledger.review_goals(act(FINANCE, date(2022, 8, 10)), pid, "优")
        cap = project.results.get("next_year_budget")
        amount = Decimal(cap) if decision == "reduce" and cap is not None else project.approved_amount
        ledger.approve_budget(act(FINANCE, date(2023, 1, 10)), pid, str(amount))
        assert pid == project_id(YEAR, code)
        made += 1
    return made


def decide(
    ledger: Ledger,
    on: Act,
    kind: str,
    organisation: str,
    basis: str,
    year: int | None = None,
    project_id: UUID | None = None,
) -> UUID | None:
    """A decision recorded, or None where the demo already recorded one like it (or a contrary one) on that basis."""
    try:
        return ledger.record_decision(on, kind, organisation, basis, year, project_id).aggregate_id
    except DomainError as refused:
        if refused.code in ("already-exists", "contradictory-decision"):
            return None
        raise


def decisions(ledger: Ledger) -> None:
    """通报表扬 on an evaluation, 约谈 on the 2021 ranking with its rectification, 通报批评 watched."""
    first = DEPARTMENTS[0]
    evaluated = next(
        pid
        for spec in PROJECTS
        if spec.department == first
        and ledger.exists(pid := project_id(YEAR - 2, spec.code))
        and ledger.project(pid).self_evaluation is not None
    )
    decide(ledger, act(FINANCE, date(2022, 7, 1), "自评结果良好"), "praise", first, "evaluation", project_id=evaluated)
    last = DEPARTMENTS[-1]
    interview = decide(ledger, act(FINANCE, date(2022, 7, 1), "综合绩效考评末位"), "interview", last, "ranking",
                       year=YEAR - 2)  # fmt: skip
    if interview is not None:
        staff = department_principal(last)
        ledger.report_decision_rectification(act(staff, date(2022, 7, 20)), interview, "已整改")
        ledger.decide_decision_rectification(act(FINANCE, date(2022, 7, 25)), interview, True)
    decide(ledger, act(FINANCE, date(2022, 7, 2), "自评质量差"), "criticism", DEPARTMENTS[1], "ranking", year=YEAR - 2)
    ledger.sweep("decision-deadlines", date(2022, 7, 28))
    ledger.sweep("decision-deadlines", date(2022, 8, 5))


def closed_loop(ledger: Ledger) -> int:
    """Issue 16's loop after the demo's year (the module's docstring); the continuations it approved."""
    overall_goals(ledger)
    made = continuations(ledger)
    decisions(ledger)
    overall_evaluations(ledger)
    return made
