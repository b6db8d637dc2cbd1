"""The write side's tables, named once.

Every SQL statement that names one of these builds it from here with ``psycopg.sql`` (``sql.Identifier(EVENTS)``),
so a table is renamed in one place and no statement is assembled from untrusted text. ``CHANNEL`` is the
``NOTIFY`` channel ``ledger_events_append`` signals on every append.
"""

from __future__ import annotations

from typing import Final

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
