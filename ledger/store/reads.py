"""The application's reads of the log: its tail (for the aggregate cache), an object's history, the head; and the
deep verification's reads of every aggregate's events and snapshots in id order (:mod:`ledger.application.replay`).

Every statement is built once, here, from :mod:`ledger.store.tables` with ``psycopg.sql`` and composed to bytes
when the reader is made (as the recorder composes its append): the application runs no SQL of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from ledger.log.rotation import RecordedRotation
from ledger.store.key_rotations import recorded_rotations, rotation_rows
from ledger.store.tables import EVENTS, SNAPSHOTS


@dataclass(frozen=True)
class LoggedEvent:
    """One event as the log holds it: the stored event, its position, hashes and recording time."""

    leaf_index: int
    stored: StoredEvent
    leaf_hash: bytes
    chain_hash: bytes
    recorded_at: datetime


def _composed(statement: Composable) -> bytes:
    return statement.as_bytes()  # identifiers quoted once, not on every execution


class LogTail:
    """The log's tail as one autocommit connection sees it: one statement, one round trip, per call."""

    def __init__(self, reads: LogReads, curs: Cursor[tuple[Any, ...]]) -> None:
        self._reads = reads
        self._curs = curs

    def page(self, start: int, stop: int) -> list[tuple[int, UUID, int]]:
        """``(leaf_index, originator_id, originator_version)`` of the events at positions ``start`` to ``stop``.

        A bounded range: a prepared statement soon runs on a generic plan, and for "leaf_index >= $1" alone
        PostgreSQL expects a third of the table and scans and sorts it all."""
        rows = self._curs.execute(self._reads.tail_page, (start, stop), prepare=True, binary=True).fetchall()
        return [(int(row[0]), row[1], int(row[2])) for row in rows]

    def head(self) -> int:
        """The next leaf index (the number of events in the log)."""
        row = self._curs.execute(self._reads.size).fetchone()
        return int(row[0]) if row else 0

    def latest_versions(self, aggregate_ids: Sequence[UUID]) -> list[tuple[UUID, int]]:
        """The latest recorded version of each of ``aggregate_ids`` that is recorded at all."""
        if not aggregate_ids:
            return []
        rows = self._curs.execute(self._reads.latest_versions, (list(aggregate_ids),)).fetchall()
        return [(row[0], int(row[1])) for row in rows]


class LogReads:
    """The reads of the events table ``events`` the application needs; the recorder writes it."""

    def __init__(self, datastore: PostgresDatastore, events: str = EVENTS) -> None:
        self.datastore = datastore
        table = Identifier(events)

        def statement(text: LiteralString) -> bytes:
            """``text`` with ``{events}`` naming the table, quoted once here rather than on every execution."""
            return SQL(text).format(events=table).as_bytes()

        self.tail_page = statement(
            "SELECT leaf_index, originator_id, originator_version FROM {events} "
            "WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index"
        )
        self.latest_versions = statement(
            "SELECT originator_id, max(originator_version) FROM {events} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        )
        self.at_positions = statement(
            "SELECT leaf_index, originator_id, originator_version, topic, state FROM {events} "
            "WHERE leaf_index = ANY(%s) ORDER BY leaf_index"
        )
        self.of_object = statement(
            "SELECT leaf_index, originator_version, topic, state, leaf_hash, chain_hash, recorded_at "
            "FROM {events} WHERE originator_id = %s ORDER BY originator_version"
        )
        self.version_at = statement(
            "SELECT coalesce(max(originator_version), 0) AS version FROM {events} "
            "WHERE originator_id = %s AND recorded_at <= %s"
        )
        self.of_objects = rotation_rows(events).as_bytes()
        self.with_topic = statement("SELECT originator_id FROM {events} WHERE topic = %s ORDER BY leaf_index")
        self.size = statement("SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM {events}")
        # The objects with an event of one of the topics whose stored state names a credit code.
        self.with_credit_code = statement(
            "SELECT originator_id FROM {events} WHERE topic = ANY(%s) "
            "AND convert_from(state, 'UTF8')::jsonb ->> 'credit_code' = %s ORDER BY leaf_index"
        )
        # The objects with an event of one topic whose first event (of another topic) names a fiscal year.
        self.of_year_with_topic = statement(
            "SELECT DISTINCT e.originator_id FROM {events} e JOIN {events} d "
            "ON d.originator_id = e.originator_id AND d.topic = %s AND d.originator_version = 1 "
            "WHERE e.topic = %s AND convert_from(d.state, 'UTF8')::jsonb ->> 'fiscal_year' = %s"
        )

    @contextmanager
    def tail(self) -> Iterator[LogTail]:
        """The log's tail, read on one autocommit connection: a statement is a round trip, where a transaction
        took three."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            yield LogTail(self, curs)

    def events_at(self, positions: Sequence[int]) -> list[tuple[int, StoredEvent]]:
        """The events at ``positions``, in log order."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.at_positions, (list(positions),))
            rows = curs.fetchall()
        return [
            (
                row["leaf_index"],
                StoredEvent(row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])),
            )
            for row in rows
        ]

    def history(self, aggregate_id: UUID) -> list[LoggedEvent]:
        """Every event of one object, in version order, with its position, hashes and recording time."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.of_object, (aggregate_id,))
            rows = curs.fetchall()
        return [
            LoggedEvent(
                row["leaf_index"],
                StoredEvent(aggregate_id, row["originator_version"], row["topic"], bytes(row["state"])),
                bytes(row["leaf_hash"]),
                bytes(row["chain_hash"]),
                row["recorded_at"],
            )
            for row in rows
        ]

    def key_rotations(self) -> list[RecordedRotation]:
        """The log's key rotations, in log order (:mod:`ledger.store.key_rotations`)."""

        def fetch(ids: list[UUID]) -> list[tuple[Any, ...]]:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(self.of_objects, (ids,))
                return [
                    (row["leaf_index"], row["originator_id"], row["originator_version"], row["topic"], row["state"])
                    for row in curs.fetchall()
                ]

        return recorded_rotations(fetch)

    def version_as_of(self, aggregate_id: UUID, instant: datetime) -> int:
        """The object's version as recorded at ``instant``; 0 if it did not exist yet."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.version_at, (aggregate_id, instant))
            row = curs.fetchone()
        return int(row["version"]) if row else 0

    def originators_of(self, topic: str) -> list[UUID]:
        """The objects with an event of ``topic``, in log order."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.with_topic, (topic,))
            return [row["originator_id"] for row in curs.fetchall()]

    def originators_with_credit_code(self, topics: Sequence[str], code: str) -> list[UUID]:
        """The objects with an event of one of ``topics`` whose state records the credit code ``code`` (as stored:
        canonical), in log order."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.with_credit_code, (list(topics), code))
            return list(dict.fromkeys(row["originator_id"] for row in curs.fetchall()))

    def originators_of_year(self, topic: str, created: str, fiscal_year: int) -> list[UUID]:
        """The objects created by an event of topic ``created`` naming ``fiscal_year`` that have an event of
        ``topic``, read from the log's own columns."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.of_year_with_topic, (created, topic, str(fiscal_year)))
            return [row["originator_id"] for row in curs.fetchall()]

    def head(self) -> int:
        """The number of events in the log (the next leaf index)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.size)
            row = curs.fetchone()
            assert row is not None
            return int(row["size"])


@functools.cache
def _in_id_order(table: str, bounded: bool) -> bytes:
    if bounded:
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id >= %s AND originator_id < %s ORDER BY originator_id, originator_version"
        )
    else:
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id >= %s ORDER BY originator_id, originator_version"
        )
    return _composed(statement.format(table=Identifier(table)))


def in_id_order(
    conn: Connection[tuple[Any, ...]], table: str, lo: int, hi: int, cursor: str, fetch: int
) -> Iterator[tuple[UUID, int, str, bytes]]:
    """The rows of ``table`` (the events, or the snapshots) of the aggregates whose ids fall in [lo, hi), in (id,
    version) order, through the server-side cursor named ``cursor``, ``fetch`` rows at a time; within a transaction
    of ``conn``."""
    bounded = hi < 1 << 128
    bounds = [UUID(int=lo), UUID(int=hi)] if bounded else [UUID(int=lo)]
    with conn.cursor(cursor, binary=True) as cur:
        cur.itersize = fetch
        cur.execute(_in_id_order(table, bounded), bounds)
        for originator_id, version, topic, state in cur:
            yield originator_id, int(version), topic, bytes(state)


def snapshots_exist(conn: Connection[tuple[Any, ...]]) -> bool:
    """Whether the snapshots' table exists (a log copied without it has none to check)."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SNAPSHOTS,)).fetchone()
    return bool(row and row[0])


@functools.cache
def _of_objects(table: str) -> bytes:
    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {table} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
    )
    return _composed(statement.format(table=Identifier(table)))


def events_of(conn: Connection[tuple[Any, ...]], table: str, ids: list[UUID]) -> Iterator[tuple[UUID, int, str, bytes]]:
    """The events of the aggregates ``ids`` (a few, found by the primary key), in (id, version) order."""
    for originator_id, version, topic, state in conn.execute(_of_objects(table), [ids], binary=True):
        yield originator_id, int(version), topic, bytes(state)
