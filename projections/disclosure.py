"""``disclosure``: every duty to disclose (信息公开) or to submit to the congress (报送人大), one row per object and
kind — a project's goals, a project's results, an organisation's overall goals (and its overall results, once they
are recorded), a year's goals and results for the congress — with the day it is due, the scheduler's notices, and
when, by whom and how it was met (late or not), and what the disclosure made public (``content``).

Rows come from the project's events (its approval and its results applied record the due days, ``Project.Disclosed``
what was disclosed), the duties' (``DisclosureDuty``) and the congress submissions (``CongressSubmission.Submitted``:
a year's submission made before its duty was watched has a row all the same). A congress duty's due day is the
ruleset's yearly date: the ruleset in force is kept beside the rows (:mod:`projections.rulesets`), and a new one moves
the congress duties still owed to its days (their notices, given for the old day, are cleared), as the duty itself
then owes them.

A page's relevant events are folded in memory (:func:`fold`) into the rows they touch — rows an earlier page recorded
are read first — and written back with one statement, the page divided at each ruleset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain import rules
from ledger.domain.disclosure import KIND_ZH, DutyKind, congress_duty_id
from ledger.domain.values import key
from projections import keyed, rulesets
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "object_id": "uuid NOT NULL",  # the project's id, or the duty's (DisclosureDuty)
    "kind": "text NOT NULL",  # project_goals, project_results, overall_goals, overall_results, congress_goals, …
    "kind_zh": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "department": "text",  # the department the duty is of (the project's, the organisation's); NULL: the congress
    "department_key": "text",
    "unit": "text",  # the budget unit it is of, if one (the project's unit, or the unit itself)
    "unit_key": "text",
    "organisation": "text",  # who owes it: the project's unit or department, the organisation; NULL: finance
    "code": "text",  # a project's code and name
    "name": "text",
    "subject_id": "uuid",  # what is disclosed: the project, the overall goals
    "opened_on": "date",  # when the duty arose (the approval, the results applied, the duty opened)
    "due_on": "date",  # NULL: none was recorded (disclosed before disclosure was a watched duty)
    "approaching_on": "date",  # the scheduler's notices for this due day
    "missed_on": "date",
    "done_on": "date",  # disclosed (submitted) on; NULL: still owed
    "done_recorded_at": "timestamptz",
    "done_by_id": "text",
    "done_by_role": "text",
    "done_by_organisation": "text",
    "late": "boolean",  # as the disclosure (submission) recorded it; NULL: owed, or no due day
    "content": "jsonb",  # what the disclosure made public (NULL: recorded before disclosures said)
    "submission_id": "uuid",  # the congress submission that met it
    "submitted_projects": "integer",
    "position": "bigint NOT NULL",
}
KEY = ["object_id", "kind"]
PROJECT_COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "code": "text NOT NULL",
    "name": "text NOT NULL",
    "department": "text NOT NULL",
    "unit": "text",
    "fiscal_year": "integer NOT NULL",
}
# What the public may read: what a department published (not the congress submissions), once it is published.
PUBLIC_KINDS = ("project_goals", "project_results", "overall_goals", "overall_results")
CONGRESS_DAYS = {"congress_goals": "congress_goals_due", "congress_results": "congress_results_due"}
DUTY_KINDS = tuple(kind.value for kind in DutyKind)  # the kinds a DisclosureDuty's row is under

Rows = dict[tuple[UUID, str], Row]
Projects = dict[UUID, Row]


class Disclosures(ReadModel):
    name = "disclosure"
    lane = 1  # the second lane of event-reading models (projections.runner), with the ranking and coverage

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_projects", f"{table}_rules"]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(
            conn,
            table,
            COLUMNS,
            KEY,
            [["department_key", "fiscal_year"], ["unit_key", "fiscal_year"], ["fiscal_year", "kind"]],
        )
        keyed.create_table(conn, f"{table}_projects", PROJECT_COLUMNS, ["project_id"])
        rulesets.create(conn, f"{table}_rules")

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if _relevant(item)]
        if not relevant:
            return
        params = rulesets.load(conn, f"{table}_rules")
        start = 0
        for index, item in enumerate(relevant):
            if item.kind in rulesets.KINDS:
                self._apply(conn, table, relevant[start:index], params)
                params = rulesets.store(conn, f"{table}_rules", item)
                reschedule(conn, table, params, item)
                start = index + 1
        self._apply(conn, table, relevant[start:], params)

    def _apply(self, conn: Conn, table: str, events: Sequence[LogEvent], params: rules.RuleParameters) -> None:
        if not events:
            return
        objects = {object_of(item) for item in events}
        project_ids = {item.originator_id for item in events if item.kind.startswith("Project.")}
        rows: Rows = {
            (row["object_id"], row["kind"]): row
            for row in select_rows(
                conn,
                sql.SQL("SELECT {} FROM {} WHERE object_id = ANY(%s)").format(
                    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier(table)
                ),
                [list(objects)],
            )
        }
        projects: Projects = {
            row["project_id"]: row
            for row in select_rows(
                conn,
                sql.SQL("SELECT {} FROM {} WHERE project_id = ANY(%s)").format(
                    sql.SQL(", ").join(map(sql.Identifier, PROJECT_COLUMNS)), sql.Identifier(f"{table}_projects")
                ),
                [list(project_ids)],
            )
        }
        before_rows = {k: dict(v) for k, v in rows.items()}
        before_projects = {k: dict(v) for k, v in projects.items()}
        for item in events:
            fold(rows, projects, item, params)
        keyed.store(
            conn,
            f"{table}_projects",
            list(PROJECT_COLUMNS),
            ["project_id"],
            (row for pid, row in projects.items() if before_projects.get(pid) != row),
        )
        keyed.store(conn, table, list(COLUMNS), KEY, (row for k, row in rows.items() if before_rows.get(k) != row))


_PROJECT_EVENTS = frozenset(
    f"Project.{name}"
    for name in ("Declared", "BudgetApproved", "ResultsApplied", "Disclosed", "DeadlineApproaching", "DeadlineMissed")
)


def _relevant(item: LogEvent) -> bool:
    return (
        item.kind in _PROJECT_EVENTS
        or item.kind.startswith("DisclosureDuty.")
        or item.kind == "CongressSubmission.Submitted"
        or item.kind in rulesets.KINDS
    )


def object_of(item: LogEvent) -> UUID:
    """The object an event's row is under: the congress submission's is its year's duty."""
    if item.kind == "CongressSubmission.Submitted":
        return congress_duty_id(item.event.fiscal_year, item.event.what)
    return item.originator_id


def _row(object_id: UUID, kind: str, year: int, item: LogEvent) -> Row:
    row: Row = dict.fromkeys(COLUMNS)
    row.update(object_id=object_id, kind=kind, kind_zh=KIND_ZH[kind], fiscal_year=year, position=item.leaf_index)
    return row


def _project_row(rows: Rows, project: Row, what: str, item: LogEvent) -> Row:
    kind = f"project_{what}"
    row = rows.get((project["project_id"], kind))
    if row is None:
        row = rows[(project["project_id"], kind)] = _row(project["project_id"], kind, project["fiscal_year"], item)
        row.update(
            department=project["department"],
            department_key=key(project["department"]),
            unit=project["unit"],
            unit_key=None if project["unit"] is None else key(project["unit"]),
            organisation=project["unit"] or project["department"],
            code=project["code"],
            name=project["name"],
            subject_id=project["project_id"],
        )
    return row


def _done(row: Row, item: LogEvent, late: bool | None) -> None:
    principal = item.event.principal
    row.update(
        done_on=item.event.effective_on,
        done_recorded_at=item.recorded_at,
        done_by_id=principal.id,
        done_by_role=str(principal.role),
        done_by_organisation=principal.organisation,
        late=late,
    )


def _notice(row: Row | None, item: LogEvent) -> None:
    """A scheduler's notice, for the row's due day (one for an earlier day is not for this one)."""
    e = item.event
    if row is not None and row["due_on"] == e.due_on:
        row["approaching_on" if item.kind.endswith("DeadlineApproaching") else "missed_on"] = e.effective_on
        row["position"] = item.leaf_index


def fold(rows: Rows, projects: Projects, item: LogEvent, params: rules.RuleParameters) -> None:
    """One event applied to the page's ``rows`` (by object and kind) and the ``projects`` they concern; a congress
    duty falls due on the day of the ruleset in force (``params``)."""
    e = item.event
    aggregate, name = item.kind.split(".", 1)
    if aggregate == "Project":
        _fold_project(rows, projects, item, name)
    elif aggregate == "CongressSubmission":
        did = object_of(item)
        kind = f"congress_{e.what}"
        row = rows.get((did, kind)) or rows.setdefault((did, kind), _row(did, kind, e.fiscal_year, item))
        row.update(due_on=e.due_on, submission_id=item.originator_id, submitted_projects=len(e.projects))
        _done(row, item, e.late)
        row["position"] = item.leaf_index
    elif name == "Opened":
        row = rows.setdefault((item.originator_id, e.kind), _row(item.originator_id, e.kind, e.fiscal_year, item))
        due = e.due_on
        if e.kind in CONGRESS_DAYS:
            due = rules.due_in_year(e.fiscal_year, getattr(params, CONGRESS_DAYS[e.kind]))
        unit = e.organisation if e.organisation is not None and e.organisation != e.department else None
        row.update(
            department=e.department,
            department_key=None if e.department is None else key(e.department),
            unit=unit,
            unit_key=None if unit is None else key(unit),
            organisation=e.organisation,
            subject_id=e.subject_id,
            opened_on=e.effective_on,
            due_on=due,
            position=item.leaf_index,
        )
    else:
        # the duty's one row, under the kind it was opened with (a look-up per kind, not a scan of the page's rows)
        found = [r for kind in DUTY_KINDS if (r := rows.get((item.originator_id, kind))) is not None]
        if not found:
            return
        row = found[0]
        if name == "Disclosed":
            _done(row, item, e.late)
            row.update(content=e.content, position=item.leaf_index)
        elif name == "Fulfilled":
            _done(row, item, e.late)
            row.update(due_on=e.due_on, submission_id=e.submission_id, position=item.leaf_index)
        else:
            _notice(row, item)


def _fold_project(rows: Rows, projects: Projects, item: LogEvent, name: str) -> None:
    e = item.event
    pid = item.originator_id
    if name == "Declared":
        projects[pid] = {
            "project_id": pid,
            "code": e.code,
            "name": e.name,
            "department": e.department,
            "unit": e.unit,
            "fiscal_year": e.fiscal_year,
        }
        return
    project = projects.get(pid)
    if project is None:
        return
    if name == "BudgetApproved" and e.goals_disclosure_due is not None:
        row = _project_row(rows, project, "goals", item)
        if row["done_on"] is None:
            row.update(opened_on=e.effective_on, due_on=e.goals_disclosure_due, position=item.leaf_index)
    elif name == "ResultsApplied" and e.results_disclosure_due is not None:
        row = _project_row(rows, project, "results", item)
        if row["done_on"] is None:
            row.update(opened_on=e.effective_on, due_on=e.results_disclosure_due, position=item.leaf_index)
    elif name == "Disclosed":
        row = _project_row(rows, project, e.what, item)
        late = e.late
        if late is None and e.due_on is None and row["due_on"] is not None:  # recorded before it said
            late = e.effective_on > row["due_on"]
        _done(row, item, late)
        row.update(content=e.content, position=item.leaf_index)
        if e.due_on is not None:
            row["due_on"] = e.due_on
    elif name in ("DeadlineApproaching", "DeadlineMissed") and e.deadline in ("goals_disclosure", "results_disclosure"):
        _notice(rows.get((pid, f"project_{e.deadline.removesuffix('_disclosure')}")), item)


RESCHEDULE = """
UPDATE {table} AS o SET due_on = make_date(o.fiscal_year + r.years, r.month, r.day), approaching_on = NULL,
       missed_on = NULL, position = %(position)s
FROM unnest(%(kinds)s::text[], %(years)s::integer[], %(months)s::integer[], %(days)s::integer[])
     AS r(kind, years, month, day)
WHERE o.done_on IS NULL AND o.kind = r.kind AND o.due_on <> make_date(o.fiscal_year + r.years, r.month, r.day)
"""


def reschedule(conn: Conn, table: str, params: rules.RuleParameters, item: LogEvent) -> None:
    """Move every congress duty still owed to the day of the ruleset ``item`` put in force (``params``); the notices
    given for the old day are not for the new one, so they are cleared."""
    days = [getattr(params, name) for name in CONGRESS_DAYS.values()]
    conn.execute(
        sql.SQL(RESCHEDULE).format(table=sql.Identifier(table)),
        {
            "position": item.leaf_index,
            "kinds": list(CONGRESS_DAYS),
            "years": [day[0] for day in days],
            "months": [day[1] for day in days],
            "days": [day[2] for day in days],
        },
    )


# ------------------------------------------------------------------------------------------------------ queries

QUERY_COLUMNS = [column for column in COLUMNS if not column.endswith("_key")]
PUBLIC_COLUMNS = [
    "object_id",
    "kind",
    "kind_zh",
    "fiscal_year",
    "department",
    "unit",
    "organisation",
    "code",
    "name",
    "subject_id",
    "done_on",
    "content",
]


@dataclass(frozen=True)
class DisclosureFilter:
    today: date
    organisation: str | None = None  # a department's duties (its units' too), or a unit's
    fiscal_year: int | None = None
    kind: str | None = None
    owed: bool | None = None  # still owed (True) or met (False)
    late: bool | None = None  # met after its due day
    overdue: bool | None = None  # owed past its due day on ``today``
    object_id: UUID | None = None
    public: bool = False  # what the public reads: what was disclosed, and only that of it


def disclosures(conn: Conn, where: DisclosureFilter, *, limit: int) -> list[Row]:
    """The duties matching ``where``, by year, kind and object; ``overdue`` computed for ``where.today``. The public
    gets the disclosed rows of :data:`PUBLIC_KINDS` alone, each with :data:`PUBLIC_COLUMNS` alone."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"today": where.today, "limit": limit}
    if where.public:
        conditions.append(sql.SQL("done_on IS NOT NULL AND kind = ANY(%(public_kinds)s)"))
        params["public_kinds"] = list(PUBLIC_KINDS)
    if where.organisation is not None:
        conditions.append(sql.SQL("(department_key = %(organisation)s OR unit_key = %(organisation)s)"))
        params["organisation"] = key(where.organisation)
    for column, value in (("fiscal_year", where.fiscal_year), ("kind", where.kind), ("object_id", where.object_id)):
        if value is not None:
            conditions.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if where.owed is not None:
        conditions.append(sql.SQL("(done_on IS NULL) = %(owed)s"))
        params["owed"] = where.owed
    if where.late is not None:
        conditions.append(sql.SQL("late IS NOT DISTINCT FROM %(late)s"))
        params["late"] = where.late
    if where.overdue is not None:
        conditions.append(sql.SQL("(done_on IS NULL AND due_on < %(today)s::date) IS TRUE = %(overdue)s"))
        params["overdue"] = where.overdue
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    if where.public:
        columns = sql.SQL(", ").join(map(sql.Identifier, PUBLIC_COLUMNS))
    else:
        columns = sql.SQL("{}, (done_on IS NULL AND due_on < %(today)s::date) IS TRUE AS overdue").format(
            sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS))
        )
    query = sql.SQL(
        "SELECT {} FROM {}{} ORDER BY fiscal_year, kind, code NULLS FIRST, object_id LIMIT %(limit)s"
    ).format(columns, sql.Identifier(Disclosures.name), clause)
    return select_rows(conn, query, params)


def disclosure_objects(conn: Conn, organisation: str) -> tuple[UUID, ...]:
    """The duties of ``organisation`` that are objects of their own (its overall goals' disclosure; a department's
    include its units'), however its name is spelled."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT object_id FROM {} WHERE kind = ANY(%(kinds)s) "
            "AND (department_key = %(key)s OR unit_key = %(key)s)"
        ).format(sql.Identifier(Disclosures.name)),
        {"key": key(organisation), "kinds": ["overall_goals", "overall_results"]},
    ).fetchall()
    return tuple(row[0] for row in rows)
