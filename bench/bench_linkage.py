"""Budget approval with issue 16's checks beside the same command without them, measured in the same run.

    python -m bench.bench_linkage [--commands N] [--rounds N] [--earlier N]

``approve_budget`` (预算批复) now reads, before it decides, what issue 16 made it check:

- **the earlier result** (绩效结果与预算挂钩): the project continues one of an earlier year, whose result decision
  (here 调减, a cap) the approval is held to and records with the earlier project's version;
- **the overall goals** (整体绩效目标): in a year whose coverage target is 100% (2023 under ruleset 1), the
  department's overall goals for the year must be approved; the approval records what it read.

The pair, each on its own ledger and its own fresh projects of 2023 (declared, admitted, goals rated 优), interleaved in
rounds with the order reversed every other round:

- *with the checks*: ``Ledger.approve_budget`` on continuations of ``--earlier`` projects of 2021 whose results were
  applied (调减 10%), 教育局's 2023 overall goals approved;
- *without them*: ``UncheckedLedger.approve_budget`` — the use case as it was before issue 16 (the goals' rating,
  the amount, the disclosure day of the ruleset in force; no earlier project read, no overall goals read) — on
  projects that continue nothing.

A benchmark prints figures; nothing is asserted. The target (≥ 0.9×) is printed beside the ratio.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from bench.common import (
    BenchDatabase,
    Row,
    Series,
    bench_database,
    checkpoint,
    fmt_ratio,
    interleave_alternating,
    machine_line,
    para,
    print_checks,
    print_header,
    print_sections,
    require_at_least_one,
    server_header,
    server_settings,
    verdict,
)
from bench.sample import DEPARTMENT, EDUCATION, FINANCE, goals, overall_indicators
from ledger.application.acts import Act, Written
from ledger.application.core import use_case
from ledger.application.ledger import Ledger
from ledger.application.roles import require_role
from ledger.domain.project import Project
from ledger.domain.values import Principal, Role, money
from ledger.log.checkpoint import SigningKey

CLOCK_NOW = datetime(2023, 6, 1, 9, 0, tzinfo=UTC)
YEAR = 2023  # coverage 100% under ruleset 1: the overall-goals gate applies
EARLIER_YEAR = 2021
WARMUP_CALLS = 10
TARGET_RATIO = 0.9  # with the checks ÷ without them
CAP = Decimal("900000.00")  # the earlier projects' 1,000,000 less ruleset 1's reduce_rate of 10%
AMOUNT = "800000.00"  # within the cap
ACTUALS = {"students": "5100", "days": "200", "cost": "4.8", "health": "93", "parents": "91"}


class UncheckedLedger(Ledger):
    """``Ledger`` whose ``approve_budget`` is the use case before issue 16: no continuation read, no overall goals
    read (a project that continues nothing, the gate left unasked, as an approval recorded before the gate)."""

    @use_case
    def approve_budget(self, act: Act, pid: UUID, amount: object, *, override: bool = False) -> Written:
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.approve_budget(money(amount, "amount", allow_zero=False), act.by, params=params)
            return self.commit(project, act=act)


def act(principal: Principal, on: date, reason: str = "基准测试") -> Act:
    return Act(principal, on, reason=reason)


def declare(ledger: Ledger, code: str, year: int, on: date, continues: UUID | None = None) -> UUID:
    """Declared, admitted and its goals rated 优: the budget is the next step."""
    pid = ledger.declare_project(
        act(EDUCATION, on),
        code=code,
        name="义务教育学生营养改善计划",
        kind="project",
        department=DEPARTMENT,
        fiscal_year_=year,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
        continues=continues,
    ).aggregate_id
    ledger.admit_project(act(FINANCE, on), pid)
    ledger.submit_goals(act(EDUCATION, on), pid, goals())
    ledger.review_goals(act(FINANCE, on), pid, "优")
    return pid


def earlier_projects(ledger: Ledger, count: int) -> list[UUID]:
    """Projects of 2021, approved, self-evaluated and their results applied as 调减 (a cap for the continuation)."""
    made = []
    for n in range(count):
        pid = declare(ledger, f"EARLIER-{n:03d}", EARLIER_YEAR, date(2020, 10, 1))
        ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "1000000.00")
        report = {"digest": "5e" * 32, "type": "self_evaluation_report"}  # the report the step names (自评报告)
        by = Act(EDUCATION, date(2022, 2, 20), "", [report])
        ledger.self_evaluate(by, pid, ACTUALS, "950000.00")
        ledger.apply_results(act(FINANCE, date(2022, 3, 10), "评价为中，调减"), pid, "reduce")
        if ledger.project(pid).results is None:
            raise RuntimeError(f"{pid}: no results applied")
        made.append(pid)
    return made


def run(db: BenchDatabase, commands: int, rounds: int, earlier_count: int) -> None:
    url = db.url
    settings = server_settings(url)
    key = SigningKey.generate("bench-linkage")
    checked = Ledger(url, clock=lambda: CLOCK_NOW, signing_key=key)
    unchecked = UncheckedLedger(url, clock=lambda: CLOCK_NOW, signing_key=key)
    calls = WARMUP_CALLS + commands
    try:
        checked.bootstrap()
        checked.register_department(act(FINANCE, date(2020, 8, 1)), DEPARTMENT)
        checked.submit_overall_goals(act(EDUCATION, date(2022, 9, 1)), DEPARTMENT, YEAR, overall_indicators())
        checked.review_overall_goals(act(FINANCE, date(2022, 9, 5)), DEPARTMENT, YEAR, "优")
        earlier = earlier_projects(checked, earlier_count)
        on = date(2022, 9, 10)
        continuations = [declare(checked, f"WITH-{i:05d}", YEAR, on, earlier[i % len(earlier)]) for i in range(calls)]
        plain = [declare(unchecked, f"WITHOUT-{i:05d}", YEAR, on) for i in range(calls)]
        finance = act(FINANCE, date(2023, 1, 10), "预算批复")

        def with_checks(i: int) -> None:
            checked.approve_budget(finance, continuations[i], AMOUNT)

        def without_checks(i: int) -> None:
            unchecked.approve_budget(finance, plain[i], AMOUNT)

        pair = [
            Series(with_checks, settle=checked.wait_for_snapshots),
            Series(without_checks, settle=unchecked.wait_for_snapshots),
        ]
        for series in pair:
            series.warm(WARMUP_CALLS)
        with_t, without_t = interleave_alternating(pair, commands, rounds=rounds, before_round=lambda: checkpoint(url))
        sample = checked.project(continuations[-1])
        linkage = [entry for entry in checked.history(sample.id) if entry.event_type == "Project.BudgetApproved"]
        recorded = linkage[-1].payload
        if recorded["linkage"]["cap"] != CAP or not recorded["overall_goals"]["required"]:
            raise RuntimeError(f"the checked approvals did not check: {recorded}")
        bare = unchecked.history(plain[-1])[-1].payload
        if bare.get("linkage") is not None or bare.get("overall_goals") is not None:
            raise RuntimeError(f"the unchecked approvals checked: {bare}")
    finally:
        unchecked.close()
        checked.close()

    print_header(
        "bench_linkage — budget approval with issue 16's checks beside the same command without them (same run)",
        [
            *server_header(db, settings),
            ("machine", machine_line("eventsourcing", "psycopg")),
            (
                "parameters",
                f"--commands {commands} --rounds {rounds} --earlier {earlier_count} (the pair interleaved in {rounds} "
                "rounds, the order reversed every other round)",
            ),
        ],
    )
    print_sections(
        [
            (
                f"预算批复 of a {YEAR} project (goals rated 优), one command per transaction",
                [
                    Row("with the checks: continuation of a 调减 result, overall goals gate", with_t, "cmd", without_t),
                    Row("without them: the use case before issue 16, no continuation", without_t, "cmd", without_t),
                ],
            )
        ]
    )
    para(
        "with the checks, each approval reads the earlier project (a copy from the cache) and the department's "
        "overall goals (read in place, under their lock), all under one look at the log's tail, and records both "
        "(linkage: decision, cap, version read; overall_goals: the coverage target, threshold and status read); "
        "vs raw PG here is the ratio to the unchecked series."
    )
    print()
    ratio = with_t.rate / without_t.rate
    print_checks(
        [
            [
                "approval rate with issue 16's checks ÷ without them",
                fmt_ratio(ratio),
                f"≥ {TARGET_RATIO:.2f}×",
                verdict(ratio >= TARGET_RATIO),
            ]
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_linkage", description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=400, help="timed approvals in each series")
    parser.add_argument("--rounds", type=int, default=4, help="rounds the pair is interleaved in")
    parser.add_argument("--earlier", type=int, default=10, help="earlier projects the continuations continue")
    args = parser.parse_args(argv)
    require_at_least_one(parser, args, ("commands", "rounds", "earlier"))
    with bench_database("jixiao_bench_linkage") as db:
        run(db, args.commands, args.rounds, args.earlier)


if __name__ == "__main__":
    main()
