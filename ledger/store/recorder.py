"""The PostgreSQL recorder: eventsourcing's, extended with the integrity log.

Every append is one call of the log's append function (``<events table>_append(…)``, the table named in
:mod:`ledger.store.tables`), a function owned by the schema's owner, in a transaction of its own: it takes the
library's EXCLUSIVE table lock (so insert order is commit order, and readers tailing the log never pass a row that
commits later), notifies the log's channel, reads the head, folds the chain and inserts the rows — and the records
of the idempotency keys, if any — then commits. One round trip, and the lock is held only while PostgreSQL works:
never while this process waits for its GIL, which under concurrent commands had made the lock (and so every append)
wait for Python. Every row of the events table carries:

- ``leaf_index``: dense, 0-based, in commit order. It is computed from the
  head read *after* the lock is taken, never from a sequence, so a rolled-back
  transaction leaves no gap (unlike ``notification_id``, which stays internal).
- ``leaf_hash`` and ``chain_hash`` (see :mod:`ledger.log.integrity`).
- ``recorded_at``: the database clock when the row was inserted.
- ``effective_on`` and the principal columns, copied from the event's stored
  JSON so the log can be read (and indexed) without decoding every payload.

Triggers refuse UPDATE, DELETE and TRUNCATE on the table: the log only grows. Snapshots are recorded by
:mod:`ledger.store.snapshot_recorder`.

Over 500 lines: the recorder's statements and the append function's SQL are one protocol with PostgreSQL; split, a
statement and the function body it calls would sit apart.
"""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import psycopg.errors
from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal
from psycopg_pool import ConnectionPool

from ledger.log.integrity import GENESIS_CHAIN_HASH, leaf_hash
from ledger.store.tables import COMMANDS, EVENTS, append_only

# The append function's parameters (for grants), and those of the version before, which a migration drops.
APPEND_SIGNATURE = (
    "uuid[], bigint[], text[], bytea[], bytea[], date[], text[], text[], text[], text[], text[], "
    "bytea[], uuid[], bigint[], integer[], integer[], text"
)
APPEND_SIGNATURE_V1 = (
    "uuid[], bigint[], text[], bytea[], bytea[], date[], text[], text[], text[], text, text, bytea, uuid, bigint, text"
)
# pg advisory lock id held while any of the ledger's tables is created or migrated ("jxlg"): processes starting
# together create them one at a time. Without it, two that replace the same trigger function and triggers at once
# can deadlock (a scheduler and its standby did, in CI), and two CREATE TABLE IF NOT EXISTS can both try to create.
SCHEMA_LOCK = 0x6A78_6C67
_LOCK_SCHEMA = SQL("SELECT pg_advisory_xact_lock(%s)")


APPEND_PATIENCE = 10.0  # seconds an append waits for the database (restarting, say) before it fails
RETRY_WAIT = 0.1  # seconds between two tries


def check_on_checkout(pool: ConnectionPool[Any]) -> None:
    """Have ``pool`` check each connection as it hands it out, at no round trip for a live one.

    After a database restart, or once idle sessions were terminated, the pool holds connections whose server is
    gone: used, each failed its statement (and an append failed with it). A healthy idle connection has nothing to
    read, while a server that ended the session has said so (its last error, or end of file): a poll of the socket
    tells them apart without asking the server anything. Where something is to be read, the connection is asked
    (psycopg_pool's own check); a dead one makes the pool check all its idle connections at once, replacing the
    dead ones, instead of finding them one by one with a back-off of seconds between each.
    """

    def check(conn: psycopg.Connection[Any]) -> None:
        if not _server_spoke(conn):
            return
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            pool.check()
            raise

    pool._check = check  # psycopg_pool's check on checkout; the library builds its pool without one


def _server_spoke(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server sent anything to an idle connection (or closed it): a session that was ended does."""
    if conn.closed:
        return True
    poller = select.poll()
    try:
        poller.register(conn.fileno(), select.POLLIN)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(poller.poll(0))


class _LostAppend(Exception):
    """The connection broke while an append was under way: it may or may not have committed."""

    def __init__(self, backend_pid: int, error: BaseException) -> None:
        super().__init__(f"connection to backend {backend_pid} lost during an append: {error}")
        self.backend_pid = backend_pid
        self.error = error


def lock_schema(conn: Any) -> None:
    """Serialise schema creation across processes until the transaction of ``conn`` (or cursor) ends."""
    conn.execute(_LOCK_SCHEMA, (SCHEMA_LOCK,), prepare=False)


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
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = EVENTS) -> None:
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
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (recorded_at)").format(
                index=Identifier(f"{self.events_table_name}_recorded_at_idx"), schema=schema, table=table
            )
        )
        append = Identifier(f"{self.events_table_name}_append")
        self.sql_create_statements.extend(
            [
                # The function of earlier versions recorded at most one idempotency key per append.
                SQL("DROP FUNCTION IF EXISTS {schema}.{function}({signature})").format(
                    schema=schema, function=append, signature=SQL(APPEND_SIGNATURE_V1)
                ),
                self._append_function(append),
                SQL("REVOKE ALL ON FUNCTION {schema}.{function}({signature}) FROM PUBLIC").format(
                    schema=schema, function=append, signature=SQL(APPEND_SIGNATURE)
                ),
            ]
        )
        # Python computes the leaf hashes and reads effective_on and the principal from the JSON it is storing
        # (they depend on nothing else, and are done before the lock); the function folds the chain. The arrays
        # go in binary (%b): as text, psycopg escapes every element and a bytea travels as hex, twice its size.
        self.append_statement = SQL(
            "SELECT notification_id, leaf_index FROM {schema}.{function}(%(ids)b::uuid[], %(versions)b::bigint[], "
            "%(topics)b::text[], %(states)b::bytea[], %(leaf_hashes)b::bytea[], %(effective_on)b::date[], "
            "%(principal_ids)b::text[], %(principal_roles)b::text[], %(principal_orgs)b::text[], "
            "%(command_principals)b::text[], %(command_keys)b::text[], %(command_fingerprints)b::bytea[], "
            "%(command_aggregates)b::uuid[], %(command_versions)b::bigint[], %(command_firsts)b::int[], "
            "%(command_lasts)b::int[], %(lock_timeout)s)"
        ).format(schema=schema, function=append)
        self._append_query: bytes | None = None
        self._written = threading.local()
        self.patience = APPEND_PATIENCE
        self._session_alive_statement = SQL("SELECT 1 FROM pg_catalog.pg_stat_activity WHERE pid = %s")
        # From the append's first event on, as many leaves as it had: one statement inserted them, in order.
        self.select_command_statement = SQL(
            "SELECT fingerprint, aggregate_id, version, positions FROM {schema}.{commands} "
            "WHERE principal_id = %s AND idempotency_key = %s"
        ).format(schema=schema, commands=Identifier(COMMANDS))
        self._find_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.leaf_hash, e.notification_id, e.leaf_index "
            "FROM {schema}.{table} e, (SELECT leaf_index FROM {schema}.{table} WHERE originator_id = %s "
            "AND originator_version = %s) f WHERE e.leaf_index >= f.leaf_index ORDER BY e.leaf_index LIMIT %s"
        ).format(schema=schema, table=table)

    def _create_table(self, curs: Any) -> None:
        lock_schema(curs)
        super()._create_table(curs)

    def _immutability_statements(self) -> list[Any]:
        schema = Identifier(self.datastore.schema)
        function = Identifier(f"{self.events_table_name}_refuse_change")
        return [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
                "USING ERRCODE = 'insufficient_privilege'; END $$"
            ).format(schema=schema, function=function),
            *append_only(schema, self.events_table_name, function),
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
            *append_only(schema, COMMANDS, refuse),
        ]

    def select_command(self, principal_id: str, key: str) -> tuple[bytes, UUID, int, list[int]] | None:
        """The fingerprint, aggregate, version and positions an idempotency key recorded, if any."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_command_statement, (principal_id, key))
            row = curs.fetchone()
        if row is None:
            return None
        return bytes(row["fingerprint"]), row["aggregate_id"], int(row["version"]), list(row["positions"])

    # The chain's step, as SQL over ``chain`` (the previous chain hash) and ``leaf_hashes[i]``.
    chain_step = "sha256(chain || leaf_hashes[i])"

    def _append_function(self, name: Identifier) -> Any:
        """The append, server-side (see the module docstring). SECURITY DEFINER: a service role that may not take
        the EXCLUSIVE lock itself (it needs UPDATE rights PostgreSQL grants with it) appends through this."""
        return SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(ids uuid[], versions bigint[], topics text[], "
            "states bytea[], leaf_hashes bytea[], effective_ons date[], principal_ids text[], principal_roles text[], "
            "principal_orgs text[], command_principals text[], command_keys text[], command_fingerprints bytea[], "
            "command_aggregates uuid[], command_versions bigint[], command_firsts int[], command_lasts int[], "
            "wait text) "
            "RETURNS TABLE (notification_id bigint, leaf_index bigint) LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp AS $$ "
            "#variable_conflict use_column\n"
            "DECLARE head bigint; chain bytea; chains bytea[] := '{{}}'; n integer := cardinality(ids); "
            "BEGIN "
            "PERFORM set_config('lock_timeout', wait, true); "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "PERFORM pg_notify({channel}, ''); "
            "SELECT e.leaf_index, e.chain_hash INTO head, chain FROM {schema}.{table} e "
            "ORDER BY e.leaf_index DESC LIMIT 1; "
            "IF head IS NULL THEN head := -1; chain := {genesis}; END IF; "
            "FOR i IN 1 .. n LOOP chain := {step}; chains := chains || chain; END LOOP; "
            "RETURN QUERY INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state, "
            "leaf_index, leaf_hash, chain_hash, effective_on, principal_id, principal_role, principal_org, "
            "recorded_at) "
            "SELECT u.id, u.version, u.topic, u.state, head + u.position, u.leaf, chains[u.position], u.effective, "
            "u.pid, u.prole, u.porg, clock_timestamp() "
            "FROM unnest(ids, versions, topics, states, leaf_hashes, effective_ons, principal_ids, principal_roles, "
            "principal_orgs) WITH ORDINALITY AS u(id, version, topic, state, leaf, effective, pid, prole, porg, "
            "position) ORDER BY u.position "
            "RETURNING t.notification_id, t.leaf_index; "
            "IF coalesce(cardinality(command_keys), 0) > 0 THEN "
            "INSERT INTO {schema}.{commands} (principal_id, idempotency_key, fingerprint, aggregate_id, version, "
            "positions) SELECT c.principal, c.key, c.fingerprint, c.aggregate, c.version, "
            "ARRAY(SELECT head + g FROM generate_series(c.first, c.last) AS g) "
            "FROM unnest(command_principals, command_keys, command_fingerprints, command_aggregates, "
            "command_versions, command_firsts, command_lasts) AS c(principal, key, fingerprint, aggregate, version, "
            "first, last); "
            "END IF; "
            "END $$"
        ).format(
            schema=Identifier(self.datastore.schema),
            function=name,
            table=Identifier(self.events_table_name),
            channel=Literal(self.channel_name),
            genesis=Literal(GENESIS_CHAIN_HASH),
            step=SQL(self.chain_step),
            commands=Identifier(COMMANDS),
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append in one statement and one transaction of its own (autocommit): see the module docstring.

        Sent again only where that is provably safe, since an append repeated after it committed would come back as
        a conflict with itself. A connection found dead as the pool hands it out (the database restarted, idle
        sessions were killed) is replaced before anything is sent (:func:`check_on_checkout`), and no connection at
        all (the database is starting) is waited for, up to :attr:`patience` seconds. A connection lost while the
        statement was under way is settled first (:meth:`settle`): once the session that ran it is gone, the log
        shows whether it committed — if it did, its positions are the answer; if not, it is sent again.
        """
        if not stored_events:
            return None
        arguments = self._append_arguments(stored_events, kwargs)
        deadline = time.monotonic() + self.patience
        while True:
            sent: list[bool] = []
            try:
                rows = self._append_once(arguments, sent)
            except _LostAppend as lost:
                settled = self.settle(stored_events, lost.backend_pid, deadline, lost.error)
                if settled is None:  # it did not commit, and the session that ran it is gone: nothing can commit it
                    if time.monotonic() >= deadline:
                        raise OperationalError(
                            "the connection broke during an append, which was not recorded"
                        ) from lost.error
                    continue
                rows = settled
            except (OperationalError, InterfaceError):
                if sent or time.monotonic() >= deadline:
                    raise  # the server's answer (a lock timeout, say): nothing was recorded, and that is the outcome
                time.sleep(RETRY_WAIT)  # no connection to be had: nothing was sent
                continue
            break
        if len(rows) != len(stored_events):
            raise ProgrammingError(f"inserted {len(rows)} of {len(stored_events)} events")
        self._written.positions = [row["leaf_index"] for row in rows]
        return [row["notification_id"] for row in rows]

    def _append_arguments(self, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> dict[str, Any]:
        columns: dict[str, Any] = {
            name: []
            for name in (
                "ids",
                "versions",
                "topics",
                "states",
                "leaf_hashes",
                "effective_on",
                "principal_ids",
                "principal_roles",
                "principal_orgs",
            )
        }
        for stored in stored_events:
            assert not isinstance(stored.originator_id, str)
            columns["ids"].append(stored.originator_id)
            columns["versions"].append(stored.originator_version)
            columns["topics"].append(stored.topic)
            columns["states"].append(stored.state)
            columns["leaf_hashes"].append(
                leaf_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)
            )
            effective_on, principal_id, role, organisation = readable_columns(stored.state)
            columns["effective_on"].append(effective_on)
            columns["principal_ids"].append(principal_id)
            columns["principal_roles"].append(role)
            columns["principal_orgs"].append(organisation)
        # Idempotency keys, each with the events its command wrote: ``command`` (eventsourcing's save passes it)
        # wrote them all; ``commands`` are several commands recorded together, each with its slice of the events.
        single: CommandRecord | None = kwargs.get("command")
        commands: Sequence[tuple[CommandRecord, int, int]] = kwargs.get("commands") or (
            [(single, 0, len(stored_events))] if single is not None else []
        )
        # No keys: NULL arrays (psycopg spent longer dumping seven empty lists than the rest of the parameters).
        columns.update(
            command_principals=[c.principal_id for c, _, _ in commands] or None,
            command_keys=[c.key for c, _, _ in commands] or None,
            command_fingerprints=[c.fingerprint for c, _, _ in commands] or None,
            command_aggregates=[c.aggregate_id for c, _, _ in commands] or None,
            command_versions=[c.version for c, _, _ in commands] or None,
            command_firsts=[start + 1 for _, start, _ in commands] or None,
            command_lasts=[stop for _, _, stop in commands] or None,
            lock_timeout=f"{self.datastore.lock_timeout}s",
        )
        return columns

    def _append_once(self, arguments: dict[str, Any], sent: list[bool]) -> list[Any]:
        """One try: the rows the append returned. Raises :class:`_LostAppend` if the connection broke with the
        statement sent (its outcome unknown); an error the server answered with means nothing was recorded.
        ``sent`` is appended to once the statement goes to the server."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit  # the statement is its own transaction: the lock ends with it
            if self._append_query is None:  # composed once: quoting its identifiers on every append cost time
                self._append_query = self.append_statement.as_bytes(conn)
            backend_pid = conn.info.backend_pid
            sent.append(True)
            try:
                curs.execute(self._append_query, arguments, prepare=True)
                return curs.fetchall()
            except psycopg.Error as error:
                if not conn.broken:
                    raise
                raise _LostAppend(backend_pid, error) from error

    def settle(
        self,
        stored_events: Sequence[StoredEvent],
        backend_pid: int,
        deadline: float,
        error: BaseException | None = None,
    ) -> list[Any] | None:
        """Whether an append whose connection broke under way committed: its rows if it did, None if it did not.

        Asked only once the session that ran it (``backend_pid``) has ended, so that nothing can still commit it:
        then the log holds the events, each with the leaf hash this append computed, or it does not hold them
        (another writer's event at one of their versions means this append lost, and sending it again meets that
        conflict). Until ``deadline``; past it, the outcome is unknown and :class:`OperationalError` says so.
        """
        first = stored_events[0]
        assert not isinstance(first.originator_id, str)
        mine = [
            (
                stored.originator_id,
                stored.originator_version,
                leaf_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state),  # type: ignore[arg-type]
            )
            for stored in stored_events
        ]
        while True:
            try:
                with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                    if curs.execute(self._session_alive_statement, (backend_pid,)).fetchone() is None:
                        found = curs.execute(
                            self._find_statement, (first.originator_id, first.originator_version, len(stored_events))
                        ).fetchall()
                        if not found or bytes(found[0][2]) != mine[0][2]:
                            return None
                        if [(row[0], row[1], bytes(row[2])) for row in found] != mine:
                            raise ProgrammingError("an append committed only in part")  # one statement: cannot be
                        return [{"notification_id": row[3], "leaf_index": row[4]} for row in found]
            except (OperationalError, InterfaceError):
                pass  # the database is still away
            if time.monotonic() >= deadline:
                raise OperationalError(
                    "the connection broke during an append, and whether it was recorded is not "
                    "known yet (the database is away, or the session that ran it lives on)"
                ) from error
            time.sleep(RETRY_WAIT)

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
    return (
        date.fromisoformat(effective_on) if isinstance(effective_on, str) else None,
        _text(_field(principal, "id")),
        _text(_field(principal, "role")),
        _text(_field(principal, "organisation")),
    )


def _field(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
