"""``coverage``: per fiscal year — how completely the cycle ran (departments, and budget units, whose overall goals
(整体绩效目标) finance approved for the year, against the year's target from the ruleset in force: by default the
plan's 60% in 2021 and 100% from 2022; self-evaluation of every approved project; the re-evaluation rate), projects
per budget book, and disclosure rates.

Overall goals count once finance approved them (``OverallGoals.Reviewed`` 优/良: approved goals stay approved, an
adjustment replaces their indicators), as the budget-approval gate asks. The free-text goals recorded before
(``Department.OverallGoalsSet``) were never reviewed and count for nothing.

Python folds the page's events into side tables — the projects' facts (:mod:`projections.facts`), counters per
fiscal year (:func:`year_counts`), the organisations and their overall goals (:func:`fold_organisations`), the ruleset
in force (:mod:`projections.rulesets`) — and PostgreSQL recomputes the years the page touched (:data:`RECOMPUTE`),
every year when a ruleset was adopted. A ruleset may not change the target of a year already over
(``Ruleset.adopt``), so the current one gives every year the target it was measured against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

from ledger.domain import rules
from ledger.domain.values import Grade
from projections import keyed, rulesets
from projections.base import Conn, LogEvent, ReadModel, Row, composed, select_rows
from projections.facts import FACT_COLUMNS, apply_project_facts

COLUMNS: dict[str, str] = {
    "fiscal_year": "integer NOT NULL",
    "departments": "integer NOT NULL",
    "departments_with_goals": "integer NOT NULL",
    "goals_coverage": "numeric(5,2)",
    "goals_coverage_target": "numeric(5,2) NOT NULL",
    "units": "integer NOT NULL",
    "units_with_goals": "integer NOT NULL",
    "units_goals_coverage": "numeric(5,2)",
    "declared_projects": "integer NOT NULL",
    "approved_projects": "integer NOT NULL",
    "self_evaluated": "integer NOT NULL",
    "self_evaluation_coverage": "numeric(5,2)",
    "re_evaluated": "integer NOT NULL",
    "re_evaluation_rate": "numeric(5,2)",
    "general_public": "integer NOT NULL",
    "government_fund": "integer NOT NULL",
    "state_capital": "integer NOT NULL",
    "social_insurance": "integer NOT NULL",
    "goals_disclosure_rate": "numeric(5,2)",
    "results_disclosure_rate": "numeric(5,2)",
}

# Counters per fiscal year, kept as the page's difference (keyed.add_counts): the year's totals without reading
# every project of the year again on every page.
COUNT_COLUMNS: dict[str, str] = {
    "fiscal_year": "integer NOT NULL",
    "declared": "integer NOT NULL",
    "approved": "integer NOT NULL",
    "self_evaluated": "integer NOT NULL",  # approved and self-evaluated
    "re_evaluated": "integer NOT NULL",
    "general_public": "integer NOT NULL",
    "government_fund": "integer NOT NULL",
    "state_capital": "integer NOT NULL",
    "social_insurance": "integer NOT NULL",
    "goals_disclosed": "integer NOT NULL",  # approved, goals disclosed
    "results_disclosed": "integer NOT NULL",  # self-evaluated, results disclosed
}
# The departments and units registered (the coverage's denominators) and their overall goals records.
ORGANISATION_COLUMNS: dict[str, str] = {"organisation_id": "uuid NOT NULL", "kind": "text NOT NULL"}
ORGANISATION_KINDS = {"Department.Registered": "department", "Unit.Registered": "unit"}
GOALS_COLUMNS: dict[str, str] = {
    "goals_id": "uuid NOT NULL",
    "kind": "text NOT NULL",  # department or unit
    "fiscal_year": "integer NOT NULL",
    "approved": "boolean NOT NULL",  # rated 优 or 良 by finance: approved goals stay approved
}
APPROVING = (Grade.EXCELLENT.value, Grade.GOOD.value)
COUNTED = [name for name in COUNT_COLUMNS if name != "fiscal_year"]
BOOKS = ("general_public", "government_fund", "state_capital", "social_insurance")

BACKFILL = """
INSERT INTO {counts}
SELECT fiscal_year, count(*), count(*) FILTER (WHERE approved), count(*) FILTER (WHERE approved AND self_evaluated),
       count(*) FILTER (WHERE re_evaluated), count(*) FILTER (WHERE budget_book = 'general_public'),
       count(*) FILTER (WHERE budget_book = 'government_fund'), count(*) FILTER (WHERE budget_book = 'state_capital'),
       count(*) FILTER (WHERE budget_book = 'social_insurance'), count(*) FILTER (WHERE approved AND goals_disclosed),
       count(*) FILTER (WHERE self_evaluated AND results_disclosed)
FROM {projects} WHERE NOT EXISTS (SELECT FROM {counts}) GROUP BY fiscal_year
"""

# The rows of the years a page touched, recomputed in place.
RECOMPUTE = """
INSERT INTO {table}
WITH years AS (SELECT * FROM unnest(%(years)s::integer[], %(targets)s::numeric[]) AS y(fiscal_year, target)),
departments AS (
    SELECT count(*) FILTER (WHERE kind = 'department') AS n, count(*) FILTER (WHERE kind = 'unit') AS u
    FROM {departments}
),
goals AS (
    SELECT fiscal_year, count(*) FILTER (WHERE kind = 'department') AS n, count(*) FILTER (WHERE kind = 'unit') AS u
    FROM {goals} WHERE approved AND fiscal_year = ANY(%(years)s::integer[]) GROUP BY fiscal_year
)
SELECT y.fiscal_year, d.n, coalesce(g.n, 0),
       CASE WHEN d.n > 0 THEN round(100.0 * coalesce(g.n, 0) / d.n, 2) END,
       y.target,
       d.u, coalesce(g.u, 0),
       CASE WHEN d.u > 0 THEN round(100.0 * coalesce(g.u, 0) / d.u, 2) END,
       coalesce(p.declared, 0), coalesce(p.approved, 0), coalesce(p.self_evaluated, 0),
       CASE WHEN p.approved > 0 THEN round(100.0 * p.self_evaluated / p.approved, 2) END,
       coalesce(p.re_evaluated, 0),
       CASE WHEN p.self_evaluated > 0 THEN round(100.0 * p.re_evaluated / p.self_evaluated, 2) END,
       coalesce(p.general_public, 0), coalesce(p.government_fund, 0), coalesce(p.state_capital, 0),
       coalesce(p.social_insurance, 0),
       CASE WHEN p.approved > 0 THEN round(100.0 * p.goals_disclosed / p.approved, 2) END,
       CASE WHEN p.self_evaluated > 0 THEN round(100.0 * p.results_disclosed / p.self_evaluated, 2) END
FROM years y CROSS JOIN departments d LEFT JOIN goals g USING (fiscal_year)
LEFT JOIN {counts} p ON p.fiscal_year = y.fiscal_year AND p.declared > 0
ON CONFLICT (fiscal_year) DO UPDATE SET {updates};
"""


def year_counts(row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    approved, self_evaluated = row["approved"], row["self_evaluated"]
    return (row["fiscal_year"],), (
        1,
        int(approved),
        int(approved and self_evaluated),
        int(row["re_evaluated"]),
        *(int(row["budget_book"] == book) for book in BOOKS),
        int(approved and row["goals_disclosed"]),
        int(self_evaluated and row["results_disclosed"]),
    )


class Coverage(ReadModel):
    name = "coverage"
    lane = 1  # the second lane of event-reading models (projections.runner): with the ranking (facts.folded_facts)
    # 2: the goals coverage target from the ruleset in force; 3: approved overall goals (OverallGoals) of departments
    # and units, not the free-text goals; 4: a re-evaluation by an agency counts
    version = 4

    def tables(self, table: str) -> list[str]:
        return [
            table,
            f"{table}_projects",
            f"{table}_departments",
            f"{table}_goals",
            f"{table}_counts",
            f"{table}_rules",
        ]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, ["fiscal_year"])
        keyed.create_table(conn, f"{table}_projects", FACT_COLUMNS, ["project_id"], [["fiscal_year"]])
        keyed.create_table(conn, f"{table}_departments", ORGANISATION_COLUMNS, ["organisation_id"])
        keyed.create_table(conn, f"{table}_goals", GOALS_COLUMNS, ["goals_id"], [["fiscal_year"]])
        keyed.create_table(conn, f"{table}_counts", COUNT_COLUMNS, ["fiscal_year"])
        rulesets.create(conn, f"{table}_rules")
        # A table built before the counters existed: count what its facts already hold, once.
        conn.execute(
            sql.SQL(BACKFILL).format(
                counts=sql.Identifier(f"{table}_counts"), projects=sql.Identifier(f"{table}_projects")
            )
        )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        changes = apply_project_facts(conn, f"{table}_projects", events)
        keyed.add_counts(conn, f"{table}_counts", ["fiscal_year"], COUNTED, changes, year_counts)
        years = {after["fiscal_year"] for _, after in changes}
        reviewed = {
            (item.originator_id,)
            for item in events
            if item.kind == "OverallGoals.Reviewed" and item.event.rating in APPROVING
        }
        goals = keyed.load(conn, f"{table}_goals", list(GOALS_COLUMNS), ["goals_id"], reviewed) if reviewed else {}
        organisations, with_goals = fold_organisations(goals, events)
        years |= with_goals
        keyed.store(conn, f"{table}_departments", list(ORGANISATION_COLUMNS), ["organisation_id"], organisations)
        keyed.store(conn, f"{table}_goals", list(GOALS_COLUMNS), ["goals_id"], goals.values())
        adopted = [item for item in events if item.kind in rulesets.KINDS]
        if adopted:
            rulesets.store(conn, f"{table}_rules", adopted[-1])  # the page's last is the one in force
        if organisations or adopted:  # the denominator, or the target, of every year changes
            years |= {
                row[0]
                for row in conn.execute(sql.SQL("SELECT fiscal_year FROM {}").format(sql.Identifier(table))).fetchall()
            }
        if years:
            recompute = composed(
                conn,
                ("coverage.recompute", table),
                lambda: sql.SQL(RECOMPUTE).format(
                    table=sql.Identifier(table),
                    counts=sql.Identifier(f"{table}_counts"),
                    departments=sql.Identifier(f"{table}_departments"),
                    goals=sql.Identifier(f"{table}_goals"),
                    updates=sql.SQL(", ").join(
                        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS if c != "fiscal_year"
                    ),
                ),
            )
            params = rulesets.load(conn, f"{table}_rules")
            ordered = sorted(years)
            targets = [rules.overall_goals_target(year, params) for year in ordered]
            conn.execute(recompute, {"years": ordered, "targets": targets}, prepare=True)


def fold_organisations(goals: dict[tuple[Any, ...], Row], events: Sequence[LogEvent]) -> tuple[list[Row], set[int]]:
    """The page's organisations and overall goals: each goals record submitted is added to ``goals`` (by its id, as
    :func:`keyed.load` gives them), unapproved, and marked approved when finance rates it 优 or 良 (``goals`` holds
    the records an earlier page submitted that this page approves). Returns the departments and units registered
    (which change every year's denominators) and the fiscal years whose approved goals changed."""
    organisations: list[Row] = []
    years: set[int] = set()
    for item in events:
        if item.kind in ORGANISATION_KINDS:
            organisations.append({"organisation_id": item.originator_id, "kind": ORGANISATION_KINDS[item.kind]})
        elif item.kind == "OverallGoals.Submitted":
            goals[(item.originator_id,)] = {
                "goals_id": item.originator_id,
                "kind": item.event.kind,
                "fiscal_year": item.event.fiscal_year,
                "approved": False,
            }
        elif item.kind == "OverallGoals.Reviewed" and item.event.rating in APPROVING:
            row = goals[(item.originator_id,)]
            if not row["approved"]:
                row["approved"] = True
                years.add(row["fiscal_year"])
    return organisations, years


# ------------------------------------------------------------------------------------------------------ queries


def coverage_rows(conn: Conn, fiscal_year: int | None) -> list[Row]:
    """Each fiscal year's row (all years when ``fiscal_year`` is None), in year order."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT * FROM {} WHERE %(year)s::integer IS NULL OR fiscal_year = %(year)s ORDER BY fiscal_year"
        ).format(sql.Identifier(Coverage.name)),
        {"year": fiscal_year},
    )
