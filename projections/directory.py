"""The projects a read model names beside its own rows: each project's code, name, department, unit and year, kept
from its declaration (``Project.Declared``) in a table the read model owns (``{table}_projects``), so its queries
filter and show its rows by project without reading another read model's tables (each rebuilds on its own).

:class:`ProjectRows` is such a read model: its rows about projects beside its directory, answered by
:func:`project_rows` with the fields of the project each names."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, LiteralString

from psycopg import sql

from ledger.domain.values import key
from projections import keyed
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "project_code": "text NOT NULL",
    "project_name": "text NOT NULL",
    "department": "text NOT NULL",  # as declared
    "department_key": "text NOT NULL",
    "unit": "text",  # its budget unit, as registered; NULL: the department's own project
    "unit_key": "text",
    "fiscal_year": "integer NOT NULL",
}
SHOWN = ("project_code", "project_name", "department", "unit", "fiscal_year")


def table_of(table: str) -> str:
    return f"{table}_projects"


def create(conn: Conn, table: str) -> None:
    keyed.create_table(conn, table_of(table), COLUMNS, ["project_id"], [["department_key"], ["unit_key"]])


def store(conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
    """The page's declarations, each project's row."""
    rows: list[Row] = [
        {
            "project_id": item.originator_id,
            "project_code": item.event.code,
            "project_name": item.event.name,
            "department": item.event.department,
            "department_key": key(item.event.department),
            "unit": item.event.unit,
            "unit_key": None if item.event.unit is None else key(item.event.unit),
            "fiscal_year": item.event.fiscal_year,
        }
        for item in events
        if item.kind == "Project.Declared"
    ]
    keyed.store(conn, table_of(table), list(COLUMNS), ["project_id"], rows)


# A condition on the joined project (alias ``p``): every project when ``%(org)s`` (an organisation's key) is NULL,
# else the department's (its units' projects too) or the unit's.
SCOPE = "(%(org)s::text IS NULL OR p.department_key = %(org)s OR p.unit_key = %(org)s)"


class ProjectRows(ReadModel):
    """A read model of keyed rows about projects (its ``COLUMNS``, the first ``project_id``, keyed by its ``KEY``,
    indexed by its ``INDEXES``) and its own directory of the projects they name, stored from each page before its
    rows."""

    COLUMNS: ClassVar[dict[str, str]]
    KEY: ClassVar[Sequence[str]]
    INDEXES: ClassVar[Sequence[Sequence[str]]] = ()

    def tables(self, table: str) -> list[str]:
        return [table, table_of(table)]

    def create(self, conn: Conn, table: str) -> None:
        keyed.create_table(conn, table, self.COLUMNS, self.KEY, self.INDEXES)
        create(conn, table)

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        store(conn, table, events)
        self.apply_rows(conn, table, events)

    @abstractmethod
    def apply_rows(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        """Fold a page of events into the read model's own rows (the page's declarations are stored already)."""


def project_rows(
    conn: Conn,
    model: type[ProjectRows],
    *,
    organisation: str | None,
    fiscal_year: int | None,
    where: LiteralString,
    order_by: LiteralString,
    params: dict[str, Any],
) -> list[Row]:
    """The rows of ``model`` (alias ``s``) with the fields shown of the project each names (alias ``p``): of
    ``organisation``'s projects (a department's include its units'), of ``fiscal_year``, meeting ``where`` (on
    ``params``), ordered by ``order_by``."""
    return select_rows(
        conn,
        sql.SQL(
            "SELECT s.project_id, {shown}, {columns} FROM {table} s JOIN {projects} p USING (project_id) "
            "WHERE {scope} AND (%(year)s::integer IS NULL OR p.fiscal_year = %(year)s) "
            "AND {where} ORDER BY {order_by}"
        ).format(
            shown=sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(c)) for c in SHOWN),
            columns=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in list(model.COLUMNS)[1:]),
            table=sql.Identifier(model.name),
            projects=sql.Identifier(table_of(model.name)),
            scope=sql.SQL(SCOPE),
            where=sql.SQL(where),
            order_by=sql.SQL(order_by),
        ),
        {"org": None if organisation is None else key(organisation), "year": fiscal_year, **params},
    )
