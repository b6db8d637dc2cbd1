"""The PostgreSQL recorder: eventsourcing's, extended with the integrity log.

Every row of ``ledger_events`` carries, written in the same transaction as the
event and under the library's EXCLUSIVE table lock:

- ``leaf_index``: dense, 0-based, in commit order. It is computed from the
  head read *after* the lock is taken (inside the INSERT itself), never from a
  sequence, so a rolled-back transaction leaves no gap (unlike
  ``notification_id``, which stays internal).
- ``leaf_hash`` and ``chain_hash`` (see :mod:`ledger.integrity`).
- ``recorded_at``: the database clock when the row was inserted.
- ``effective_on`` and the principal columns, copied from the event's stored
  JSON so the log can be read (and indexed) without decoding every payload.

Triggers refuse UPDATE, DELETE and TRUNCATE on the table: the log only grows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg.errors
from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.integrity import GENESIS_CHAIN_HASH, leaf_hash

PIPELINE_BYTES = 256 * 1024  # above this, insert without psycopg's pipeline mode (see insert_events)
COMMANDS = "ledger_commands"


@dataclass(frozen=True)
class CommandRecord:
    """An idempotency key's record, written in the same transaction as the command's events."""

    principal_id: str
    key: str
    fingerprint: bytes
    aggregate_id: UUID
    version: int


class CommandAlreadyRecorded(Exception):
    """Another command under the same principal and idempotency key was recorded first; nothing was written."""

    def __init__(self, principal_id: str, key: str) -> None:
        super().__init__(f"command {key!r} of {principal_id} is already recorded")
        self.principal_id = principal_id
        self.key = key


def is_command_conflict(error: BaseException) -> bool:
    """Whether a failed insert lost the race for an idempotency key (rather than for an aggregate version)."""
    cause = error.__cause__
    return isinstance(cause, psycopg.errors.UniqueViolation) and cause.diag.constraint_name == f"{COMMANDS}_pkey"


class LedgerRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "ledger_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text NOT NULL, "
            "state bytea NOT NULL, "
            "notification_id bigserial, "
            "leaf_index bigint NOT NULL, "
            "leaf_hash bytea NOT NULL, "
            "chain_hash bytea NOT NULL, "
            "recorded_at timestamptz NOT NULL, "
            "effective_on date, "
            "principal_id text, "
            "principal_role text, "
            "principal_org text, "
            "PRIMARY KEY (originator_id, originator_version), "
            "CONSTRAINT {leaf_index_unique} UNIQUE (leaf_index), "
            "CONSTRAINT {hash_lengths} CHECK (length(leaf_hash) = 32 AND length(chain_hash) = 32))"
        ).format(
            schema=schema,
            table=table,
            leaf_index_unique=Identifier(f"{self.events_table_name}_leaf_index_key"),
            hash_lengths=Identifier(f"{self.events_table_name}_hash_lengths"),
        )
        self.sql_create_statements.extend(self._immutability_statements())
        self.sql_create_statements.extend(self._command_statements())
        # The library's EXCLUSIVE table lock (insert order = commit order, so tailing readers never skip a row)
        # needs UPDATE/DELETE/TRUNCATE privilege. A service role that may only INSERT and SELECT takes it through
        # this function, which runs as the table's owner and does nothing else.
        lock_function = Identifier(f"{self.events_table_name}_lock")
        self.sql_create_statements.extend([
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
                "SET search_path = pg_catalog, pg_temp AS $$ BEGIN "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; END $$"
            ).format(schema=schema, function=lock_function, table=table),
            SQL("REVOKE ALL ON FUNCTION {schema}.{function}() FROM PUBLIC").format(schema=schema,
                                                                                  function=lock_function),
        ])
        self._lock_through_function: list[Any] = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("SELECT {schema}.{function}()").format(schema=schema, function=lock_function),
        ]
        self._lock_checked = False
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (recorded_at)"
            ).format(index=Identifier(f"{self.events_table_name}_recorded_at_idx"), schema=schema, table=table)
        )
        # One statement, so a command costs the library's single round trip: the head is read and the
        # chain extended inside the INSERT, after the table lock taken earlier in the same transaction.
        # Python computes the leaf hashes and reads effective_on and the principal from the JSON it is storing
        # (they depend on nothing else); SQL folds the leaf hashes into the chain. The arrays go in binary (%b):
        # as text, psycopg escapes every element with a regex and a bytea travels as hex, twice its size.
        self.insert_log_statement = SQL(
            "WITH RECURSIVE head AS ("
            "  SELECT leaf_index, chain_hash FROM {schema}.{table} ORDER BY leaf_index DESC LIMIT 1"
            "), chain(position, chain_hash) AS ("
            "  SELECT 0::bigint, coalesce((SELECT chain_hash FROM head), %(genesis)b::bytea)"
            "  UNION ALL"
            "  SELECT c.position + 1, sha256(c.chain_hash || (%(leaf_hashes)b::bytea[])[c.position + 1])"
            "  FROM chain c WHERE c.position < cardinality(%(leaf_hashes)b::bytea[])"
            ") "
            "INSERT INTO {schema}.{table} ("
            "originator_id, originator_version, topic, state, leaf_index, leaf_hash, chain_hash, "
            "effective_on, principal_id, principal_role, principal_org, recorded_at) "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state, "
            "coalesce((SELECT leaf_index FROM head), -1) + e.position, e.leaf_hash, c.chain_hash, "
            "e.effective_on, e.principal_id, e.principal_role, e.principal_org, clock_timestamp() "
            "FROM unnest(%(ids)b::uuid[], %(versions)b::bigint[], %(topics)b::text[], %(states)b::bytea[], "
            "%(leaf_hashes)b::bytea[], %(effective_on)b::date[], %(principal_ids)b::text[], "
            "%(principal_roles)b::text[], %(principal_orgs)b::text[]) WITH ORDINALITY AS e("
            "originator_id, originator_version, topic, state, leaf_hash, effective_on, principal_id, "
            "principal_role, principal_org, position) "
            "JOIN chain c ON c.position = e.position "
            "ORDER BY e.position "
            "RETURNING notification_id, leaf_index"
        ).format(schema=schema, table=table)
        # Most commands append one event: then the chain is one hash, with no recursion, join or arrays (in the
        # bench's measurements this halves the statement's extra server time over the bare library's INSERT).
        self.insert_one_statement = SQL(
            "WITH head AS ("
            "  SELECT leaf_index, chain_hash FROM {schema}.{table} ORDER BY leaf_index DESC LIMIT 1"
            ") "
            "INSERT INTO {schema}.{table} ("
            "originator_id, originator_version, topic, state, leaf_index, leaf_hash, chain_hash, "
            "effective_on, principal_id, principal_role, principal_org, recorded_at) "
            "SELECT %(id)b::uuid, %(version)b::bigint, %(topic)b::text, %(state)b::bytea, "
            "coalesce((SELECT leaf_index FROM head), -1) + 1, %(leaf_hash)b::bytea, "
            "sha256(coalesce((SELECT chain_hash FROM head), %(genesis)b::bytea) || %(leaf_hash)b::bytea), "
            "%(effective_on)b::date, %(principal_id)b::text, %(principal_role)b::text, %(principal_org)b::text, "
            "clock_timestamp() "
            "RETURNING notification_id, leaf_index"
        ).format(schema=schema, table=table)
        self._written = threading.local()

    def _immutability_statements(self) -> list[Any]:
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(f"{self.events_table_name}_refuse_change")
        return [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
                "USING ERRCODE = 'insufficient_privilege'; END $$"
            ).format(schema=schema, function=function),
            SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {schema}.{table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.{function}()"
            ).format(
                trigger=Identifier(f"{self.events_table_name}_no_change"),
                schema=schema,
                table=table,
                function=function,
            ),
            SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE TRUNCATE ON {schema}.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
            ).format(
                trigger=Identifier(f"{self.events_table_name}_no_truncate"),
                schema=schema,
                table=table,
                function=function,
            ),
        ]

    def _command_statements(self) -> list[Any]:
        """``ledger_commands``: which idempotency key recorded which events. Append-only like the log: a key
        once used stays bound to its request and its events, so a retry can never record a second time."""
        schema = Identifier(self.datastore.schema)
        table = Identifier(COMMANDS)
        refuse = Identifier(f"{self.events_table_name}_refuse_change")
        return [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "principal_id text NOT NULL, "
                "idempotency_key text NOT NULL, "
                "fingerprint bytea NOT NULL CHECK (length(fingerprint) = 32), "
                "aggregate_id uuid NOT NULL, "
                "version bigint NOT NULL, "
                "positions bigint[] NOT NULL, "
                "recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
                "CONSTRAINT {pkey} PRIMARY KEY (principal_id, idempotency_key))"
            ).format(schema=schema, table=table, pkey=Identifier(f"{COMMANDS}_pkey")),
            SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {schema}.{table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.{function}()"
            ).format(trigger=Identifier(f"{COMMANDS}_no_change"), schema=schema, table=table, function=refuse),
            SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE TRUNCATE ON {schema}.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
            ).format(trigger=Identifier(f"{COMMANDS}_no_truncate"), schema=schema, table=table, function=refuse),
        ]

    def select_command(self, principal_id: str, key: str) -> tuple[bytes, UUID, int, list[int]] | None:
        """The fingerprint, aggregate, version and positions an idempotency key recorded, if any."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT fingerprint, aggregate_id, version, positions FROM {}.{} "
                             "WHERE principal_id = %s AND idempotency_key = %s").format(
                Identifier(self.datastore.schema), Identifier(COMMANDS)), (principal_id, key))
            row = curs.fetchone()
        if row is None:
            return None
        return bytes(row["fingerprint"]), row["aggregate_id"], int(row["version"]), list(row["positions"])

    def _choose_lock(self) -> None:
        """The library's own LOCK TABLE when this role may take it (it saves a function call per append);
        the SECURITY DEFINER function when the role may only INSERT and SELECT."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT has_table_privilege(%s, 'UPDATE') AS may", (f"{self.datastore.schema}."
                                                                              f"{self.events_table_name}",))
            row = curs.fetchone()
        if not (row and row["may"]):
            self.lock_table_statements = self._lock_through_function
        self._lock_checked = True

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's pipelined insert for ordinary commands; a plain transaction for large batches.

        psycopg's pipeline mode stalls for ever once one statement carries about 1 MB of parameters (client and
        server each wait for the other to read), so a bulk save of several hundred events would hang. Large
        batches pay two more round trips instead.
        """
        if not self._lock_checked:
            self._choose_lock()
        if sum(len(stored.state) for stored in stored_events) <= PIPELINE_BYTES:
            notification_ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return notification_ids
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        if len(stored_events) == 1:
            (stored,) = stored_events
            assert not isinstance(stored.originator_id, str)
            effective_on, principal_id, role, organisation = readable_columns(stored.state)
            curs.execute(self.insert_one_statement, {
                "id": stored.originator_id, "version": stored.originator_version, "topic": stored.topic,
                "state": stored.state, "genesis": GENESIS_CHAIN_HASH,
                "leaf_hash": leaf_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state),
                "effective_on": effective_on, "principal_id": principal_id, "principal_role": role,
                "principal_org": organisation}, prepare=True)
            return
        columns: dict[str, list[Any]] = {name: [] for name in (
            "ids", "versions", "topics", "states", "leaf_hashes", "effective_on", "principal_ids", "principal_roles",
            "principal_orgs")}
        for stored in stored_events:
            assert not isinstance(stored.originator_id, str)
            columns["ids"].append(stored.originator_id)
            columns["versions"].append(stored.originator_version)
            columns["topics"].append(stored.topic)
            columns["states"].append(stored.state)
            columns["leaf_hashes"].append(
                leaf_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state))
            effective_on, principal_id, role, organisation = readable_columns(stored.state)
            columns["effective_on"].append(effective_on)
            columns["principal_ids"].append(principal_id)
            columns["principal_roles"].append(role)
            columns["principal_orgs"].append(organisation)
        curs.execute(self.insert_log_statement, {"genesis": GENESIS_CHAIN_HASH, **columns}, prepare=True)

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        rows = curs.fetchall()
        if len(rows) != len(stored_events):
            raise ProgrammingError(f"inserted {len(rows)} of {len(stored_events)} events")
        self._written.positions = [row["leaf_index"] for row in rows]
        command: CommandRecord | None = kwargs.get("command")
        if command is not None:
            # In the same transaction: a second command under this key fails on the primary key and rolls back
            # with all its events (see Ledger._save).
            curs.execute(SQL("INSERT INTO {}.{} (principal_id, idempotency_key, fingerprint, aggregate_id, version, "
                             "positions) VALUES (%s, %s, %s, %s, %s, %s)").format(
                Identifier(self.datastore.schema), Identifier(COMMANDS)),
                (command.principal_id, command.key, command.fingerprint, command.aggregate_id, command.version,
                 self._written.positions))
        return [row["notification_id"] for row in rows]

    def take_written_positions(self) -> list[int]:
        """Leaf indexes written by this thread's last insert (and forget them)."""
        positions: list[int] = getattr(self._written, "positions", [])
        self._written.positions = []
        return positions



def readable_columns(state: bytes) -> tuple[date | None, str | None, str | None, str | None]:
    """``effective_on`` and the principal's id, role and organisation, as the stored JSON of an event has them
    (``{"effective_on": {"_type_": "date_iso", "_data_": …}, "principal": {"_type_": "principal", "_data_": {…}}}``);
    None where an event has no such field.

    Read in Python with the C-accelerated json module, before the table lock: PostgreSQL's jsonb parse of the
    same bytes inside the INSERT cost more than the rest of the statement (bench_integrity, append cost).
    """
    data = json.loads(state)
    effective_on = _field(data, "effective_on", "_data_")
    principal = _field(data, "principal", "_data_")
    return (date.fromisoformat(effective_on) if isinstance(effective_on, str) else None,
            _text(_field(principal, "id")), _text(_field(principal, "role")), _text(_field(principal, "organisation")))


def _field(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
