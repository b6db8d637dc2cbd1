"""The write side's tables, named once.

Every SQL statement that names one of these builds it from here with ``psycopg.sql`` (``sql.Identifier(EVENTS)``),
so a table is renamed in one place and no statement is assembled from untrusted text. ``CHANNEL`` is the
``NOTIFY`` channel ``ledger_events_append`` signals on every append.
"""

from __future__ import annotations

from typing import Final

from psycopg.sql import SQL, Composable, Composed, Identifier

EVENTS: Final = "ledger_events"
"""The log: one row per event, dense ``leaf_index``, the hash chain (see :mod:`ledger.store.recorder`)."""
SNAPSHOTS: Final = "ledger_snapshots"
CHECKPOINTS: Final = "ledger_checkpoints"
COSIGNATURES: Final = "ledger_cosignatures"
TREE_NODES: Final = "ledger_tree_nodes"
COMMANDS: Final = "ledger_commands"
"""Idempotency records: one per ``Idempotency-Key`` a command was recorded under."""
SWEEP_WATCH: Final = "ledger_sweep_watch"
SWEEP_POSITIONS: Final = "ledger_sweep_positions"

CHANNEL: Final = EVENTS
"""``LISTEN`` on this to be woken by every append."""


def append_only(schema: Composable, table: str, refuse: Composable) -> list[Composed]:
    """The two triggers that make ``schema.table`` append-only: ``refuse`` (a trigger function raising
    ``insufficient_privilege``) answers every UPDATE, DELETE (row by row) and TRUNCATE."""
    name = Identifier(table)
    return [
        SQL(
            "CREATE OR REPLACE TRIGGER {trigger} BEFORE {operations} ON {schema}.{table} "
            "FOR EACH {level} EXECUTE FUNCTION {schema}.{function}()"
        ).format(
            trigger=Identifier(f"{table}_{suffix}"),
            operations=SQL(operations),
            schema=schema,
            table=name,
            level=SQL(level),
            function=refuse,
        )
        for suffix, operations, level in (
            ("no_change", "UPDATE OR DELETE", "ROW"),
            ("no_truncate", "TRUNCATE", "STATEMENT"),
        )
    ]
