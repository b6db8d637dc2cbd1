"""``audit_findings``: the audit office's findings (审计发现) about projects, departments and units, and agencies, one
row each, with the response each requires: due, given (when, by whom, what), the scheduler's notices.

A page's finding events are folded in memory into the rows they touch — a row an earlier page recorded is read first
— and written back with one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.values import key
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "finding_id": "uuid NOT NULL",
    "subject_kind": "text NOT NULL",  # project, department (or unit), agency
    "subject": "text NOT NULL",  # the project's code, the organisation's or agency's name
    "subject_id": "uuid NOT NULL",
    "responder_kind": "text NOT NULL",  # department or agency
    "responder": "text NOT NULL",  # who owes the response, as registered
    "responder_key": "text NOT NULL",
    "department": "text",  # the responder's department (NULL for an agency)
    "department_key": "text",
    "reference": "text NOT NULL",  # the audit's document (审计报告文号)
    "findings": "text[] NOT NULL",
    "found_on": "date NOT NULL",
    "found_by": "text NOT NULL",  # the auditor's principal id
    "found_at": "bigint NOT NULL",  # the finding's position in the log (the list's order within a day)
    "response_due": "date NOT NULL",
    "responded_on": "date",
    "responded_by": "text",
    "response": "text",
    "approaching_on": "date",
    "missed_on": "date",
    "position": "bigint NOT NULL",
}
KEY = ["finding_id"]


class AuditFindings(ReadModel):
    name = "audit_findings"

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, KEY, [["department_key"], ["responder_key"], ["subject_id"]])

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if item.kind.startswith("AuditFinding.")]
        if not relevant:
            return
        rows: dict[Any, Row] = {
            found: row
            for (found,), row in keyed.load(
                conn,
                table,
                list(COLUMNS),
                KEY,
                {(item.originator_id,) for item in relevant if item.kind != "AuditFinding.Recorded"},
            ).items()
        }
        for item in relevant:
            fold(rows, item)
        keyed.store(conn, table, list(COLUMNS), KEY, rows.values())


def fold(rows: dict[Any, Row], item: LogEvent) -> None:
    e, fid = item.event, item.originator_id
    name = item.kind.removeprefix("AuditFinding.")
    if name == "Recorded":
        rows[fid] = {
            "finding_id": fid,
            "subject_kind": e.subject_kind,
            "subject": e.subject,
            "subject_id": e.subject_id,
            "responder_kind": e.responder_kind,
            "responder": e.responder,
            "responder_key": key(e.responder),
            "department": e.department,
            "department_key": None if e.department is None else key(e.department),
            "reference": e.reference,
            "findings": list(e.findings),
            "found_on": e.effective_on,
            "found_by": e.principal.id,
            "found_at": item.leaf_index,
            "response_due": e.response_due,
            "responded_on": None,
            "responded_by": None,
            "response": None,
            "approaching_on": None,
            "missed_on": None,
        }
    elif name == "Responded":
        rows[fid].update(responded_on=e.effective_on, responded_by=e.principal.id, response=e.response)
    elif name == "DeadlineApproaching":
        rows[fid]["approaching_on"] = e.effective_on
    elif name == "DeadlineMissed":
        rows[fid]["missed_on"] = e.effective_on
    rows[fid]["position"] = item.leaf_index


# ------------------------------------------------------------------------------------------------------ queries

QUERY_COLUMNS = [column for column in COLUMNS if not column.endswith("_key")]


def audit_findings(
    conn: Conn,
    *,
    organisation: str | None = None,
    agency: str | None = None,
    subject_id: UUID | None = None,
    today: date | None = None,
) -> list[Row]:
    """The findings recorded, by date (owed by ``organisation`` — a department's include its units' — or by
    ``agency``; about ``subject_id``); ``overdue``: the response is owed and past due on ``today``."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT {}, (responded_on IS NULL AND response_due < %(today)s::date) IS TRUE AS overdue FROM {} "
            "WHERE (%(org)s::text IS NULL OR (responder_kind = 'department' AND "
            "(department_key = %(org)s OR responder_key = %(org)s))) "
            "AND (%(agency)s::text IS NULL OR (responder_kind = 'agency' AND responder_key = %(agency)s)) "
            "AND (%(subject)s::uuid IS NULL OR subject_id = %(subject)s) ORDER BY found_on, found_at"
        ).format(sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS)), sql.Identifier(AuditFindings.name)),
        {
            "org": None if organisation is None else key(organisation),
            "agency": None if agency is None else key(agency),
            "subject": subject_id,
            "today": today,
        },
    )


def finding_objects(conn: Conn, organisation: str) -> tuple[UUID, ...]:
    """The findings ``organisation`` owes a response to (a department's include its units'), however it is spelled."""
    rows = conn.execute(
        sql.SQL(
            "SELECT finding_id FROM {} WHERE responder_kind = 'department' "
            "AND (department_key = %(key)s OR responder_key = %(key)s)"
        ).format(sql.Identifier(AuditFindings.name)),
        {"key": key(organisation)},
    ).fetchall()
    return tuple(row[0] for row in rows)


def agency_finding_objects(conn: Conn, agency: str) -> tuple[UUID, ...]:
    """The findings about ``agency`` — the findings it owes a response to, recorded with the agency as the ledger
    registered it — however its name is spelled; none of a department or unit of the same name."""
    rows = conn.execute(
        sql.SQL("SELECT finding_id FROM {} WHERE responder_kind = 'agency' AND responder_key = %(key)s").format(
            sql.Identifier(AuditFindings.name)
        ),
        {"key": key(agency)},
    ).fetchall()
    return tuple(row[0] for row in rows)
