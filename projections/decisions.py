"""``decisions``: finance's 通报, 表彰 and 约谈 of departments and units, each with what it rests on and the
follow-up of the rectification it opened (due, reported, accepted, notices raised).

A page's decision events are folded in memory (:func:`fold`) into the rows they touch — a row an earlier page
recorded is read first — and written back with one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

from psycopg import sql

from ledger.domain.decisions import KIND_ZH
from ledger.domain.values import key
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "decision_id": "uuid NOT NULL",
    "kind": "text NOT NULL",  # praise, criticism, commendation, interview
    "kind_zh": "text NOT NULL",
    "subject_kind": "text NOT NULL",  # department or unit
    "subject": "text NOT NULL",  # as registered
    "subject_key": "text NOT NULL",
    "department": "text NOT NULL",  # the department, itself or the unit's
    "department_key": "text NOT NULL",
    "basis": "text NOT NULL",  # ranking or evaluation
    "fiscal_year": "integer NOT NULL",
    "project_id": "uuid",
    "decided_on": "date NOT NULL",
    "reason": "text NOT NULL",
    "rectification_due": "date",
    "rectification_status": "text",  # open, reported, accepted; NULL: the decision opens no rectification
    "reports": "integer NOT NULL",
    "reported_on": "date",
    "accepted_on": "date",
    "approaching_on": "date",
    "missed_on": "date",
    "position": "bigint NOT NULL",
}


class Decisions(ReadModel):
    name = "decisions"

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(
            conn, table, COLUMNS, ["decision_id"], [["department_key", "fiscal_year"], ["fiscal_year", "kind"]]
        )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if item.kind.startswith("Decision.")]
        if not relevant:
            return
        earlier = keyed.load(
            conn,
            table,
            list(COLUMNS),
            ["decision_id"],
            {(item.originator_id,) for item in relevant if item.kind != "Decision.Recorded"},
        )
        rows: dict[UUID, Row] = {}
        for item in relevant:
            fold(rows, item, lambda decision: earlier[(decision,)])
        keyed.store(conn, table, list(COLUMNS), ["decision_id"], rows.values())


def fold(rows: dict[UUID, Row], item: LogEvent, stored: Callable[[UUID], Row]) -> None:
    """One decision event applied to the page's ``rows``; ``stored(id)`` is a row an earlier page recorded."""
    e, did = item.event, item.originator_id
    name = item.kind.removeprefix("Decision.")
    if name == "Recorded":
        rows[did] = {
            "decision_id": did,
            "kind": e.kind,
            "kind_zh": KIND_ZH[e.kind],
            "subject_kind": e.subject_kind,
            "subject": e.subject,
            "subject_key": key(e.subject),
            "department": e.department,
            "department_key": key(e.department),
            "basis": e.basis,
            "fiscal_year": e.fiscal_year,
            "project_id": e.project_id,
            "decided_on": e.effective_on,
            "reason": e.reason,
            "rectification_due": e.rectification_due,
            "rectification_status": None if e.rectification_due is None else "open",
            "reports": 0,
            "reported_on": None,
            "accepted_on": None,
            "approaching_on": None,
            "missed_on": None,
            "position": item.leaf_index,
        }
        return
    row = rows.get(did) or dict(stored(did))
    if name == "RectificationReported":
        row.update(rectification_status="reported", reports=row["reports"] + 1, reported_on=e.effective_on)
    elif name == "RectificationAccepted":
        row.update(rectification_status="accepted", accepted_on=e.effective_on)
    elif name == "RectificationRejected":
        row.update(rectification_status="open")
    elif name == "DeadlineApproaching":
        row.update(approaching_on=e.effective_on)
    elif name == "DeadlineMissed":
        row.update(missed_on=e.effective_on)
    row["position"] = item.leaf_index
    rows[did] = row


# ------------------------------------------------------------------------------------------------------ queries

QUERY_COLUMNS = [column for column in COLUMNS if not column.endswith("_key")]


def decisions(
    conn: Conn,
    *,
    organisation: str | None = None,
    fiscal_year: int | None = None,
    kind: str | None = None,
    today: date | None = None,
) -> list[Row]:
    """The decisions recorded, by date (those about ``organisation`` — a department's include its units' — of
    ``fiscal_year``, of ``kind``); ``overdue`` is whether an open rectification's report is past due on ``today``."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT {}, (rectification_status = 'open' AND rectification_due < %(today)s::date) IS TRUE AS overdue "
            "FROM {} WHERE (%(org)s::text IS NULL OR department_key = %(org)s OR subject_key = %(org)s) "
            "AND (%(year)s::integer IS NULL OR fiscal_year = %(year)s) AND (%(kind)s::text IS NULL OR kind = %(kind)s) "
            "ORDER BY decided_on, position"
        ).format(sql.SQL(", ").join(map(sql.Identifier, QUERY_COLUMNS)), sql.Identifier(Decisions.name)),
        {
            "org": None if organisation is None else key(organisation),
            "year": fiscal_year,
            "kind": kind,
            "today": today,
        },
    )


def decision_objects(conn: Conn, organisation: str) -> tuple[UUID, ...]:
    """The decisions about ``organisation`` (a department's include its units'), however its name is spelled."""
    rows = conn.execute(
        sql.SQL("SELECT decision_id FROM {} WHERE department_key = %(key)s OR subject_key = %(key)s").format(
            sql.Identifier(Decisions.name)
        ),
        {"key": key(organisation)},
    ).fetchall()
    return tuple(row[0] for row in rows)
