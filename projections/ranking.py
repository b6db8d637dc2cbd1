"""``department_ranking``: per department and year — assessment score and rank, average project grade,
self-evaluation coverage, and the decisions finance recorded on that year's ranking (通报表扬, 通报批评, 表彰, 约谈:
:mod:`ledger.domain.decisions`) — what was decided, not guessed from the rank.

A department is grouped by the key of its name (:func:`ledger.values.key`): its projects count under it however
their declarations spelled it, and each row shows the name as the department was registered.

Python folds the page's events into side tables — the projects' facts (:mod:`projections.facts`), the departments'
names and assessments (:func:`fold_departments`) and counters per department and year (:func:`department_counts`)
— and PostgreSQL ranks the years the page touched (:data:`RECOMPUTE`).

Beside the departments' names it keeps the directory of their budget units (预算单位, ``department_ranking_units``:
:func:`units`), which the ranking itself does not use: one place for the directory of the organisations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.values import KEY_SQL, key
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, composed, select_rows
from projections.facts import FACT_COLUMNS, GRADE_POINTS, apply_project_facts

COLUMNS: dict[str, str] = {
    "department_key": "text NOT NULL",
    "department": "text NOT NULL",  # as registered
    "fiscal_year": "integer NOT NULL",
    "assessment_total": "numeric(5,2)",
    "rank": "integer",
    "ranked": "integer NOT NULL",
    "average_grade_points": "numeric(4,2)",
    "approved_projects": "integer NOT NULL",
    "self_evaluated": "integer NOT NULL",
    "self_evaluation_coverage": "numeric(5,2)",
    "decisions": "text[] NOT NULL",  # the kinds of decision recorded on the year's ranking, by name
}

# Counters per department and year, kept as the page's difference (keyed.add_counts): what the ranking needs of
# its projects without reading them all again on every page.
COUNT_COLUMNS: dict[str, str] = {
    "department_key": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "projects": "integer NOT NULL",
    "approved": "integer NOT NULL",
    "self_evaluated": "integer NOT NULL",  # approved and self-evaluated
    "graded": "integer NOT NULL",
    "grade_points": "integer NOT NULL",  # 优 4, 良 3, 中 2, 差 1, summed over the graded
}
COUNTED = ["projects", "approved", "self_evaluated", "graded", "grade_points"]
DEPARTMENT_COLUMNS = {"department_id": "uuid NOT NULL", "name": "text NOT NULL", "department_key": "text NOT NULL"}
DECISION_COLUMNS = {
    "decision_id": "uuid NOT NULL",
    "department_key": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "kind": "text NOT NULL",
}
UNIT_COLUMNS = {
    "unit_id": "uuid NOT NULL",
    "name": "text NOT NULL",  # as registered
    "unit_key": "text NOT NULL",
    "department_id": "uuid NOT NULL",
    "department": "text NOT NULL",  # as the department was registered
    "department_key": "text NOT NULL",
    "registered_on": "date NOT NULL",
}

BACKFILL = (
    """
INSERT INTO {counts} (department_key, fiscal_year, projects, approved, self_evaluated, graded, grade_points)
SELECT """
    + KEY_SQL.format("department")
    + """, fiscal_year, count(*), count(*) FILTER (WHERE approved),
       count(*) FILTER (WHERE approved AND self_evaluated), count(*) FILTER (WHERE grade IN ('优', '良', '中', '差')),
       coalesce(sum(CASE grade WHEN '优' THEN 4 WHEN '良' THEN 3 WHEN '中' THEN 2 WHEN '差' THEN 1 END), 0)
FROM {projects} WHERE NOT EXISTS (SELECT FROM {counts}) GROUP BY 1, fiscal_year
"""
)

# The rows of the years a page touched, recomputed in place (a year's departments only ever grow in number).
RECOMPUTE = """
INSERT INTO {table} (department_key, department, fiscal_year, assessment_total, rank, ranked, average_grade_points,
                     approved_projects, self_evaluated, self_evaluation_coverage, decisions)
WITH keys AS (
    SELECT department_key, fiscal_year FROM {assessments} WHERE fiscal_year = ANY(%(years)s)
    UNION SELECT department_key, fiscal_year FROM {counts} WHERE fiscal_year = ANY(%(years)s) AND projects > 0
), ranked AS (
    SELECT k.department_key, k.fiscal_year, a.total,
           CASE WHEN a.total IS NOT NULL THEN rank() OVER (PARTITION BY k.fiscal_year, a.total IS NULL
                                                           ORDER BY a.total DESC) END AS rank,
           count(a.total) OVER (PARTITION BY k.fiscal_year) AS ranked,
           round(c.grade_points::numeric / nullif(c.graded, 0), 2) AS points, coalesce(c.approved, 0) AS approved,
           coalesce(c.self_evaluated, 0) AS self_evaluated
    FROM keys k LEFT JOIN {assessments} a USING (department_key, fiscal_year)
    LEFT JOIN {counts} c USING (department_key, fiscal_year)
)
SELECT department_key, coalesce((SELECT min(d.name) FROM {departments} d WHERE d.department_key = r.department_key),
                                department_key),
       fiscal_year, total, rank, ranked, points, approved, self_evaluated,
       CASE WHEN approved > 0 THEN round(100.0 * self_evaluated / approved, 2) END,
       ARRAY(SELECT d.kind FROM {decisions} d WHERE d.department_key = r.department_key
             AND d.fiscal_year = r.fiscal_year ORDER BY d.kind)
FROM ranked r
ON CONFLICT (department_key, fiscal_year) DO UPDATE SET
    department = EXCLUDED.department, assessment_total = EXCLUDED.assessment_total, rank = EXCLUDED.rank,
    ranked = EXCLUDED.ranked,
    average_grade_points = EXCLUDED.average_grade_points, approved_projects = EXCLUDED.approved_projects,
    self_evaluated = EXCLUDED.self_evaluated, self_evaluation_coverage = EXCLUDED.self_evaluation_coverage,
    decisions = EXCLUDED.decisions;
"""


def department_counts(row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    grade = row["grade"]
    return (key(row["department"]), row["fiscal_year"]), (
        1,
        int(row["approved"]),
        int(row["approved"] and row["self_evaluated"]),
        int(grade in GRADE_POINTS),
        GRADE_POINTS.get(grade, 0),
    )


class DepartmentRanking(ReadModel):
    name = "department_ranking"
    lane = 1  # the second lane of event-reading models (projections.runner), with coverage: they share a fold
    # 2: departments grouped by the key of their name; 3: the directory of budget units; 4: the decisions recorded
    # on the ranking, where a label was computed from the rank; 5: a re-evaluation by an agency counts as one
    version = 5

    def tables(self, table: str) -> list[str]:
        return [
            table,
            f"{table}_projects",
            f"{table}_assessments",
            f"{table}_departments",
            f"{table}_counts",
            f"{table}_units",
            f"{table}_decisions",
        ]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, ["department_key", "fiscal_year"], [["fiscal_year", "rank"]])
        keyed.create_table(conn, f"{table}_projects", FACT_COLUMNS, ["project_id"], [["fiscal_year", "department"]])
        keyed.create_table(
            conn,
            f"{table}_assessments",
            {"department_key": "text NOT NULL", "fiscal_year": "integer NOT NULL", "total": "numeric(5,2) NOT NULL"},
            ["department_key", "fiscal_year"],
        )
        keyed.create_table(conn, f"{table}_departments", DEPARTMENT_COLUMNS, ["department_id"], [["department_key"]])
        keyed.create_table(conn, f"{table}_counts", COUNT_COLUMNS, ["department_key", "fiscal_year"])
        keyed.create_table(conn, f"{table}_units", UNIT_COLUMNS, ["unit_id"], [["department_key"], ["unit_key"]])
        # By department only: the index's name, of the table's rebuilding name, must fit PostgreSQL's 63 bytes.
        keyed.create_table(conn, f"{table}_decisions", DECISION_COLUMNS, ["decision_id"], [["department_key"]])
        # A table built before the counters existed: count what its facts already hold, once.
        conn.execute(
            sql.SQL(BACKFILL).format(
                counts=sql.Identifier(f"{table}_counts"), projects=sql.Identifier(f"{table}_projects")
            )
        )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        changes = apply_project_facts(conn, f"{table}_projects", events)
        keyed.add_counts(
            conn, f"{table}_counts", ["department_key", "fiscal_year"], COUNTED, changes, department_counts
        )
        years = {after["fiscal_year"] for _, after in changes}
        names = keyed.load(
            conn,
            f"{table}_departments",
            list(DEPARTMENT_COLUMNS),
            ["department_id"],
            [(item.originator_id,) for item in events if item.kind.startswith("Department.")],
        )
        assessments, assessed = fold_departments(names, events)
        keyed.store(conn, f"{table}_units", list(UNIT_COLUMNS), ["unit_id"], fold_units(events))
        years |= assessed
        decided = fold_ranking_decisions(events)
        keyed.store(conn, f"{table}_decisions", list(DECISION_COLUMNS), ["decision_id"], decided)
        years |= {row["fiscal_year"] for row in decided}
        keyed.store(conn, f"{table}_departments", list(DEPARTMENT_COLUMNS), ["department_id"], names.values())
        keyed.store(
            conn,
            f"{table}_assessments",
            ["department_key", "fiscal_year", "total"],
            ["department_key", "fiscal_year"],
            assessments,
        )
        if years:
            recompute = composed(
                conn,
                ("ranking.recompute", table),
                lambda: sql.SQL(RECOMPUTE).format(
                    table=sql.Identifier(table),
                    counts=sql.Identifier(f"{table}_counts"),
                    assessments=sql.Identifier(f"{table}_assessments"),
                    departments=sql.Identifier(f"{table}_departments"),
                    decisions=sql.Identifier(f"{table}_decisions"),
                ),
            )
            conn.execute(recompute, {"years": sorted(years)}, prepare=True)


def fold_departments(names: dict[tuple[Any, ...], Row], events: Sequence[LogEvent]) -> tuple[list[Row], set[int]]:
    """The page's department events: each registration added to ``names`` (by the department's id, as
    :func:`keyed.load` gives them); returns the assessments recorded and their fiscal years."""
    assessments: list[Row] = []
    years: set[int] = set()
    for item in events:
        if item.kind == "Department.Registered":
            names[(item.originator_id,)] = {
                "department_id": item.originator_id,
                "name": item.event.name,
                "department_key": key(item.event.name),
            }
        elif item.kind == "Department.ComprehensivelyAssessed":
            assessments.append(
                {
                    "department_key": names[(item.originator_id,)]["department_key"],
                    "fiscal_year": item.event.fiscal_year,
                    "total": item.event.total,
                }
            )
            years.add(item.event.fiscal_year)
    return assessments, years


def fold_ranking_decisions(events: Sequence[LogEvent]) -> list[Row]:
    """The page's decisions on a department resting on a year's ranking (those on a project's evaluation, or on a
    unit, are not the ranking's: the ``decisions`` read model shows every one)."""
    return [
        {
            "decision_id": item.originator_id,
            "department_key": key(item.event.subject),
            "fiscal_year": item.event.fiscal_year,
            "kind": item.event.kind,
        }
        for item in events
        if item.kind == "Decision.Recorded"
        and item.event.basis == "ranking"
        and item.event.subject_kind == "department"
    ]


def fold_units(events: Sequence[LogEvent]) -> list[Row]:
    """The page's unit registrations, as rows of the directory of budget units."""
    return [
        {
            "unit_id": item.originator_id,
            "name": item.event.name,
            "unit_key": key(item.event.name),
            "department_id": item.event.department_id,
            "department": item.event.department,
            "department_key": key(item.event.department),
            "registered_on": item.event.effective_on,
        }
        for item in events
        if item.kind == "Unit.Registered"
    ]


# ------------------------------------------------------------------------------------------------------ queries


def ranking(conn: Conn, fiscal_year: int | None) -> list[Row]:
    return select_rows(
        conn,
        sql.SQL(
            "SELECT department, fiscal_year, assessment_total, rank, ranked, average_grade_points, approved_projects, "
            "self_evaluated, self_evaluation_coverage, decisions FROM {} "
            "WHERE %(year)s::integer IS NULL OR fiscal_year = %(year)s "
            "ORDER BY fiscal_year, rank NULLS LAST, department"
        ).format(sql.Identifier(DepartmentRanking.name)),
        {"year": fiscal_year},
    )


def departments(conn: Conn) -> list[Row]:
    return select_rows(
        conn,
        sql.SQL("SELECT department_id AS id, name FROM {} ORDER BY name").format(
            sql.Identifier(f"{DepartmentRanking.name}_departments")
        ),
        [],
    )


def units(conn: Conn, department: str | None = None) -> list[Row]:
    """The budget units registered (those of ``department`` only, its name in any spelling), by department and name."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT unit_id AS id, name, department_id, department, registered_on FROM {} "
            "WHERE %(department)s::text IS NULL OR department_key = %(department)s ORDER BY department, name"
        ).format(sql.Identifier(f"{DepartmentRanking.name}_units")),
        {"department": None if department is None else key(department)},
    )


def department_units(conn: Conn, department: str) -> tuple[UUID, ...]:
    """The ids of ``department``'s budget units (its name in any spelling)."""
    rows = conn.execute(
        sql.SQL("SELECT unit_id FROM {} WHERE department_key = %s").format(
            sql.Identifier(f"{DepartmentRanking.name}_units")
        ),
        (key(department),),
    ).fetchall()
    return tuple(row[0] for row in rows)
