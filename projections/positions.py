"""Where the read models stand in the log, and where the log's head is.

Each read model's position is a row of ``projection_positions``: the next leaf index it will apply (so the leaves
it has applied number exactly that many). The :class:`~projections.runner.Runner` creates the table and moves the
positions with the rows they describe; the API reads them here to answer with a page's position, to let a client
read its own writes, and to say how far behind the read models are.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from psycopg import sql

from ledger.store.tables import EVENTS
from projections.base import Conn, composed

POSITIONS: Final = "projection_positions"


def log_size(conn: Conn) -> int:
    """Events in the log (the next leaf index)."""
    query = composed(
        conn,
        ("positions.log_size",),
        lambda: sql.SQL("SELECT coalesce(max(leaf_index) + 1, 0) FROM {}").format(sql.Identifier(EVENTS)),
    )
    row = conn.execute(query).fetchone()
    return int(row[0]) if row is not None else 0


def positions(conn: Conn, names: Sequence[str]) -> int:
    """The log position every one of ``names`` has reached (leaves applied)."""
    query = composed(
        conn,
        ("positions.min",),
        lambda: sql.SQL("SELECT min(position) FROM {} WHERE name = ANY(%s)").format(sql.Identifier(POSITIONS)),
    )
    row = conn.execute(query, (list(names),)).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


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


def lag_seconds(conn: Conn, names: Sequence[str]) -> float:
    """How long ago the oldest event that one of the read models ``names`` has not applied yet was recorded: 0 when
    every one of them has applied the whole log. One lookup by leaf index."""
    query = composed(
        conn,
        ("positions.lag",),
        lambda: sql.SQL(
            "SELECT extract(epoch FROM clock_timestamp() - e.recorded_at) FROM {} e "
            "WHERE e.leaf_index = (SELECT min(position) FROM {} WHERE name = ANY(%s))"
        ).format(sql.Identifier(EVENTS), sql.Identifier(POSITIONS)),
    )
    row = conn.execute(query, (list(names),)).fetchone()
    return max(0.0, float(row[0])) if row is not None and row[0] is not None else 0.0


def leaf_age(conn: Conn, leaf_index: int) -> float:
    """How long ago leaf ``leaf_index`` was recorded, by this server's clock (0 when the log has no such leaf): with
    the first leaf a replica lacks, asked of the primary, how far behind the replica is."""
    query = composed(
        conn,
        ("positions.leaf_age",),
        lambda: sql.SQL(
            "SELECT extract(epoch FROM clock_timestamp() - recorded_at) FROM {} WHERE leaf_index = %s"
        ).format(sql.Identifier(EVENTS)),
    )
    row = conn.execute(query, (leaf_index,)).fetchone()
    return max(0.0, float(row[0])) if row is not None and row[0] is not None else 0.0
