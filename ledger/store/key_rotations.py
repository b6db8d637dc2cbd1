"""The log's key rotations, read from the log: the events ``KeyRotation.Recorded`` under the ids of rotation 1, 2, …
(:func:`ledger.domain.log_keys.rotation_id`), found by the events table's primary key, a batch of ids at a time.

What is read is checked elsewhere (:func:`ledger.log.rotation.follow_chain`): an event under another id is not a
rotation, and one missing from the chain leaves every later checkpoint unverifiable — a reader that misses a
rotation fails, it never passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.sql import SQL, Composed, Identifier

from ledger.domain.log_keys import rotation_id
from ledger.log.rotation import RecordedRotation
from ledger.store.tables import EVENTS

BATCH = 16


def rotation_rows(events: str = EVENTS) -> Composed:
    """The events of table ``events`` recorded under the given ids, in log order (the primary key finds them)."""
    return SQL(
        "SELECT leaf_index, originator_id, originator_version, topic, state FROM {} "
        "WHERE originator_id = ANY(%s) ORDER BY leaf_index"
    ).format(Identifier(events))


ROTATION_ROWS = rotation_rows()

Row = Sequence[Any]  # leaf_index, originator_id, originator_version, topic, state


def recorded_rotations(fetch: Callable[[list[UUID]], Sequence[Row]]) -> list[RecordedRotation]:
    """Every recorded rotation, in log order: ``fetch(ids)`` answers :func:`rotation_rows` for a batch of ids."""
    found: list[RecordedRotation] = []
    first = 1
    while True:
        ids = [rotation_id(number) for number in range(first, first + BATCH)]
        rows = fetch(ids)
        found.extend(
            RecordedRotation(int(leaf), UUID(str(oid)), int(version), str(topic), bytes(state))
            for leaf, oid, version, topic, state in rows
        )
        if len({row[1] for row in rows}) < BATCH:  # a batch with an id missing is the last one
            return sorted(found, key=lambda rotation: rotation.leaf_index)
        first += BATCH


def read_rotations(conn: Connection[Any]) -> list[RecordedRotation]:
    """Every recorded rotation, read on ``conn`` (tuple rows)."""
    return recorded_rotations(lambda ids: conn.execute(ROTATION_ROWS, (ids,)).fetchall())
