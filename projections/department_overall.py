"""``department_overall``: each department's and budget unit's overall performance per fiscal year (部门和单位整体绩效)
— its goals and their review, its self-evaluation, finance's evaluation, the results applied and the control figure
(控制数) they set for the next year — and, per fiscal year, the coverage of overall goals against the ruleset's target.

A row per organisation and year (its ``OverallGoals`` record), folded in memory from the page's events (:func:`fold`):
a row an earlier page recorded is read first, and the page's rows are written back with one statement. Nothing is
recomputed: scores, grades, rates and amounts are what the events recorded. Beside the rows, the registered
organisations (departments and units: the coverage's denominators) and the ruleset in force (the coverage target)
are kept in side tables, so the coverage query (:func:`coverage`) reads three tables of this read model alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain import rules
from ledger.domain.overall import SELF_EVALUATION
from ledger.domain.values import HUNDRED, key
from projections import keyed, rulesets
from projections import overall_procedures as procedures
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "goals_id": "uuid NOT NULL",
    "organisation": "text NOT NULL",  # as registered
    "organisation_key": "text NOT NULL",
    "kind": "text NOT NULL",  # department or unit
    "department": "text NOT NULL",  # the organisation itself, or the unit's department
    "department_key": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    # the goals (整体绩效目标) and their review
    "status": "text NOT NULL",  # submitted, approved, returned, refused
    "rating": "text",
    "submissions": "integer NOT NULL",
    "submitted_on": "date NOT NULL",
    "reviewed_on": "date",
    "adjustments_pending": "integer NOT NULL",
    "adjustments_approved": "integer NOT NULL",
    "adjustments_rejected": "integer NOT NULL",
    # the self-evaluation (整体绩效自评)
    "self_score": "numeric",
    "self_grade": "text",
    "self_evaluated_on": "date",
    # the scheduler's notices on the self-evaluation owed (整体绩效自评时限), for the due day they were given for
    "self_evaluation_notice_due": "date",
    "self_evaluation_approaching_on": "date",
    "self_evaluation_missed_on": "date",
    # finance's evaluation (财政评价), by finance itself or a commissioned agency
    "evaluators": "jsonb NOT NULL",  # by evaluation number − 1: the agency commissioned, null for finance itself
    "evaluations": "integer NOT NULL",  # commissioned
    "evaluations_open": "integer NOT NULL",  # commissioned, neither scored nor voided
    # each evaluation's 两审一督导 (by number − 1): its procedure, the step it is at, the dues open, voided or not
    "procedures": "jsonb NOT NULL",
    "evaluation_no": "integer",  # the latest scored
    "evaluator": "text",  # its agency; NULL: finance's own, or none scored
    "evaluation_score": "numeric",
    "evaluation_grade": "text",
    "inflated": "boolean NOT NULL",  # the latest scored evaluation found the self-evaluation inflated (自评虚高)
    # the results (结果应用) and the next control figure (下年度控制数)
    "result_basis": "text",  # evaluation or self_evaluation
    "result_grade": "text",
    "result_decision": "text",  # increase, maintain, reduce
    "results_applied_on": "date",
    "next_fiscal_year": "integer",
    "control_figure": "numeric",  # this year's
    "default_rate": "numeric",  # the ruleset's for the grade
    "control_rate": "numeric",  # applied
    "control_amount": "numeric",
    "next_control_figure": "numeric",
    "control_override": "boolean NOT NULL",  # finance applied its own rate, with …
    "control_override_reason": "text",  # … this reason
    "position": "bigint NOT NULL",  # the log position of the event that last changed the row
}
ROW_COLUMNS = list(COLUMNS)
ORGANISATION_COLUMNS: dict[str, str] = {
    "organisation_id": "uuid NOT NULL",
    "name": "text NOT NULL",
    "kind": "text NOT NULL",  # department or unit
}
ORGANISATION_KINDS = {"Department.Registered": "department", "Unit.Registered": "unit"}

Rows = dict[UUID, Row]  # goals id -> its row


class DepartmentOverall(ReadModel):
    name = "department_overall"
    lane = 2  # the third lane of event-reading models (projections.runner)
    version = 3  # 2: the scheduler's notices on the self-evaluation; 3: each evaluation's 两审一督导 (procedures)

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_organisations", f"{table}_rules"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(
            conn, table, COLUMNS, ["goals_id"], [["department_key", "fiscal_year"], ["fiscal_year", "kind"]]
        )
        keyed.create_table(conn, f"{table}_organisations", ORGANISATION_COLUMNS, ["organisation_id"])
        rulesets.create(conn, f"{table}_rules")

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        goals = [item for item in events if item.kind.startswith("OverallGoals.")]
        organisations = [
            {"organisation_id": item.originator_id, "name": item.event.name, "kind": ORGANISATION_KINDS[item.kind]}
            for item in events
            if item.kind in ORGANISATION_KINDS
        ]
        keyed.store(conn, f"{table}_organisations", list(ORGANISATION_COLUMNS), ["organisation_id"], organisations)
        adopted = [item for item in events if item.kind in rulesets.KINDS]
        if adopted:
            rulesets.store(conn, f"{table}_rules", adopted[-1])  # the page's last is the one in force
        if not goals:
            return
        earlier = keyed.load(
            conn,
            table,
            ROW_COLUMNS,
            ["goals_id"],
            {(item.originator_id,) for item in goals if item.kind != "OverallGoals.Submitted"},
        )
        rows: Rows = {}
        for item in goals:
            fold(rows, item, lambda gid: earlier[(gid,)])
        keyed.store(conn, table, ROW_COLUMNS, ["goals_id"], rows.values())


def fold(rows: Rows, item: LogEvent, stored: Callable[[UUID], Row]) -> None:
    """One ``OverallGoals`` event applied to the page's ``rows``; ``stored(id)`` is a row an earlier page recorded."""
    e, gid = item.event, item.originator_id
    name = item.kind.removeprefix("OverallGoals.")
    if name == "Submitted":
        rows[gid] = _submitted(gid, e)
    else:
        row = rows.get(gid) or dict(stored(gid))
        _CHANGES[name](row, e)
        rows[gid] = row
    rows[gid]["position"] = item.leaf_index


def _submitted(gid: UUID, e: Any) -> Row:
    row: Row = dict.fromkeys(ROW_COLUMNS)
    row.update(
        goals_id=gid,
        organisation=e.organisation,
        organisation_key=key(e.organisation),
        kind=e.kind,
        department=e.department,
        department_key=key(e.department),
        fiscal_year=e.fiscal_year,
        status="submitted",
        submissions=1,
        submitted_on=e.effective_on,
        adjustments_pending=0,
        adjustments_approved=0,
        adjustments_rejected=0,
        evaluators=[],
        evaluations=0,
        evaluations_open=0,
        procedures=[],
        inflated=False,
        control_override=False,
    )
    return row


_STATUS_OF = {"优": "approved", "良": "approved", "中": "returned", "差": "refused"}


def _resubmitted(row: Row, e: Any) -> None:
    row.update(status="submitted", rating=None, submissions=row["submissions"] + 1, submitted_on=e.effective_on)


def _reviewed(row: Row, e: Any) -> None:
    row.update(status=_STATUS_OF[e.rating], rating=e.rating, reviewed_on=e.effective_on)


def _adjustment_requested(row: Row, e: Any) -> None:
    row["adjustments_pending"] += 1


def _adjustment_decided(outcome: str) -> Callable[[Row, Any], None]:
    def decided(row: Row, e: Any) -> None:
        row["adjustments_pending"] -= 1
        row[f"adjustments_{outcome}"] += 1

    return decided


def _self_evaluated(row: Row, e: Any) -> None:
    row.update(self_score=e.total, self_grade=e.grade, self_evaluated_on=e.effective_on)


def _commissioned(row: Row, e: Any) -> None:
    row.update(
        evaluators=[*row["evaluators"], e.agency_name],
        evaluations=row["evaluations"] + 1,
        evaluations_open=row["evaluations_open"] + 1,
        procedures=[*row["procedures"], procedures.commissioned(e)],
    )


def _voided(row: Row, e: Any) -> None:
    entry = procedures.of(row, e.evaluation_no)
    entry.update(step="voided", dues={}, voided_on=e.effective_on.isoformat(), blacklisting_no=e.blacklisting_no)
    if not e.was_scored:
        row["evaluations_open"] -= 1
    if row["evaluation_no"] == e.evaluation_no:  # the latest scored stands no more
        row.update(evaluation_no=None, evaluator=None, evaluation_score=None, evaluation_grade=None, inflated=False)


def _scored(row: Row, e: Any) -> None:
    procedures.of(row, e.evaluation_no).update(step="scored", dues={})
    row.update(
        evaluations_open=row["evaluations_open"] - 1,
        evaluation_no=e.evaluation_no,
        evaluator=row["evaluators"][e.evaluation_no - 1],
        evaluation_score=e.total,
        evaluation_grade=e.grade,
        inflated=bool(e.inflated),
    )


def _results_applied(row: Row, e: Any) -> None:
    row.update(
        result_basis=e.basis, result_grade=e.grade, result_decision=e.decision, results_applied_on=e.effective_on
    )


def _control_figure_adjusted(row: Row, e: Any) -> None:
    row.update(
        next_fiscal_year=e.next_fiscal_year,
        control_figure=e.control_figure,
        default_rate=e.default_rate,
        control_rate=e.rate,
        control_amount=e.amount,
        next_control_figure=e.next_control_figure,
        control_override=bool(e.override),
        control_override_reason=e.reason if e.override else None,
    )


def _noticed(notice: str) -> Callable[[Row, Any], None]:
    def noticed(row: Row, e: Any) -> None:
        if e.deadline != SELF_EVALUATION:  # a step of an evaluation: its dues are in its procedure entry
            return
        if row["self_evaluation_notice_due"] != e.due_on:  # a new ruleset moved the day: earlier notices were for
            row.update(self_evaluation_approaching_on=None, self_evaluation_missed_on=None)  # another day
        row["self_evaluation_notice_due"] = e.due_on
        row[f"self_evaluation_{notice}_on"] = e.effective_on

    return noticed


def _unchanged(row: Row, e: Any) -> None:
    """Recorded, but nothing of it is a column (the supervision's notes, as recorded before findings)."""


_CHANGES: dict[str, Callable[[Row, Any], None]] = {
    "Resubmitted": _resubmitted,
    "Reviewed": _reviewed,
    "AdjustmentRequested": _adjustment_requested,
    "AdjustmentApproved": _adjustment_decided("approved"),
    "AdjustmentRejected": _adjustment_decided("rejected"),
    "SelfEvaluated": _self_evaluated,
    "EvaluationCommissioned": _commissioned,
    **procedures.CHANGES,
    "EvaluationSupervisionNoted": _unchanged,
    "EvaluationVoided": _voided,
    "EvaluationScored": _scored,
    "ResultsApplied": _results_applied,
    "ControlFigureAdjusted": _control_figure_adjusted,
    "DeadlineApproaching": _noticed("approaching"),
    "DeadlineMissed": _noticed("missed"),
}


# ------------------------------------------------------------------------------------------------------ queries

QUERY_COLUMNS = [column for column in ROW_COLUMNS if not column.endswith("_key") and column != "evaluators"]


def with_self_evaluation_due(conn: Conn, rows: list[Row]) -> list[Row]:
    """``rows`` with the day their self-evaluation is due (``self_evaluation_due``: approved goals only, on the ruleset
    in force's ``overall_self_evaluation_due``, which moves it while it is owed) and the scheduler's notices given for
    that day (a notice for a day a later ruleset moved is not one for the new day)."""
    params = rulesets.load(conn, f"{DepartmentOverall.name}_rules") if rows else None
    for row in rows:
        due = None
        if row["status"] == "approved" and params is not None:
            due = rules.overall_self_evaluation_due(row["fiscal_year"], params)
        noticed = row.pop("self_evaluation_notice_due")
        if noticed != due:
            row.update(self_evaluation_approaching_on=None, self_evaluation_missed_on=None)
        row["self_evaluation_due"] = due
    return rows


def overall_rows(
    conn: Conn, *, organisation: str | None = None, fiscal_year: int | None = None, kind: str | None = None
) -> list[Row]:
    """The organisations' years, by year, department and organisation: ``organisation``'s (a department's, its units'
    included; a unit's own), of ``fiscal_year``, of ``kind`` (department or unit)."""
    rows = select_rows(
        conn,
        sql.SQL(
            "SELECT {} FROM {} WHERE (%(org)s::text IS NULL OR department_key = %(org)s OR organisation_key = %(org)s) "
            "AND (%(year)s::integer IS NULL OR fiscal_year = %(year)s) AND (%(kind)s::text IS NULL OR kind = %(kind)s) "
            "ORDER BY fiscal_year, department_key, kind, organisation_key"
        ).format(sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS)), sql.Identifier(DepartmentOverall.name)),
        {"org": None if organisation is None else key(organisation), "year": fiscal_year, "kind": kind},
    )
    return with_self_evaluation_due(conn, rows)


def organisation_name(conn: Conn, organisation_id: UUID) -> str | None:
    """The name the department or unit registered under ``organisation_id`` was registered with, or None."""
    row = conn.execute(
        sql.SQL("SELECT name FROM {} WHERE organisation_id = %s").format(
            sql.Identifier(f"{DepartmentOverall.name}_organisations")
        ),
        (organisation_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def overall_row(conn: Conn, organisation: str, fiscal_year: int) -> Row | None:
    """One organisation's year (its name in any spelling), or None if it submitted no overall goals for it."""
    rows = select_rows(
        conn,
        sql.SQL("SELECT {} FROM {} WHERE organisation_key = %(org)s AND fiscal_year = %(year)s").format(
            sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS)), sql.Identifier(DepartmentOverall.name)
        ),
        {"org": key(organisation), "year": fiscal_year},
    )
    return with_self_evaluation_due(conn, rows)[0] if rows else None


COVERAGE = """
WITH organisations AS (
    SELECT count(*) FILTER (WHERE kind = 'department') AS departments, count(*) FILTER (WHERE kind = 'unit') AS units
    FROM {organisations}
), years AS (
    SELECT fiscal_year,
           count(*) FILTER (WHERE kind = 'department') AS departments_submitted,
           count(*) FILTER (WHERE kind = 'department' AND status = 'approved') AS departments_approved,
           count(*) FILTER (WHERE kind = 'unit') AS units_submitted,
           count(*) FILTER (WHERE kind = 'unit' AND status = 'approved') AS units_approved,
           count(*) FILTER (WHERE self_grade IS NOT NULL) AS self_evaluated,
           count(*) FILTER (WHERE evaluation_grade IS NOT NULL) AS evaluated,
           count(*) FILTER (WHERE result_decision IS NOT NULL) AS results_applied
    FROM {table} WHERE %(year)s::integer IS NULL OR fiscal_year = %(year)s GROUP BY fiscal_year
)
SELECT y.fiscal_year, o.departments, o.units, coalesce(g.departments_submitted, 0) AS departments_submitted,
       coalesce(g.departments_approved, 0) AS departments_approved, coalesce(g.units_submitted, 0) AS units_submitted,
       coalesce(g.units_approved, 0) AS units_approved, coalesce(g.self_evaluated, 0) AS self_evaluated,
       coalesce(g.evaluated, 0) AS evaluated, coalesce(g.results_applied, 0) AS results_applied
FROM (SELECT fiscal_year FROM years UNION SELECT %(year)s::integer WHERE %(year)s::integer IS NOT NULL) AS y
CROSS JOIN organisations o LEFT JOIN years g USING (fiscal_year)
ORDER BY y.fiscal_year
"""


def coverage(conn: Conn, fiscal_year: int | None = None) -> list[Row]:
    """Per fiscal year (every year with overall goals, or ``fiscal_year`` alone): the departments and units registered,
    those with goals submitted and approved, the shares approved, the target of the ruleset in force
    (``overall_goals_coverage``) and whether it is met — the departments' share at least the target, and, where the
    target is 100%, every unit's goals approved too (the plan: 全覆盖 of departments and units) — and how many were
    self-evaluated, evaluated by finance and had their results applied."""
    table = DepartmentOverall.name
    rows = select_rows(
        conn,
        sql.SQL(COVERAGE).format(table=sql.Identifier(table), organisations=sql.Identifier(f"{table}_organisations")),
        {"year": fiscal_year},
    )
    params = rulesets.load(conn, f"{table}_rules")
    for row in rows:
        target = rules.overall_goals_target(row["fiscal_year"], params)
        departments = _share(row["departments_approved"], row["departments"])
        units = _share(row["units_approved"], row["units"])
        row.update(
            department_coverage=departments,
            unit_coverage=units,
            target=target,
            met=departments is not None
            and departments >= target
            and (target < HUNDRED or units is None or units == HUNDRED),
        )
    return rows


def _share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, to 0.01 (None: nothing to cover)."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def overall_objects(conn: Conn, organisation: str) -> tuple[UUID, ...]:
    """The overall-goals records of ``organisation`` (a department's include its units'), however it is spelled."""
    rows = conn.execute(
        sql.SQL("SELECT goals_id FROM {} WHERE department_key = %(key)s OR organisation_key = %(key)s").format(
            sql.Identifier(DepartmentOverall.name)
        ),
        {"key": key(organisation)},
    ).fetchall()
    return tuple(row[0] for row in rows)


def commissioned_overall(conn: Conn, agency: str) -> list[Row]:
    """The organisations' years with an overall evaluation commissioned to ``agency`` (however its name is spelled),
    by year and organisation, each with ``evaluation_nos``: the numbers of its evaluations commissioned to it.

    The rows keep the agency's name as commissioned, so the names are compared by their key here; only the rows with
    an evaluation commissioned are read."""
    rows = select_rows(
        conn,
        sql.SQL(
            "SELECT {}, evaluators FROM {} WHERE evaluations > 0 ORDER BY fiscal_year, department_key, kind, "
            "organisation_key"
        ).format(sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS)), sql.Identifier(DepartmentOverall.name)),
        (),
    )
    wanted = key(agency)
    found = []
    for row in rows:
        evaluators = row.pop("evaluators")
        numbers = [no for no, name in enumerate(evaluators, 1) if name is not None and key(name) == wanted]
        if numbers:
            found.append({**row, "evaluation_nos": numbers})
    return found
