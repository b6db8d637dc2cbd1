"""``budget_linkage``: results into budgets (绩效结果与预算安排挂钩) — each continuation beside the earlier project's
result decision and what its approval allowed, overrides flagged.

A row per project declared as continuing an earlier one (``Project.Declared`` with ``continues``). Until its budget
is approved the row shows the earlier result as applied (``<table>_results``, one row per project with results
applied: decision, grade, the 调减 cap); the approval (``Project.BudgetApproved``) then fills in what it recorded it
read — the earlier decision, cap and rectifications, whether the amount was within them — and whether finance
overrode it, with the reason. Nothing is recomputed here: the rows are what the log recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.values import key
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

RESULT_COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "decision": "text NOT NULL",
    "grade": "text NOT NULL",
    "next_year_budget": "numeric",
}

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "code": "text NOT NULL",
    "department": "text NOT NULL",
    "department_key": "text NOT NULL",
    "unit": "text",
    "unit_key": "text",
    "continues": "uuid NOT NULL",
    "earlier_code": "text",  # known from the approval (which read the earlier project)
    "earlier_fiscal_year": "integer",
    "earlier_decision": "text",  # as applied; then as the approval read it
    "earlier_grade": "text",
    "cap": "numeric",  # 调减: the most the earlier result allows
    "approved": "numeric",  # NULL: not yet approved
    "approved_on": "date",
    "allowed": "boolean",  # the amount was within what the earlier result allows
    "refusal": "text",  # what it would have been refused with, had finance not overridden it
    "priority": "boolean",  # 优先保障
    "rectifications_accepted": "jsonb",
    "override": "boolean NOT NULL",
    "override_reason": "text",
    "position": "bigint NOT NULL",
}
ROW_COLUMNS = list(COLUMNS)

Results = dict[UUID, Row]  # project id -> its result decision, grade and cap
Rows = dict[UUID, Row]  # continuation's project id -> its row


class BudgetLinkage(ReadModel):
    name = "budget_linkage"
    lane = 2  # the third lane of event-reading models (projections.runner)

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_results"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, f"{table}_results", RESULT_COLUMNS, ["project_id"])
        keyed.create_table(conn, table, COLUMNS, ["project_id"], indexes=[("department_key",), ("unit_key",)])

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if relevant_event(item)]
        if not relevant:
            return
        results_table = f"{table}_results"
        wanted_results = {(item.event.continues,) for item in relevant if item.kind == "Project.Declared"}
        wanted_rows = {(item.originator_id,) for item in relevant if item.kind == "Project.BudgetApproved"}
        stored_results = keyed.load(conn, results_table, list(RESULT_COLUMNS), ["project_id"], wanted_results)
        stored_rows = keyed.load(conn, table, ROW_COLUMNS, ["project_id"], wanted_rows)
        results: Results = {}
        rows: Rows = {}
        for item in relevant:
            fold(results, rows, item, lambda pid: stored_results.get((pid,)), lambda pid: stored_rows.get((pid,)))
        keyed.store(conn, results_table, list(RESULT_COLUMNS), ["project_id"], results.values())
        keyed.store(conn, table, ROW_COLUMNS, ["project_id"], rows.values())


def relevant_event(item: LogEvent) -> bool:
    """The events the model reads: results applied, and declarations and approvals of continuations."""
    if item.kind == "Project.ResultsApplied":
        return True
    if item.kind == "Project.Declared":
        return item.event.continues is not None
    if item.kind == "Project.BudgetApproved":
        return item.event.linkage is not None
    return False


def fold(
    results: Results,
    rows: Rows,
    item: LogEvent,
    stored_result: Callable[[UUID], Row | None],
    stored_row: Callable[[UUID], Row | None],
) -> None:
    """One relevant event (:func:`relevant_event`) applied to the page's ``results`` and continuation ``rows``;
    ``stored_result`` / ``stored_row``: what earlier pages left (None if nothing)."""
    e, pid = item.event, item.originator_id
    if item.kind == "Project.ResultsApplied":
        results[pid] = {
            "project_id": pid,
            "decision": e.decision,
            "grade": e.grade,
            "next_year_budget": e.next_year_budget,
        }
    elif item.kind == "Project.Declared":
        earlier = results.get(e.continues) or stored_result(e.continues) or {}
        rows[pid] = {
            "project_id": pid,
            "fiscal_year": e.fiscal_year,
            "code": e.code,
            "department": e.department,
            "department_key": key(e.department),
            "unit": e.unit,
            "unit_key": None if e.unit is None else key(e.unit),
            "continues": e.continues,
            "earlier_code": None,
            "earlier_fiscal_year": None,
            "earlier_decision": earlier.get("decision"),
            "earlier_grade": earlier.get("grade"),
            "cap": earlier.get("next_year_budget") if earlier.get("decision") == "reduce" else None,
            "approved": None,
            "approved_on": None,
            "allowed": None,
            "refusal": None,
            "priority": earlier.get("decision") == "prioritise" if earlier else None,
            "rectifications_accepted": None,
            "override": False,
            "override_reason": None,
            "position": item.leaf_index,
        }
    else:  # Project.BudgetApproved of a continuation
        row = rows.get(pid) or stored_row(pid)
        assert row is not None, f"the approval of {pid} continues a project its declaration did not name"
        link: dict[str, Any] = e.linkage
        row.update(
            earlier_code=link["earlier_code"],
            earlier_fiscal_year=link["earlier_fiscal_year"],
            earlier_decision=link["decision"],
            earlier_grade=link["grade"],
            cap=link["cap"],
            approved=e.amount,
            approved_on=e.effective_on,
            allowed=link["allowed"],
            refusal=link["refusal"],
            priority=link["priority"],
            rectifications_accepted=list(link["rectifications_accepted"]),
            override=bool(e.override),
            override_reason=e.reason if e.override else None,
            position=item.leaf_index,
        )
        rows[pid] = row


# ------------------------------------------------------------------------------------------------------ queries


def budget_linkage(
    conn: Conn, *, organisation: str | None = None, fiscal_year: int | None = None, overrides_only: bool = False
) -> list[Row]:
    """The continuations, by fiscal year and code: ``organisation``'s (a department's, its units' included, or a
    unit's own), of ``fiscal_year``, only those finance overrode."""
    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}
    if organisation is not None:
        conditions.append(sql.SQL("(department_key = %(org)s OR unit_key = %(org)s)"))
        params["org"] = key(organisation)
    if fiscal_year is not None:
        conditions.append(sql.SQL("fiscal_year = %(year)s"))
        params["year"] = fiscal_year
    if overrides_only:
        conditions.append(sql.SQL("override"))
    columns = [name for name in ROW_COLUMNS if not name.endswith("_key")]
    return select_rows(
        conn,
        sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY fiscal_year, code, project_id").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.Identifier(BudgetLinkage.name),
            sql.SQL(" AND ").join(conditions),
        ),
        params,
    )
