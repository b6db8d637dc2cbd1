"""``documents``: the documents cited as evidence, one row per document and event, by the object it concerns — a
project, a department or unit, an agency, or any other object of the log — with its type from the catalogue (评估报告,
自评报告, 评价方案, 评价报告, 督导意见, 整改报告, 审计报告, …; NULL for an untyped digest), its digest, the event and
its business date.

Every event's ``evidence`` (its digests) and ``documents`` (the typed ones among them) are read from its stored JSON;
an audit finding and a decision are filed under the object they concern as well as under themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import sql

from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "object_id": "uuid NOT NULL",  # the object the document is filed under
    "object_type": "text NOT NULL",  # Project, Department, Unit, Agency, AuditFinding, Decision, …
    "leaf_index": "bigint NOT NULL",  # the event citing it
    "digest": "text NOT NULL",
    "document_type": "text",  # NULL: an untyped digest
    "name": "text",
    "event_type": "text NOT NULL",
    "event_object_id": "uuid NOT NULL",  # the object the event was recorded on
    "effective_on": "date",
    "recorded_at": "timestamptz NOT NULL",
    "principal_id": "text",
}
KEY = ["object_id", "leaf_index", "digest"]
# Events recorded on an object of their own about another: filed under the other too (its id, from the event).
ABOUT = {"AuditFinding.Recorded", "Decision.Recorded"}
# Their subject's kind as an object type (an audit finding's ``department`` may be a budget unit: filed as Department).
OBJECT_TYPES = {"project": "Project", "department": "Department", "unit": "Unit", "agency": "Agency"}


class Documents(ReadModel):
    name = "documents"

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, COLUMNS, KEY, [["digest"], ["document_type"]])

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        rows: list[Row] = []
        for item in events:
            e = item.event
            if not e.evidence:
                continue
            typed = {document["digest"]: document for document in e.documents or ()}
            owners = [(item.originator_id, item.kind.split(".", 1)[0])]
            if item.kind in ABOUT and e.subject_id is not None:
                owners.append((e.subject_id, OBJECT_TYPES[e.subject_kind]))
            for owner, owner_type in owners:
                for digest in e.evidence:
                    document = typed.get(digest, {})
                    rows.append(
                        {
                            "object_id": owner,
                            "object_type": owner_type,
                            "leaf_index": item.leaf_index,
                            "digest": digest,
                            "document_type": document.get("type"),
                            "name": document.get("name"),
                            "event_type": item.kind,
                            "event_object_id": item.originator_id,
                            "effective_on": e.effective_on,
                            "recorded_at": item.recorded_at,
                            "principal_id": None if e.principal is None else e.principal.id,
                        }
                    )
        keyed.store(conn, table, list(COLUMNS), KEY, rows)


def documents(
    conn: Conn, *, object_id: UUID | None = None, document_type: str | None = None, digest: str | None = None
) -> list[Row]:
    """The documents filed under ``object_id`` (of ``document_type``; with ``digest``), in log order."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT {} FROM {} WHERE (%(object)s::uuid IS NULL OR object_id = %(object)s) "
            "AND (%(type)s::text IS NULL OR document_type = %(type)s) "
            "AND (%(digest)s::text IS NULL OR digest = %(digest)s) ORDER BY leaf_index, object_id, digest"
        ).format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier(Documents.name)),
        {"object": object_id, "type": document_type, "digest": None if digest is None else digest.lower()},
    )
