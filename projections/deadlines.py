"""``deadlines``: every obligation with a due date, open or settled (时限).

Goal submission ((Y−1)-10-31), the January–July monitoring report (Y-08-15), the self-evaluation
((Y+1)-03-31), each rectification (its deadline) and each deviation answer (10 working days). Whether an open
one is *approaching* or *missed* depends on the day you ask, so it is computed by the query
(:func:`flags_query`), not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from psycopg import sql

from ledger import rules
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "kind": "text NOT NULL",  # goal_submission, monitoring_report, self_evaluation, rectification, deviation_answer
    "ref": "integer NOT NULL",  # rectification number or deviation month; 0 otherwise
    "project_code": "text NOT NULL",
    "department": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "due_on": "date NOT NULL",
    "status": "text NOT NULL",  # open, met, lapsed (consequence applied), void (no longer applies)
    "settled_on": "date",
    "position": "bigint NOT NULL",
}
KEY = ["project_id", "kind", "ref"]
PROJECT_COLUMNS = {"project_id": "uuid NOT NULL", "code": "text NOT NULL", "department": "text NOT NULL",
                   "fiscal_year": "integer NOT NULL"}


def flags_query(table: str = "deadlines") -> sql.Composed:
    """Open obligations with their approaching / missed flags as of %(today)s, warning %(warning_days)s days."""
    return sql.SQL(
        "SELECT *, due_on < %(today)s AS missed, "
        "due_on >= %(today)s AND due_on <= %(today)s + %(warning_days)s::integer AS approaching "
        "FROM {} WHERE status = 'open' ORDER BY due_on, project_code, kind, ref").format(sql.Identifier(table))


class Deadlines(ReadModel):
    name = "deadlines"

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_projects"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, KEY, [["status", "due_on"]])
        keyed.create_table(conn, f"{table}_projects", PROJECT_COLUMNS, ["project_id"])

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        project_events = [item for item in events if item.kind.startswith("Project.")]
        if not project_events:
            return
        ids = sorted({item.originator_id for item in project_events})
        projects = keyed.load(conn, f"{table}_projects", list(PROJECT_COLUMNS), ["project_id"], [(i,) for i in ids])
        obligations: dict[tuple[Any, ...], dict[str, Any]] = {}
        columns = list(COLUMNS)
        for values in conn.execute(sql.SQL("SELECT {} FROM {} WHERE project_id = ANY(%s)").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)), (ids,)).fetchall():
            row = dict(zip(columns, values, strict=True))
            obligations[tuple(row[k] for k in KEY)] = row
        for item in project_events:
            self._fold(item, projects, obligations)
        keyed.store(conn, f"{table}_projects", list(PROJECT_COLUMNS), ["project_id"], projects.values())
        keyed.store(conn, table, columns, KEY, obligations.values())

    def _fold(self, item: LogEvent, projects: dict[tuple[Any, ...], dict[str, Any]],
              obligations: dict[tuple[Any, ...], dict[str, Any]]) -> None:
        e, pid = item.event, item.originator_id
        name = item.kind.removeprefix("Project.")
        if name == "Declared":
            projects[(pid,)] = {"project_id": pid, "code": e.code, "department": e.department,
                                "fiscal_year": e.fiscal_year}
        project = projects.get((pid,))
        if project is None:
            return

        def owe(kind: str, ref: int, due: date) -> None:
            obligations[(pid, kind, ref)] = {
                "project_id": pid, "kind": kind, "ref": ref, "project_code": project["code"],
                "department": project["department"], "fiscal_year": project["fiscal_year"], "due_on": due,
                "status": "open", "settled_on": None, "position": item.leaf_index}

        def settle(kind: str, ref: int, status: str = "met") -> None:
            row = obligations.get((pid, kind, ref))
            if row is not None and row["status"] == "open":
                row.update(status=status, settled_on=e.effective_on, position=item.leaf_index)

        def void_all() -> None:
            for owner, kind, ref in list(obligations):
                if owner == pid:
                    settle(kind, ref, "void")

        year = project["fiscal_year"]
        if name == "Declared":
            owe("goal_submission", 0, rules.goal_submission_due(year))
        elif name == "GoalsSubmitted":
            settle("goal_submission", 0)
        elif name == "BudgetApproved":
            owe("monitoring_report", 0, rules.monitoring_report_due(year))
            owe("self_evaluation", 0, rules.self_evaluation_due(year))
        elif name == "MonitoringReported" and e.month >= 7:
            settle("monitoring_report", 0)
        elif name == "SelfEvaluated":
            settle("self_evaluation", 0)
        elif name == "DeviationDetected":
            owe("deviation_answer", e.month, e.respond_by)
        elif name == "CorrectiveActionOrdered":
            for owner, kind, ref in list(obligations):
                if owner == pid and kind == "deviation_answer" and (e.deviation_month in (None, ref)):
                    settle(kind, ref)
            if e.decision == "cancel":
                void_all()
        elif name == "FundingSuspended":
            settle("deviation_answer", e.deviation_month, "lapsed")
        elif name == "RectificationRequired":
            owe("rectification", e.rectification_no, e.deadline)
        elif name == "RectificationAccepted":
            settle("rectification", e.rectification_no)
        elif name == "Closed" or (name == "ExAnteAssessed" and e.conclusion == "reject") or (
                name == "GoalsReviewed" and e.rating == "差"):
            void_all()

