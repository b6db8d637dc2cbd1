"""eventsourcing's recorder of snapshots, each authenticated (:class:`SnapshotRecorder`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from ledger.store.recorder import lock_schema
from ledger.store.snapshots import SnapshotAuthenticator
from ledger.store.tables import EVENTS, append_only

logger = logging.getLogger(__name__)


class SnapshotRecorder(PostgresAggregateRecorder):
    """eventsourcing's recorder of snapshots, each authenticated, and inserted as binary arrays.

    A snapshot decides what a command sees of its aggregate without replaying its events, so whoever can write this
    table could otherwise change a decision (a blacklisting emptied, an approval added) while the log stays intact.
    Each row therefore carries an authenticator (:class:`ledger.snapshots.SnapshotAuthenticator`): the log key's
    Ed25519 signature over the snapshot, its aggregate, version and the chain hash of the leaf that version was
    recorded at. A load takes the newest snapshot whose authenticator verifies, and ignores (logs and counts) any
    other: the aggregate is then replayed from an older snapshot or from its first event. With no authenticator
    configured, snapshots are neither taken nor trusted.

    The library sends an array of a composite type in text, which psycopg escapes in Python character by
    character: a snapshot holds a whole aggregate (a project with hundreds of supervision notes is tens of KB),
    and escaping it cost the command that happened to take it more than the rest of its work (bench_http).
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str,
        log_table_name: str = EVENTS,
        authenticator: SnapshotAuthenticator | None = None,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.authenticator = authenticator
        schema, table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        refuse = Identifier(f"{log_table_name}_refuse_change")
        self.sql_create_statements.extend(
            [
                SQL("ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS authenticator bytea").format(
                    schema=schema, table=table
                ),
                # Append-only, like the log (the function is the log's, created with it).
                *append_only(schema, self.events_table_name, refuse),
            ]
        )
        self.insert_snapshots_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state, authenticator) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[])"
        ).format(schema=schema, table=table)
        log = Identifier(log_table_name)
        self.chain_hashes_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.chain_hash FROM {schema}.{log} e "
            "JOIN unnest(%b::uuid[], %b::bigint[]) AS w(id, version) "
            "ON e.originator_id = w.id AND e.originator_version = w.version"
        ).format(schema=schema, log=log)
        # The newest snapshot at or below a version, with the chain hash of the leaf its version was recorded at.
        self.select_snapshot_statement = SQL(
            "SELECT s.originator_version, s.topic, s.state, s.authenticator, e.chain_hash "
            "FROM {schema}.{table} s LEFT JOIN {schema}.{log} e "
            "ON e.originator_id = s.originator_id AND e.originator_version = s.originator_version "
            "WHERE s.originator_id = %s AND s.originator_version <= %s AND s.originator_version > %s "
            "ORDER BY s.originator_version DESC LIMIT 1"
        ).format(schema=schema, table=table, log=log)

    def _create_table(self, curs: Any) -> None:
        lock_schema(curs)
        super()._create_table(curs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any) -> None:
        if self.authenticator is None or self.authenticator.key is None:
            return  # nothing could tell this row from a forged one: it would never be loaded
        ids = [stored.originator_id for stored in stored_events]
        versions = [stored.originator_version for stored in stored_events]
        curs.execute(self.chain_hashes_statement, (ids, versions))
        chains = {
            (row["originator_id"], int(row["originator_version"])): bytes(row["chain_hash"]) for row in curs.fetchall()
        }
        kept = [stored for stored in stored_events if (stored.originator_id, stored.originator_version) in chains]
        if len(kept) < len(stored_events):
            logger.warning(
                "%d snapshot(s) name a version the log does not hold; not stored", len(stored_events) - len(kept)
            )
        if not kept:
            return
        authenticators = [
            self.authenticator.sign(stored, chains[stored.originator_id, stored.originator_version]) for stored in kept
        ]
        curs.execute(
            self.insert_snapshots_statement,
            (
                [stored.originator_id for stored in kept],
                [stored.originator_version for stored in kept],
                [stored.topic for stored in kept],
                [stored.state for stored in kept],
                authenticators,
            ),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The newest authenticated snapshot at or below ``lte`` (the repository asks for exactly that: descending,
        one). A snapshot that fails its check is skipped for the next older one."""
        if self.authenticator is None:
            return []
        if not desc or limit != 1:
            raise ProgrammingError("snapshots are read newest first, one at a time")
        assert not isinstance(originator_id, str)
        below = lte if lte is not None else 2**62
        above = gt if gt is not None else 0
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            while below > above:
                curs.execute(self.select_snapshot_statement, (originator_id, below, above), prepare=True)
                row = curs.fetchone()
                if row is None:
                    return []
                stored = StoredEvent(originator_id, int(row["originator_version"]), row["topic"], bytes(row["state"]))
                chain = None if row["chain_hash"] is None else bytes(row["chain_hash"])
                auth = None if row["authenticator"] is None else bytes(row["authenticator"])
                failure = self.authenticator.check(stored, chain, auth)
                if failure is None:
                    return [stored]
                self.authenticator.reject(stored, failure)
                below = stored.originator_version - 1
        return []
