"""Queries over the read models: what the API answers with. Every query is one indexed SELECT.

Names and codes are filtered by their key (:func:`ledger.values.key`), kept beside the text as recorded: a filter
finds every spelling of what it names, and shows each as it was given.

Pages are keyset-paginated on a stable key (a project's id, a trail entry's leaf index), so a page costs the
same at the millionth row as at the first, and rows written meanwhile never shift a page.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import dict_row

from ledger.domain.organisations import department_ids
from ledger.domain.values import key
from projections.base import Conn
from projections.deadlines import flags_query
from projections.runner import POSITIONS

Row = dict[str, Any]
STATUS_COLUMNS = (
    "project_id", "code", "name", "kind", "department", "fiscal_year", "budget_book", "special_category", "new_major",
    "stage", "requested", "approved", "executed", "execution_rate", "latest_month", "latest_deviation",
    "funding_suspended", "self_score", "self_grade", "re_score", "re_grade", "inflated", "key_score", "key_grade",
    "grade", "result_decision", "open_rectifications", "overdue_rectifications", "overdue", "overdue_deadlines",
    "goals_disclosed",
    "results_disclosed", "last_changed_at", "version", "position",
)


@dataclass(frozen=True)
class ProjectFilter:
    department: str | None = None
    fiscal_year: int | None = None
    budget_book: str | None = None
    stage: str | None = None
    grade: str | None = None
    deviation: str | None = None
    overdue: bool | None = None
    code: str | None = None
    # What the public may see: projects with goals or results disclosed, and a grade only with the results.
    disclosed_only: bool = False


def _rows(conn: Conn, query: sql.Composed | sql.SQL, params: Sequence[Any] | dict[str, Any]) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return list(cur.execute(query, params).fetchall())


def positions(conn: Conn, names: Sequence[str]) -> int:
    """The log position every one of ``names`` has reached (leaves applied)."""
    row = conn.execute(sql.SQL("SELECT min(position) FROM {} WHERE name = ANY(%s)").format(
        sql.Identifier(POSITIONS)), (list(names),)).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def log_size(conn: Conn) -> int:
    """Events in the log (the next leaf index)."""
    row = conn.execute("SELECT coalesce(max(leaf_index) + 1, 0) FROM ledger_events").fetchone()
    return int(row[0]) if row is not None else 0


def wait_for(conn: Conn, names: Sequence[str], position: int, timeout: float) -> bool:
    """Read-your-writes: wait (bounded) until ``names`` have applied leaf ``position``."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while positions(conn, names) <= position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def projects(conn: Conn, where: ProjectFilter, *, after: UUID | None, limit: int) -> list[Row]:
    """``project_status`` rows matching ``where``, in project-id order, after the cursor."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, value in (("department_key", None if where.department is None else key(where.department)),
                          ("fiscal_year", where.fiscal_year), ("budget_book", where.budget_book),
                          ("stage", where.stage), ("grade", where.grade), ("latest_deviation", where.deviation),
                          ("code_key", None if where.code is None else key(where.code))):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if where.overdue is not None:
        any_overdue = "(overdue_deadlines > 0 OR overdue_rectifications > 0)"
        conditions.append(sql.SQL(any_overdue if where.overdue else f"NOT {any_overdue}"))
    if where.disclosed_only:
        conditions.append(sql.SQL("(goals_disclosed OR results_disclosed)"))
        if where.grade is not None:
            conditions.append(sql.SQL("results_disclosed"))
    if after is not None:
        conditions.append(sql.SQL("project_id > %s"))
        params.append(after)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT {} FROM project_status{} ORDER BY project_id LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, STATUS_COLUMNS)), clause)
    return _rows(conn, query, [*params, limit])


def project(conn: Conn, project_id: UUID) -> Row | None:
    rows = _rows(conn, sql.SQL("SELECT {} FROM project_status WHERE project_id = %s").format(
        sql.SQL(", ").join(map(sql.Identifier, STATUS_COLUMNS))), [project_id])
    return rows[0] if rows else None


@dataclass(frozen=True)
class TrailFilter:
    principal: str | None = None
    organisation: str | None = None
    object_id: UUID | None = None
    event_type: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    objects: tuple[UUID, ...] | None = None  # restrict to these objects (a department sees its own)


def trail(conn: Conn, where: TrailFilter, *, after: int | None, limit: int) -> list[Row]:
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, value in (("principal_key", None if where.principal is None else key(where.principal)),
                          ("organisation_key", None if where.organisation is None else key(where.organisation)),
                          ("object_id", where.object_id), ("event_type", where.event_type)):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if where.recorded_from is not None:
        conditions.append(sql.SQL("recorded_at >= %s"))
        params.append(where.recorded_from)
    if where.recorded_to is not None:
        conditions.append(sql.SQL("recorded_at < %s"))
        params.append(where.recorded_to)
    if where.objects is not None:
        conditions.append(sql.SQL("object_id = ANY(%s)"))
        params.append(list(where.objects))
    if after is not None:
        conditions.append(sql.SQL("leaf_index > %s"))
        params.append(after)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    return _rows(conn, sql.SQL(
        "SELECT leaf_index, recorded_at, effective_on, principal_id, principal_role, organisation, object_type, "
        "object_id, object_version, event_type, event_type_zh, reason, evidence FROM accountability_trail{} "
        "ORDER BY leaf_index LIMIT %s").format(clause), [*params, limit])


def department_objects(conn: Conn, department: str) -> tuple[UUID, ...]:
    """The objects a department owns: its projects and its own record (however its name is spelled)."""
    rows = conn.execute("SELECT project_id FROM project_status WHERE department_key = %s",
                        (key(department),)).fetchall()
    return (*department_ids(department), *(row[0] for row in rows))


def commissioned_projects(conn: Conn, agency: str) -> tuple[UUID, ...]:
    """The projects with a key evaluation commissioned to ``agency`` (however its name is spelled)."""
    rows = conn.execute("SELECT project_id FROM project_status WHERE evaluators @> ARRAY[%s]::text[]",
                        (key(agency),)).fetchall()
    return tuple(row[0] for row in rows)


def blacklist(conn: Conn, *, today: date, public_only: bool, current_only: bool) -> list[Row]:
    conditions = [sql.SQL("TRUE")]
    if public_only:
        conditions.append(sql.SQL("public"))
    if current_only:
        conditions.append(sql.SQL("start_on <= %(today)s AND %(today)s < coalesce(ended_on, until)"))
    return _rows(conn, sql.SQL(
        "SELECT agency_id, blacklisting_no, agency_name, misconduct, start_on, until, ended_on, ended_how, public, "
        "reason, (start_on <= %(today)s AND %(today)s < coalesce(ended_on, until)) AS current FROM blacklist "
        "WHERE {} ORDER BY start_on DESC, agency_name, blacklisting_no").format(sql.SQL(" AND ").join(conditions)),
        {"today": today})


def ranking(conn: Conn, fiscal_year: int | None) -> list[Row]:
    return _rows(conn, sql.SQL(
        "SELECT department, fiscal_year, assessment_total, rank, ranked, average_grade_points, approved_projects, "
        "self_evaluated, self_evaluation_coverage, standing FROM department_ranking "
        "WHERE %(year)s::integer IS NULL OR fiscal_year = %(year)s "
        "ORDER BY fiscal_year, rank NULLS LAST, department"), {"year": fiscal_year})


def coverage(conn: Conn, fiscal_year: int | None) -> list[Row]:
    return _rows(conn, sql.SQL(
        "SELECT * FROM coverage WHERE %(year)s::integer IS NULL OR fiscal_year = %(year)s ORDER BY fiscal_year"),
        {"year": fiscal_year})


@dataclass(frozen=True)
class DeadlineFilter:
    today: date
    warning_days: int
    department: str | None = None
    kind: str | None = None
    fiscal_year: int | None = None
    missed: bool | None = None
    approaching: bool | None = None
    projects: tuple[UUID, ...] | None = None  # only these projects' obligations (an agency: those it evaluates)


def deadlines(conn: Conn, where: DeadlineFilter, *, limit: int) -> list[Row]:
    """Open obligations with their approaching / missed flags as of ``where.today``."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"today": where.today, "warning_days": where.warning_days, "limit": limit}
    department = None if where.department is None else key(where.department)
    for column, value in (("department_key", department), ("kind", where.kind), ("fiscal_year", where.fiscal_year),
                          ("missed", where.missed), ("approaching", where.approaching)):
        if value is not None:
            conditions.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if where.projects is not None:
        conditions.append(sql.SQL("project_id = ANY(%(projects)s)"))
        params["projects"] = list(where.projects)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT * FROM ({}) AS open{} LIMIT %(limit)s").format(flags_query(), clause)
    return _rows(conn, query, params)


def departments(conn: Conn) -> list[Row]:
    return _rows(conn, sql.SQL("SELECT department_id AS id, name FROM department_ranking_departments "
                               "ORDER BY name"), [])


def agencies(conn: Conn) -> list[Row]:
    return _rows(conn, sql.SQL("SELECT agency_id AS id, name FROM blacklist_agencies ORDER BY name"), [])
