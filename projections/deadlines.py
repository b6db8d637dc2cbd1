"""``deadlines``: every obligation with a due date, open or settled (时限).

Goal submission, the January–M monitoring report and the self-evaluation (on the days of the ruleset in force: by
default (Y−1)-10-31, Y-08-15 for January–July, (Y+1)-03-31), each rectification (its deadline) and each deviation
answer (the working days allowed), and the goals and results the department must disclose (by the day recorded
when the duty arose; owed until disclosed, even after the project is closed), owed as ``Project.open_deadlines``
says. Whether an open one is *approaching* or *missed* depends on the day you ask, so the query computes it
(:func:`flags_query`); beside that, each row keeps when the scheduler actually gave its notices (``approaching_on``,
``missed_on``: ``DeadlineApproaching`` / ``DeadlineMissed``).

A page's project events are folded in memory (:func:`fold`, one event into its project's obligations), and only the
obligations that changed are written back. The ruleset in force is kept beside them (:mod:`projections.rulesets`):
a new one moves the yearly obligations still open to its days (:func:`reschedule`), as the project itself then
owes them, and a notice given for the old day is not one for the new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain import rules
from ledger.domain.deadlines import (
    EVALUATION_STEPS,
    evaluation_number,
    meets_monitoring_report,
    supervision_answer_ref,
)
from ledger.domain.values import key
from projections import keyed, rulesets
from projections.base import Conn, LogEvent, ReadModel, Row, composed, select_rows

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "kind": "text NOT NULL",  # goal_submission, monitoring_report, self_evaluation, rectification, deviation_answer,
    # goals_disclosure, results_disclosure
    "ref": "integer NOT NULL",  # rectification number or deviation month; 0 otherwise
    "project_code": "text NOT NULL",
    "department": "text NOT NULL",  # as the project was declared
    "department_key": "text NOT NULL",  # what the department filter compares (ledger.values.key)
    "unit": "text",  # the project's budget unit, as registered; NULL: the department's own project
    "unit_key": "text",  # what the filter compares too: a unit's staff read their unit's
    "fiscal_year": "integer NOT NULL",
    "due_on": "date NOT NULL",
    "status": "text NOT NULL",  # open, met, void (no longer owed)
    "settled_on": "date",
    "approaching_on": "date",  # the DeadlineApproaching notice for this obligation and due date
    "missed_on": "date",  # the DeadlineMissed notice
    "position": "bigint NOT NULL",
}
KEY = ["project_id", "kind", "ref"]
PROJECT_COLUMNS = {
    "project_id": "uuid NOT NULL",
    "code": "text NOT NULL",
    "department": "text NOT NULL",
    "unit": "text",
    "fiscal_year": "integer NOT NULL",
    "disclosed": "text[] NOT NULL",  # what the project disclosed (a disclosure before its approval is owed by none)
}


def flags_query(table: str = "deadlines") -> sql.Composed:
    """Open obligations with their approaching / missed flags as of %(today)s, warning %(warning_days)s days."""
    return sql.SQL(
        "SELECT *, due_on < %(today)s AS missed, "
        "due_on >= %(today)s AND due_on <= %(today)s + %(warning_days)s::integer AS approaching "
        "FROM {} WHERE status = 'open' ORDER BY due_on, project_code, kind, ref"
    ).format(sql.Identifier(table))


class Deadlines(ReadModel):
    name = "deadlines"
    lane = 2  # the third lane of event-reading models (projections.runner)
    version = 9  # 2: the scheduler's notices; cancelling leaves rectifications owed, a suspension the answer;
    # 3: the department's key; 4: the budget unit; 5: the yearly due dates of the ruleset in force; 6: disclosures;
    # 7: the ex-ante report's review and the 两审一督导 steps of an agency's key evaluation; 8: an agency's
    # re-evaluation owes its plan too; 9: cancelling leaves a key evaluation's steps owed (it goes on, as the project
    # aggregate lets it: only closing the file ends it)

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_projects", f"{table}_rules"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(
            conn, table, COLUMNS, KEY, [["status", "due_on"], ["department_key", "status"], ["unit_key", "status"]]
        )
        keyed.create_table(conn, f"{table}_projects", PROJECT_COLUMNS, ["project_id"])
        rulesets.create(conn, f"{table}_rules")

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        # The others change no obligation. A ruleset divides the page: what comes before it is owed by the old days.
        relevant = [item for item in events if item.kind in FOLDED or item.kind in rulesets.KINDS]
        if not relevant:
            return
        params = rulesets.load(conn, f"{table}_rules")
        start = 0
        for index, item in enumerate(relevant):
            if item.kind in rulesets.KINDS:
                self._apply_projects(conn, table, relevant[start:index], params)
                params = rulesets.store(conn, f"{table}_rules", item)
                reschedule(conn, table, params, item)
                start = index + 1
        self._apply_projects(conn, table, relevant[start:], params)

    def _apply_projects(
        self, conn: Conn, table: str, project_events: Sequence[LogEvent], params: rules.RuleParameters
    ) -> None:
        if not project_events:
            return
        ids = {item.originator_id.int: item.originator_id for item in project_events}  # UUIDs hash in Python
        columns, project_columns = list(COLUMNS), list(PROJECT_COLUMNS)
        projects: dict[int, dict[str, Any]] = {}  # by the id's int
        owed: dict[int, Obligations] = {pid: {} for pid in ids}  # each project's obligations by (kind, ref)
        loaded_owed: dict[tuple[int, str, int], dict[str, Any]] = {}
        # The page's projects and their obligations in one query (obligations exist only for known projects). Each
        # project's obligations are looked up by the primary key's first column (LATERAL): a join the planner was
        # free to choose read the whole table once per page (a hash join on a sequential scan), a cost growing with
        # every project the log holds.
        select = composed(
            conn,
            ("deadlines.select", table),
            lambda: sql.SQL(
                "SELECT {}, {} FROM {} p LEFT JOIN LATERAL (SELECT * FROM {} o WHERE o.project_id = p.project_id) o "
                "ON TRUE WHERE p.project_id = ANY(%b)"
            ).format(
                sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(c)) for c in project_columns),
                sql.SQL(", ").join(sql.SQL("o.{}").format(sql.Identifier(c)) for c in columns),
                sql.Identifier(f"{table}_projects"),
                sql.Identifier(table),
            ),
        )
        split = len(project_columns)
        for values in conn.execute(select, (list(ids.values()),), prepare=True).fetchall():
            pid = values[0].int
            if pid not in projects:
                projects[pid] = dict(zip(project_columns, values[:split], strict=True))
            if values[split] is not None:
                row = dict(zip(columns, values[split:], strict=True))
                owed[pid][(row["kind"], row["ref"])] = row
                loaded_owed[(pid, row["kind"], row["ref"])] = dict(row)
        before = {pid: dict(row) for pid, row in projects.items()}
        for item in project_events:
            pid = item.originator_id.int
            fold(item, projects, owed[pid], pid, params)
        # Only what changed is written back: most of a page's events leave most obligations as they were.
        keyed.store(
            conn,
            f"{table}_projects",
            list(PROJECT_COLUMNS),
            ["project_id"],
            (row for pid, row in projects.items() if before.get(pid) != row),
        )
        keyed.store(
            conn,
            table,
            columns,
            KEY,
            (
                row
                for pid, rows in owed.items()
                for (kind, ref), row in rows.items()
                if loaded_owed.get((pid, kind, ref)) != row
            ),
        )


Obligations = dict[tuple[str, int], dict[str, Any]]

# The project events fold reads (every other kind leaves every obligation as it was).
FOLDED = frozenset(
    f"Project.{name}"
    for name in (
        "Declared",
        "GoalsSubmitted",
        "BudgetApproved",
        "MonitoringReported",
        "SelfEvaluated",
        "DeviationDetected",
        "CorrectiveActionOrdered",
        "DeadlineApproaching",
        "DeadlineMissed",
        "RectificationRequired",
        "RectificationAccepted",
        "Closed",
        "ExAnteAssessed",
        "ExAnteFiled",
        "ExAnteReviewed",
        "GoalsReviewed",
        "ResultsApplied",
        "Disclosed",
        "KeyEvaluationCommissioned",
        "ReEvaluationCommissioned",
        "KeyEvaluationPlanSubmitted",
        "KeyEvaluationPlanReviewed",
        "KeyEvaluationSupervised",
        "KeyEvaluationSupervisionAnswered",
        "KeyEvaluationReportSubmitted",
        "KeyEvaluationReportReviewed",
        "KeyEvaluationVoided",
    )
)
# Owed to the public until disclosed, whatever becomes of the project (closing or cancelling publishes nothing).
DISCLOSURES = ("goals_disclosure", "results_disclosure")


def fold(
    item: LogEvent, projects: dict[int, dict[str, Any]], owed: Obligations, pid: int, params: rules.RuleParameters
) -> None:
    """One project event applied to that project's obligations (``owed``, by kind and ref) and to the facts of the
    projects kept beside them (``projects``, by the project id's int: ``pid``); a yearly obligation falls due on the
    day of the ruleset in force (``params``)."""
    e = item.event
    name = item.kind.removeprefix("Project.")
    if name == "Declared":
        projects[pid] = {
            "project_id": item.originator_id,
            "code": e.code,
            "department": e.department,
            "unit": e.unit,
            "fiscal_year": e.fiscal_year,
            "disclosed": [],
        }
    project = projects.get(pid)
    if project is None:
        return
    year = project["fiscal_year"]
    if name == "Declared":
        _owe(owed, item, project, "goal_submission", 0, rules.goal_submission_due(year, params))
    elif name == "GoalsSubmitted":
        _settle(owed, item, "goal_submission", 0)
    elif name == "BudgetApproved":
        _owe(owed, item, project, "monitoring_report", 0, rules.monitoring_report_due(year, params))
        _owe(owed, item, project, "self_evaluation", 0, rules.self_evaluation_due(year, params))
        if e.goals_disclosure_due is not None and "goals" not in project["disclosed"]:  # not disclosed before
            _owe(owed, item, project, "goals_disclosure", 0, e.goals_disclosure_due)
    elif name == "ResultsApplied" and e.results_disclosure_due is not None and "results" not in project["disclosed"]:
        _owe(owed, item, project, "results_disclosure", 0, e.results_disclosure_due)
    elif name == "Disclosed":
        project["disclosed"] = [*project["disclosed"], e.what]
        _settle(owed, item, f"{e.what}_disclosure", 0)
    elif name == "MonitoringReported" and meets_monitoring_report(e.month, e.monitoring_report_month):
        _settle(owed, item, "monitoring_report", 0)
    elif name == "SelfEvaluated":  # implementation is over: what it still owed is no longer owed
        _settle(owed, item, "self_evaluation", 0)
        for kind, ref in list(owed):
            if kind in ("monitoring_report", "deviation_answer"):
                _settle(owed, item, kind, ref, "void")
    elif name == "DeviationDetected":
        _owe(owed, item, project, "deviation_answer", e.month, e.respond_by)
    elif name == "CorrectiveActionOrdered":
        for kind, ref in list(owed):
            if kind == "deviation_answer" and (e.deviation_month in (None, ref)):
                _settle(owed, item, kind, ref)
        if e.decision == "cancel":  # implementation ends; rectifications, disclosures and key evaluations stay owed
            _void_all(owed, item, keep=("rectification", *DISCLOSURES, *sorted(EVALUATION_STEPS)))
    elif name in ("DeadlineApproaching", "DeadlineMissed"):
        row = owed.get((e.deadline, e.ref))
        if row is not None and row["due_on"] == e.due_on:
            row["approaching_on" if name == "DeadlineApproaching" else "missed_on"] = e.effective_on
            row["position"] = item.leaf_index
    elif name == "RectificationRequired":
        _owe(owed, item, project, "rectification", e.rectification_no, e.deadline)
    elif name == "RectificationAccepted":
        _settle(owed, item, "rectification", e.rectification_no)
    elif name == "Closed":
        _void_all(owed, item, keep=DISCLOSURES)
    elif name == "ExAnteFiled":
        _owe(owed, item, project, "ex_ante_review", e.filing_no, e.review_due)
    elif name == "ExAnteReviewed":
        _settle(owed, item, "ex_ante_review", e.filing_no)
        if e.approved and e.conclusion == "reject":
            _void_all(owed, item)
    elif (name == "ExAnteAssessed" and e.conclusion == "reject") or (name == "GoalsReviewed" and e.rating == "差"):
        _void_all(owed, item)
    elif name.startswith("KeyEvaluation") or name == "ReEvaluationCommissioned":
        fold_evaluation(item, project, owed)


def fold_evaluation(item: LogEvent, project: dict[str, Any], owed: Obligations) -> None:
    """A step of 两审一督导 (:func:`ledger.domain.deadlines.evaluation_deadlines`): it settles the obligation it meets
    and owes the next, on the day its event recorded."""
    e = item.event
    # An agency's re-evaluation (财政再评价 commissioned) is a key evaluation under 两审一督导 in full: its plan is owed
    # as any commissioned evaluation's is.
    name = (
        "Commissioned"
        if item.kind == "Project.ReEvaluationCommissioned"
        else item.kind.removeprefix("Project.KeyEvaluation")
    )
    n = evaluation_number(e.evaluation_id)

    def owe(kind: str, due: date | None, ref: int = n) -> None:
        if due is not None:
            _owe(owed, item, project, kind, ref, due)

    if name == "Commissioned":
        owe("evaluation_plan", e.plan_due)
    elif name == "PlanSubmitted":
        _settle(owed, item, "evaluation_plan", n)
        owe("evaluation_plan_review", e.review_due)
    elif name == "PlanReviewed":
        _settle(owed, item, "evaluation_plan_review", n)
        owe("evaluation_plan", e.plan_due)
        owe("supervision", e.supervision_due)
        owe("evaluation_report", e.report_due)
    elif name == "Supervised":
        _settle(owed, item, "supervision", n)
        if e.findings:
            owe("supervision_answer", e.answer_due, supervision_answer_ref(n, e.supervision_no))
    elif name == "SupervisionAnswered":
        _settle(owed, item, "supervision_answer", supervision_answer_ref(n, e.supervision_no))
    elif name == "ReportSubmitted":
        _settle(owed, item, "evaluation_report", n)
        owe("evaluation_report_review", e.review_due)
    elif name == "ReportReviewed":
        _settle(owed, item, "evaluation_report_review", n)
        if e.approved:
            _settle(owed, item, "evaluation_report", n, "void")
        owe("evaluation_report", e.report_due)
    elif name == "Voided":
        for kind, ref in list(owed):
            if kind in EVALUATION_STEPS and (ref == n or ref // 100 == n):
                _settle(owed, item, kind, ref, "void")


# The yearly obligations and the ruleset's day for each.
YEARLY: dict[str, str] = {
    "goal_submission": "goal_submission_due",
    "monitoring_report": "monitoring_report_due",
    "self_evaluation": "self_evaluation_due",
}
RESCHEDULE = """
UPDATE {table} AS o SET due_on = make_date(o.fiscal_year + r.years, r.month, r.day), approaching_on = NULL,
       missed_on = NULL, position = %(position)s
FROM unnest(%(kinds)s::text[], %(years)s::integer[], %(months)s::integer[], %(days)s::integer[])
     AS r(kind, years, month, day)
WHERE o.status = 'open' AND o.kind = r.kind AND o.ref = 0
  AND o.due_on <> make_date(o.fiscal_year + r.years, r.month, r.day)
"""


def reschedule(conn: Conn, table: str, params: rules.RuleParameters, item: LogEvent) -> None:
    """Move every yearly obligation still open to the day of the ruleset ``item`` put in force (``params``). The
    notices given for the old day are not for the new one (the project keeps them by due date), so they are cleared;
    what was met or void stays as it was."""
    days = [getattr(params, name) for name in YEARLY.values()]
    query = composed(
        conn, ("deadlines.reschedule", table), lambda: sql.SQL(RESCHEDULE).format(table=sql.Identifier(table))
    )
    conn.execute(
        query,
        {
            "position": item.leaf_index,
            "kinds": list(YEARLY),
            "years": [day[0] for day in days],
            "months": [day[1] for day in days],
            "days": [day[2] for day in days],
        },
    )


def _owe(owed: Obligations, item: LogEvent, project: dict[str, Any], kind: str, ref: int, due: date) -> None:
    owed[(kind, ref)] = {
        "project_id": item.originator_id,
        "kind": kind,
        "ref": ref,
        "project_code": project["code"],
        "department": project["department"],
        "department_key": key(project["department"]),
        "unit": project["unit"],
        "unit_key": None if project["unit"] is None else key(project["unit"]),
        "fiscal_year": project["fiscal_year"],
        "due_on": due,
        "status": "open",
        "settled_on": None,
        "approaching_on": None,
        "missed_on": None,
        "position": item.leaf_index,
    }


def _settle(owed: Obligations, item: LogEvent, kind: str, ref: int, status: str = "met") -> None:
    row = owed.get((kind, ref))
    if row is not None and row["status"] == "open":
        row.update(status=status, settled_on=item.event.effective_on, position=item.leaf_index)


def _void_all(owed: Obligations, item: LogEvent, keep: tuple[str, ...] = ()) -> None:
    for kind, ref in list(owed):
        if kind not in keep:
            _settle(owed, item, kind, ref, "void")


# ------------------------------------------------------------------------------------------------------ queries


@dataclass(frozen=True)
class DeadlineFilter:
    today: date
    warning_days: int
    department: str | None = None  # a department's obligations (its units' too), or a budget unit's
    kind: str | None = None
    fiscal_year: int | None = None
    missed: bool | None = None
    approaching: bool | None = None
    projects: tuple[UUID, ...] | None = None  # only these projects' obligations (an agency: those it evaluates)


def open_deadlines(conn: Conn, where: DeadlineFilter, *, limit: int) -> list[Row]:
    """Open obligations with their approaching / missed flags as of ``where.today``."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"today": where.today, "warning_days": where.warning_days, "limit": limit}
    if where.department is not None:
        conditions.append(sql.SQL("(department_key = %(organisation)s OR unit_key = %(organisation)s)"))
        params["organisation"] = key(where.department)
    for column, value in (
        ("kind", where.kind),
        ("fiscal_year", where.fiscal_year),
        ("missed", where.missed),
        ("approaching", where.approaching),
    ):
        if value is not None:
            conditions.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if where.projects is not None:
        conditions.append(sql.SQL("project_id = ANY(%(projects)s)"))
        params["projects"] = list(where.projects)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT * FROM ({}) AS open{} LIMIT %(limit)s").format(flags_query(), clause)
    return select_rows(conn, query, params)
