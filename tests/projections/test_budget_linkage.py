"""``budget_linkage``'s fold, without a database: results applied and continuations declared and approved in, each
continuation beside the earlier result and what was allowed out, overrides flagged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from projections.base import LogEvent, Row
from projections.budget_linkage import ROW_COLUMNS, Results, Rows, fold, relevant_event
from tests.projections.recorded import Log

D = Decimal


def declared(log: Log, pid: UUID, code: str, continues: UUID | None, unit: str | None = None) -> LogEvent:
    return log.record(
        "Project.Declared",
        pid,
        effective_on=date(2022, 9, 1),
        code=code,
        name="营养改善（续）",
        kind="project",
        department="教育局",
        fiscal_year=2023,
        budget_book="general_public",
        special_category=None,
        requested=D("5000000.00"),
        new_major=False,
        unit=unit,
        continues=continues,
    )


def results(log: Log, pid: UUID, decision: str, grade: str, cap: Decimal | None) -> LogEvent:
    return log.record(
        "Project.ResultsApplied",
        pid,
        effective_on=date(2022, 5, 5),
        decision=decision,
        basis="self_evaluation",
        grade=grade,
        next_year_budget=cap,
        ruleset_version=1,
    )


def link(earlier: UUID, decision: str, cap: Decimal | None, *, allowed: bool, refusal: str | None) -> dict[str, Any]:
    return {
        "earlier": str(earlier),
        "earlier_version": 7,
        "earlier_code": "JY-01",
        "earlier_fiscal_year": 2021,
        "decision": decision,
        "grade": "中",
        "earlier_approved": D("4800000.00"),
        "cap": cap,
        "rectifications_accepted": [1],
        "rectifications_open": [],
        "priority": False,
        "allowed": allowed,
        "refusal": refusal,
        "detail": "",
    }


def approved(
    log: Log, pid: UUID, amount: Decimal, linkage: dict[str, Any] | None, override: bool, why: str
) -> LogEvent:
    return log.record(
        "Project.BudgetApproved",
        pid,
        effective_on=date(2023, 1, 10),
        reason=why,
        amount=amount,
        linkage=linkage,
        override=override,
    )


def folded(events: list[LogEvent], stored: Rows | None = None, stored_results: Results | None = None) -> Rows:
    results_: Results = {}
    rows: Rows = {}
    for item in events:
        if relevant_event(item):
            fold(results_, rows, item, (stored_results or {}).get, (stored or {}).get)
    return rows


def test_a_continuation_shows_the_earlier_result_then_what_its_approval_allowed() -> None:
    log, earlier, pid = Log(), uuid4(), uuid4()
    cap = D("4320000.00")
    events = [results(log, earlier, "reduce", "中", cap), declared(log, pid, "JY-01-2023", earlier)]
    row = folded(events)[pid]
    assert list(row) == ROW_COLUMNS
    assert (row["continues"], row["earlier_decision"], row["earlier_grade"], row["cap"]) == (
        earlier,
        "reduce",
        "中",
        cap,
    )
    assert (row["approved"], row["allowed"], row["override"]) == (None, None, False)
    events.append(approved(log, pid, cap, link(earlier, "reduce", cap, allowed=True, refusal=None), False, "批复"))
    row = folded(events)[pid]
    assert (row["approved"], row["approved_on"], row["allowed"], row["cap"]) == (cap, date(2023, 1, 10), True, cap)
    assert (row["earlier_code"], row["earlier_fiscal_year"], row["rectifications_accepted"]) == ("JY-01", 2021, [1])
    assert (row["override"], row["override_reason"], row["position"]) == (False, None, 2)


def test_an_override_is_flagged_with_its_reason() -> None:
    log, earlier, pid = Log(), uuid4(), uuid4()
    events = [
        results(log, earlier, "cancel", "差", None),
        declared(log, pid, "JY-01-2023", earlier),
        approved(
            log,
            pid,
            D(100),
            link(earlier, "cancel", None, allowed=False, refusal="continuation-cancelled"),
            True,
            "兜底",
        ),
    ]
    row = folded(events)[pid]
    assert (row["override"], row["override_reason"]) == (True, "兜底")
    assert (row["allowed"], row["refusal"], row["earlier_decision"]) == (False, "continuation-cancelled", "cancel")


def test_rows_and_results_of_earlier_pages_are_read_from_the_tables() -> None:
    log, earlier, pid = Log(), uuid4(), uuid4()
    first_page = [results(log, earlier, "prioritise", "优", None)]
    result_row: Row = {"project_id": earlier, "decision": "prioritise", "grade": "优", "next_year_budget": None}
    second = declared(log, pid, "JY-01-2023", earlier)
    row = folded([second], stored_results={earlier: result_row})[pid]
    assert (row["earlier_decision"], row["priority"], row["cap"]) == ("prioritise", True, None)
    third = approved(log, pid, D(9), link(earlier, "prioritise", None, allowed=True, refusal=None), False, "")
    assert folded([third], stored={pid: dict(row)})[pid]["approved"] == D(9)
    assert first_page[0].kind == "Project.ResultsApplied"


def test_projects_continuing_nothing_are_not_read() -> None:
    log, pid = Log(), uuid4()
    events = [declared(log, pid, "JY-02", None), approved(log, pid, D(5), None, False, "")]
    assert not any(relevant_event(item) for item in events)
    # and an approval stored before continuations (no linkage, no override) neither
    old = log.record("Project.BudgetApproved", pid, amount=D(5))
    assert not relevant_event(old)
    assert old.event.override is None
