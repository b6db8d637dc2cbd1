"""Each read model as an eventsourcing ``Projection``: one event at a time, tracked by leaf index.

eventsourcing's way to keep a materialised view is a ``Projection`` whose ``process_event(domain_event, tracking)``
writes the view's rows and records the ``Tracking`` (application name, notification id) in one transaction, with a
``TrackingRecorder`` as its view. Every read model is such a Projection (``ReadModel`` subclasses it): given a
:class:`LeafTracking` as its view, ``process_event`` applies one domain event in one transaction together with the
read model's position in ``projection_positions``. Two differences from the library's own recorders:

- the tracking is by **leaf index**, the log's dense public position, not the library's ``notification_id`` (which
  may have gaps): a Tracking's ``notification_id`` is the event's leaf index (:func:`tracked_events` yields them);
- a position is the next leaf to apply, so ``max_tracking_id`` is the position less one.

Exactly once: an event at a leaf already applied is skipped; one beyond the next leaf is refused (events come in log
order). This is the library's one-event-per-transaction path, kept for whoever drives read models event by event
(and tested to build the same tables); the :class:`~projections.runner.Runner` applies pages of events through
``ReadModel.apply``, many events and one position per transaction, which is how the service keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from psycopg import sql
from psycopg.rows import tuple_row

from ledger.store.tables import EVENTS
from ledger.store.transcodings import ledger_mapper
from projections.base import Conn, LogEvent, ReadModel, ReadModelView
from projections.positions import POSITIONS

APPLICATION = "Ledger"  # the application whose log the read models follow (one log)


class LeafTracking(ReadModelView):
    """eventsourcing's ``TrackingRecorder`` over one read model's row in ``projection_positions``.

    The read model's tables and its position row are created by ``Runner.setup()``. Not shared between threads.
    """

    def __init__(self, database_url: str, name: str) -> None:
        self.database_url = database_url
        self.name = name  # the read model's
        self._conn: Conn | None = None

    def _connection(self) -> Conn:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, row_factory=tuple_row, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def _position(self, conn: Conn, *, lock: bool) -> int:
        query = sql.SQL("SELECT position FROM {} WHERE name = %s {}").format(
            sql.Identifier(POSITIONS), sql.SQL("FOR UPDATE" if lock else "")
        )
        row = conn.execute(query, (self.name,)).fetchone()
        if row is None:
            raise LookupError(f"no position for read model {self.name!r}: run Runner.setup() first")
        return int(row[0])

    def _advance(self, conn: Conn, position: int) -> None:
        conn.execute(
            sql.SQL("UPDATE {} SET position = %s, updated_at = clock_timestamp() WHERE name = %s").format(
                sql.Identifier(POSITIONS)
            ),
            (position, self.name),
        )

    def max_tracking_id(self, application_name: str) -> int | None:
        """The leaf index of the last event applied, or None before the first."""
        position = self._position(self._connection(), lock=False)
        return position - 1 if position else None

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record leaf ``tracking.notification_id`` as applied, alone (``process_event`` records it with its rows)."""
        conn = self._connection()
        with conn.transaction():
            position = self._position(conn, lock=True)
            if tracking.notification_id < position:
                raise IntegrityError(f"{self.name} has already applied leaf {tracking.notification_id}")
            _refuse_gap(self.name, position, tracking.notification_id)
            self._advance(conn, position + 1)

    def process(self, model: ReadModel, domain_event: Any, tracking: Tracking) -> bool:
        """Apply ``domain_event``, the log's leaf ``tracking.notification_id``, to ``model``'s table in one transaction
        with its position. Returns False if that leaf was already applied (nothing is done)."""
        leaf = tracking.notification_id
        conn = self._connection()
        with conn.transaction():
            position = self._position(conn, lock=True)
            if leaf < position:
                return False
            _refuse_gap(self.name, position, leaf)
            row = conn.execute(
                sql.SQL(
                    "SELECT originator_id, originator_version, recorded_at, topic FROM {} WHERE leaf_index = %s"
                ).format(sql.Identifier(EVENTS)),
                (leaf,),
            ).fetchone()
            if row is None or (row[0], row[1]) != (domain_event.originator_id, domain_event.originator_version):
                raise ValueError(
                    f"leaf {leaf} of the log is not {type(domain_event).__qualname__} "
                    f"{domain_event.originator_id} v{domain_event.originator_version}"
                )
            # The log's own recording time and topic: a domain event carries neither as the log has them.
            item = LogEvent(leaf, row[2], row[0], row[1], row[3], domain_event)
            if model.reads_events:
                model.apply(conn, model.name, [item])
            else:
                model.apply_range(conn, model.name, leaf, leaf)
            self._advance(conn, leaf + 1)
        return True


def _refuse_gap(name: str, position: int, leaf: int) -> None:
    if leaf > position:
        raise ValueError(f"{name} stands at leaf {position}: applying leaf {leaf} would skip {leaf - position}")


def tracked_events(database_url: str, start: int = 0, *, page: int = 1_000) -> Iterator[tuple[Any, Tracking]]:
    """The log's events from leaf ``start`` to its head, each as the application decodes it (its Mapper) with its
    Tracking by leaf index: what eventsourcing's ``ApplicationSubscription`` yields, positioned by the dense leaf."""
    mapper = ledger_mapper()
    with psycopg.connect(database_url, row_factory=tuple_row, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                sql.SQL(
                    "SELECT leaf_index, originator_id, originator_version, topic, state FROM {} WHERE leaf_index >= %s "
                    "ORDER BY leaf_index LIMIT %s"
                ).format(sql.Identifier(EVENTS)),
                (start, page),
            ).fetchall()
            for leaf, oid, version, topic, state in rows:
                event = mapper.to_domain_event(StoredEvent(oid, version, topic, bytes(state)))
                yield event, Tracking(APPLICATION, leaf)
            if len(rows) < page:
                return
            start = rows[-1][0] + 1
