"""The projects a read model names beside its own rows: each project's code, name, department, unit and year, kept
from its declaration (``Project.Declared``) in a table the read model owns (``{table}_projects``), so its queries
filter and show its rows by project without reading another read model's tables (each rebuilds on its own)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.values import key
from projections import keyed
from projections.base import Conn, LogEvent, Row

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
