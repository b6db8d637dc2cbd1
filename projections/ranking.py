"""``department_ranking``: per department and year — assessment score and rank, average project grade,
self-evaluation coverage, and who is commended (表彰, first) or summoned to interview (约谈, last)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from projections import keyed
from projections.base import Conn, LogEvent, ReadModel
from projections.facts import FACT_COLUMNS, fold_facts

COLUMNS: dict[str, str] = {
    "department": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "assessment_total": "numeric(5,2)",
    "rank": "integer",
    "ranked": "integer NOT NULL",
    "average_grade_points": "numeric(4,2)",
    "approved_projects": "integer NOT NULL",
    "self_evaluated": "integer NOT NULL",
    "self_evaluation_coverage": "numeric(5,2)",
    "standing": "text",
}

FORGET = "DELETE FROM {table} WHERE fiscal_year = ANY(%(years)s)"
RECOMPUTE = """
INSERT INTO {table} (department, fiscal_year, assessment_total, rank, ranked, average_grade_points,
                     approved_projects, self_evaluated, self_evaluation_coverage, standing)
WITH keys AS (
    SELECT department, fiscal_year FROM {assessments} WHERE fiscal_year = ANY(%(years)s)
    UNION SELECT department, fiscal_year FROM {projects} WHERE fiscal_year = ANY(%(years)s)
), projects AS (
    SELECT department, fiscal_year, count(*) FILTER (WHERE approved) AS approved,
           count(*) FILTER (WHERE approved AND self_evaluated) AS self_evaluated,
           avg(CASE grade WHEN '优' THEN 4 WHEN '良' THEN 3 WHEN '中' THEN 2 WHEN '差' THEN 1 END) AS points
    FROM {projects} WHERE fiscal_year = ANY(%(years)s) GROUP BY department, fiscal_year
), ranked AS (
    SELECT k.department, k.fiscal_year, a.total,
           CASE WHEN a.total IS NOT NULL THEN rank() OVER (PARTITION BY k.fiscal_year, a.total IS NULL
                                                           ORDER BY a.total DESC) END AS rank,
           count(a.total) OVER (PARTITION BY k.fiscal_year) AS ranked,
           round(p.points, 2) AS points, coalesce(p.approved, 0) AS approved,
           coalesce(p.self_evaluated, 0) AS self_evaluated
    FROM keys k LEFT JOIN {assessments} a USING (department, fiscal_year)
    LEFT JOIN projects p USING (department, fiscal_year)
)
SELECT department, fiscal_year, total, rank, ranked, points, approved, self_evaluated,
       CASE WHEN approved > 0 THEN round(100.0 * self_evaluated / approved, 2) END,
       CASE WHEN rank = 1 THEN 'commended' WHEN ranked > 1 AND rank = ranked THEN 'interview' END
FROM ranked;
"""


class DepartmentRanking(ReadModel):
    name = "department_ranking"

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_projects", f"{table}_assessments", f"{table}_departments"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, ["department", "fiscal_year"], [["fiscal_year", "rank"]])
        keyed.create_table(conn, f"{table}_projects", FACT_COLUMNS, ["project_id"], [["fiscal_year", "department"]])
        keyed.create_table(conn, f"{table}_assessments", {"department": "text NOT NULL", "fiscal_year":
                           "integer NOT NULL", "total": "numeric(5,2) NOT NULL"}, ["department", "fiscal_year"])
        keyed.create_table(conn, f"{table}_departments", {"department_id": "uuid NOT NULL", "name": "text NOT NULL"},
                           ["department_id"])

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        years = apply_project_facts(conn, f"{table}_projects", events)
        names = keyed.load(conn, f"{table}_departments", ["department_id", "name"], ["department_id"],
                           [(item.originator_id,) for item in events if item.kind.startswith("Department.")])
        assessments = []
        for item in events:
            if item.kind == "Department.Registered":
                names[(item.originator_id,)] = {"department_id": item.originator_id, "name": item.event.name}
            elif item.kind == "Department.ComprehensivelyAssessed":
                name = names[(item.originator_id,)]["name"]
                assessments.append({"department": name, "fiscal_year": item.event.fiscal_year,
                                    "total": item.event.total})
                years.add(item.event.fiscal_year)
        keyed.store(conn, f"{table}_departments", ["department_id", "name"], ["department_id"], names.values())
        keyed.store(conn, f"{table}_assessments", ["department", "fiscal_year", "total"],
                    ["department", "fiscal_year"], assessments)
        if years:
            conn.execute(sql.SQL(FORGET).format(table=sql.Identifier(table)), {"years": sorted(years)})
            conn.execute(sql.SQL(RECOMPUTE).format(
                table=sql.Identifier(table), projects=sql.Identifier(f"{table}_projects"),
                assessments=sql.Identifier(f"{table}_assessments")), {"years": sorted(years)})


def apply_project_facts(conn: Conn, table: str, events: Sequence[LogEvent]) -> set[int]:
    """Fold project events into a facts side table; return the fiscal years touched."""
    project_events = [item for item in events if item.kind.startswith("Project.")]
    if not project_events:
        return set()
    columns = list(FACT_COLUMNS)
    rows = keyed.load(conn, table, columns, ["project_id"], [(item.originator_id,) for item in project_events])
    for item in project_events:
        key = (item.originator_id,)
        folded = fold_facts(rows.get(key), item)
        if folded is not None:
            rows[key] = folded
    keyed.store(conn, table, columns, ["project_id"], rows.values())
    return {row["fiscal_year"] for row in rows.values()}
