"""The sweeps' watch list and tail positions (:mod:`ledger.domain.sweeps` says what they are for and why they cannot
hide anything): ``ledger_sweep_watch`` keeps, per sweep and object, the first day it may need attention;
``ledger_sweep_positions`` how far into the log each sweep has read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.domain.sweeps import RULESET_PREFIX, Sweep
from ledger.store.recorder import lock_schema
from ledger.store.tables import SWEEP_POSITIONS, SWEEP_WATCH


class SweepWatch:
    """The watch list and tail positions of every sweep, next to the log they follow."""

    def __init__(self, datastore: PostgresDatastore, events_table: str) -> None:
        self.datastore = datastore
        self.events_table = events_table
        events, watch, positions = Identifier(events_table), Identifier(SWEEP_WATCH), Identifier(SWEEP_POSITIONS)
        self._schema = SQL("""
CREATE TABLE IF NOT EXISTS {positions} (
    sweep text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {watch} (
    sweep text NOT NULL,
    object_id uuid NOT NULL,
    version bigint NOT NULL,
    marked bigint NOT NULL,
    check_on date,
    PRIMARY KEY (sweep, object_id)
);
CREATE INDEX IF NOT EXISTS {due_index} ON {watch} (sweep, check_on) WHERE check_on IS NOT NULL;
""").format(positions=positions, watch=watch, due_index=Identifier(f"{SWEEP_WATCH}_due_idx"))
        self._start_position = SQL(
            "INSERT INTO {} (sweep, position) VALUES (%s, -1) ON CONFLICT (sweep) DO NOTHING"
        ).format(positions)
        self._lock_position = SQL("SELECT position FROM {} WHERE sweep = %s FOR UPDATE").format(positions)
        self._head = SQL("SELECT coalesce(max(leaf_index), -1) AS head FROM {}").format(events)
        self._changed = SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {} "
            "WHERE leaf_index > %s AND leaf_index <= %s AND starts_with(topic, %s) GROUP BY originator_id"
        ).format(events)
        # Only a newer version re-marks an object: the sweep's own writes are already accounted for.
        self._mark = SQL(
            "INSERT INTO {} AS w (sweep, object_id, version, marked, check_on) "
            "SELECT %s, t.object_id, t.version, %s, %s "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS t(object_id, version) "
            "ON CONFLICT (sweep, object_id) DO UPDATE SET version = excluded.version, "
            "marked = excluded.marked, check_on = LEAST(w.check_on, excluded.check_on) "
            "WHERE w.version < excluded.version"
        ).format(watch)
        self._adopted = SQL(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE leaf_index > %s AND leaf_index <= %s "
            "AND starts_with(topic, %s)) AS adopted"
        ).format(events)
        self._mark_all = SQL("UPDATE {} SET check_on = LEAST(check_on, %s), marked = %s WHERE sweep = %s").format(watch)
        self._move_position = SQL("UPDATE {} SET position = %s WHERE sweep = %s").format(positions)
        self._all_objects = SQL(
            "SELECT originator_id FROM {} WHERE originator_version = 1 "
            "AND starts_with(topic, %s) ORDER BY originator_id"
        ).format(events)
        self._due = SQL(
            "SELECT object_id FROM {} WHERE sweep = %s AND check_on <= %s ORDER BY check_on, object_id"
        ).format(watch)
        self._checked = SQL(
            "UPDATE {} AS w SET check_on = t.check_on, version = GREATEST(w.version, t.version) "
            "FROM unnest(%s::uuid[], %s::bigint[], %s::date[]) AS t(object_id, version, check_on) "
            "WHERE w.sweep = %s AND w.object_id = t.object_id AND w.marked <= %s"
        ).format(watch)
        self._next_check = SQL("SELECT min(check_on) AS day FROM {} WHERE check_on > %s").format(watch)

    @contextmanager
    def _transaction(self) -> Iterator[Cursor[DictRow]]:
        with self.datastore.transaction(commit=True) as curs:
            yield curs

    def create_tables(self) -> None:
        with self._transaction() as curs:
            lock_schema(curs)
            curs.execute(self._schema)

    def refresh(self, sweep: Sweep[Any], today: date) -> int:
        """Mark every object of the sweep's kind recorded since its position as due ``today``; return the log
        position now covered.

        Leaf indexes become visible in order (appends hold the table lock until they commit), so reading up to the
        head seen at the start never skips a row. The position row is locked: two schedulers refresh one at a time.
        """
        with self._transaction() as curs:
            curs.execute(self._start_position, (sweep.name,))
            curs.execute(self._lock_position, (sweep.name,))
            row = curs.fetchone()
            assert row is not None
            position = int(row["position"])
            curs.execute(self._head)
            head_row = curs.fetchone()
            assert head_row is not None
            head = int(head_row["head"])
            if head <= position:
                return position
            curs.execute(self._changed, (position, head, sweep.topic_prefix))
            changed = curs.fetchall()
            if changed:
                curs.execute(
                    self._mark,
                    (sweep.name, head, today, [r["originator_id"] for r in changed], [r["version"] for r in changed]),
                )
            curs.execute(self._adopted, (position, head, RULESET_PREFIX))
            adopted = curs.fetchone()
            if adopted is not None and adopted["adopted"]:
                # New rule parameters (warning days, say) may move any object's next check: look at each once.
                curs.execute(self._mark_all, (today, head, sweep.name))
            curs.execute(self._move_position, (head, sweep.name))
            return head

    def all_objects(self, sweep: Sweep[Any]) -> list[UUID]:
        """Every object of the sweep's kind, from the log itself (each one's first event)."""
        with self._transaction() as curs:
            curs.execute(self._all_objects, (sweep.topic_prefix,))
            return [row["originator_id"] for row in curs.fetchall()]

    def due(self, sweep: Sweep[Any], today: date) -> list[UUID]:
        with self._transaction() as curs:
            curs.execute(self._due, (sweep.name, today))
            return [row["object_id"] for row in curs.fetchall()]

    def checked(self, sweep: Sweep[Any], covered: int, visits: Sequence[tuple[UUID, int, date | None]]) -> None:
        """Record each visit's next check and the object's version after it — unless the row was marked again
        past ``covered`` meanwhile (another scheduler saw a change this visit may not have), so it stays due."""
        if not visits:
            return
        with self._transaction() as curs:
            curs.execute(
                self._checked,
                ([v[0] for v in visits], [v[1] for v in visits], [v[2] for v in visits], sweep.name, covered),
            )

    def next_check(self, after: date) -> date | None:
        """The earliest day after ``after`` on which any sweep has an object due (for simulations)."""
        with self._transaction() as curs:
            curs.execute(self._next_check, (after,))
            row = curs.fetchone()
        return row["day"] if row else None
