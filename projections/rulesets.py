"""The ruleset in force (规则集), as a read model that needs its parameters keeps it.

A read model whose rows depend on a rule parameter (a deadline's day, a coverage target) keeps the parameters of
the ruleset in force in a one-row side table of its own, written from ``Ruleset.Established`` and
``Ruleset.Adopted`` in the same transaction as its rows and position. So a rebuild from the log finds, at every
point of it, the parameters the incrementally maintained table had there.
"""

from __future__ import annotations

from psycopg import sql

from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters
from projections import keyed
from projections.base import Conn, LogEvent, composed

KINDS = frozenset({"Ruleset.Established", "Ruleset.Adopted"})
COLUMNS: dict[str, str] = {
    "id": "integer NOT NULL",  # 1: the one row
    "ruleset_version": "integer NOT NULL",
    "parameters": "jsonb NOT NULL",  # as the event recorded them
}


def create(conn: Conn, table: str) -> None:
    keyed.create_table(conn, table, COLUMNS, ["id"])


def load(conn: Conn, table: str) -> RuleParameters:
    """The parameters in force at the read model's position (version 1's defaults before any is recorded)."""
    query = composed(
        conn,
        ("rulesets.load", table),
        lambda: sql.SQL("SELECT parameters FROM {} WHERE id = 1").format(sql.Identifier(table)),
    )
    row = conn.execute(query, prepare=True).fetchone()
    return DEFAULT_PARAMETERS if row is None else RuleParameters.from_stored(row[0])


def store(conn: Conn, table: str, item: LogEvent) -> RuleParameters:
    """Record the ruleset ``item`` (an event of :data:`KINDS`) established or adopted; return its parameters."""
    event = item.event
    version = 1 if item.kind == "Ruleset.Established" else event.ruleset_version
    keyed.store(
        conn, table, list(COLUMNS), ["id"], [{"id": 1, "ruleset_version": version, "parameters": event.parameters}]
    )
    return RuleParameters.from_stored(event.parameters)
