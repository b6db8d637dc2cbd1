"""The ledger application: one method per use case — check the caller, load, decide, save.

One eventsourcing ``Application`` holds every aggregate, so there is one
events table, one global order and one integrity log. Each command returns a
:class:`Written` with the aggregate's new version and the log positions
(leaf indexes) it wrote, for read-your-writes and for proofs.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    DataError,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType, get_topic
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row

from ledger.domain import rules
from ledger.domain.base import EARLIEST_EFFECTIVE_ON, LedgerAggregate, require_not_before
from ledger.domain.catalogue import (
    INDICATOR_LIBRARY_ID,
    RULESET_ID,
    IndicatorLibrary,
    ReEvaluationSample,
    Ruleset,
    sample_id,
)
from ledger.domain.errors import Forbidden, InvalidInput, NotFound, RuleViolation, VersionConflict
from ledger.domain.organisations import Agency, Department, Misconduct, agency_ids, department_ids
from ledger.domain.project import CorrectiveDecision, Project, RectificationSource, Stage, project_id, project_ids
from ledger.domain.sweeps import Sweep, SweepContext, SweepReport, sweep_named
from ledger.domain.values import (
    SYSTEM,
    BudgetBook,
    Grade,
    Indicator,
    Principal,
    ProjectKind,
    Qualitative,
    Role,
    SpecialCategory,
    enum_value,
    evidence,
    fiscal_year,
    key,
    money,
    number,
    reason,
    text,
)
from ledger.log.checkpoint import SigningKey, VerifierKey
from ledger.store.recorder import (
    CommandAlreadyRecorded,
    CommandRecord,
    LedgerRecorder,
    check_on_checkout,
    is_command_conflict,
)
from ledger.store.snapshot_recorder import SnapshotRecorder
from ledger.store.snapshots import SnapshotAuthenticator, SnapshotWriter
from ledger.store.sweep_watch import SweepWatch
from ledger.store.transcodings import register_ledger_transcodings

A = TypeVar("A", bound=LedgerAggregate)
T = TypeVar("T")
logger = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 50
REFRESH_PAGE = 1000  # log positions read at a time when the cache catches up with the log
REFRESH_PAGES = 5  # further behind than this many pages (a long idle), the cached objects are checked instead
NEWEST_KEPT = 8192  # latest versions the cache refresh remembers (Ledger._get); more than one refresh reads
SCHEDULED_ATTEMPTS = 5  # a time-driven rule that keeps losing races on one object gives up (and is retried next run)
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "principal",
                       "effective_on", "reason", "evidence"})


@dataclass(frozen=True)
class CommandKey:
    """A client's idempotency key for one command, and the fingerprint of the request it came with.

    Recorded in the same transaction as the command's events (``ledger_commands``), so a command retried under
    the same key is recorded once however the first attempt ended — even if the response was lost.
    """

    key: str
    fingerprint: bytes

    def __post_init__(self) -> None:
        text(self.key, "Idempotency-Key", max_length=255)
        if len(self.fingerprint) != 32:
            raise InvalidInput("a command fingerprint is a SHA-256 digest", field="Idempotency-Key")


@dataclass(frozen=True)
class Act:
    """Who acts, when it takes effect, why, on what evidence, (optionally) on which version, under which key."""

    principal: Principal
    effective_on: date
    reason: str = ""
    evidence: list[str] = field(default_factory=list)
    expected_version: int | None = None
    command: CommandKey | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", reason(self.reason))
        object.__setattr__(self, "evidence", evidence(self.evidence))


# Payload fields that name what a command created, so a client can address it (e.g. rectification 2).
REFERENCE_FIELDS = ("adjustment_no", "rectification_no", "evaluation_id", "misconduct_no", "blacklisting_no",
                    "month", "code", "ruleset_version", "fiscal_year")


@dataclass(frozen=True)
class WrittenEvent:
    position: int
    aggregate_id: UUID
    version: int
    type: str  # e.g. "Project.RectificationRequired"
    references: dict[str, Any]

    @classmethod
    def of(cls, position: int, event: Any) -> WrittenEvent:
        return cls(position, event.originator_id, event.originator_version, type(event).__qualname__,
                   {name: getattr(event, name) for name in REFERENCE_FIELDS if hasattr(event, name)})


@dataclass(frozen=True)
class Written:
    """What a command recorded: the (first) aggregate's new version and every event with its log position.

    A command run in a group (:meth:`Ledger.run_together`) gets its positions and events when the group is
    recorded, before its outcome is handed back.
    """

    aggregate_id: UUID
    version: int
    positions: list[int]
    events: list[WrittenEvent] = field(default_factory=list)
    replayed: bool = False  # an earlier command under the same idempotency key recorded this

    @property
    def position(self) -> int:
        """The last log position written (the one to wait for when reading your writes)."""
        return self.positions[-1]


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an object's history, as the log holds it: position, hashes, both times, who and why."""

    leaf_index: int
    version: int
    event_type: str
    leaf_hash: str
    chain_hash: str
    recorded_at: datetime
    effective_on: date | None
    principal: Principal
    reason: str
    evidence: list[str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What running a command came to: its result, or the exception it raised."""

    value: T | None = None
    error: BaseException | None = None

    @classmethod
    def of(cls, command: Callable[[], T]) -> Outcome[T]:
        try:
            return cls(value=command())
        except _Alone:
            raise
        except Exception as error:  # the command's own failure, handed to whoever ran it
            return cls(error=error)


class _Alone(Exception):
    """Raised in a group with writes pending by a command that reads the log itself: it must run in a new group."""


@dataclass
class _GroupedWrite:
    processing_event: ProcessingEvent[UUID]
    stored: list[StoredEvent]
    command: CommandRecord | None
    written: Written


@dataclass
class _Group:
    """Commands decided one after another and recorded together: their writes, the objects they changed (cached
    with the changes, so each command sees the ones before it), and the per-object locks held until recorded."""

    writes: list[_GroupedWrite] = field(default_factory=list)
    aggregates: dict[UUID, LedgerAggregate] = field(default_factory=dict)
    locks: list[threading.RLock] = field(default_factory=list)
    broken: bool = False  # a command failed part-way through changing one of them: the group cannot be recorded


def environment_for(database_url: str) -> dict[str, str]:
    """The eventsourcing environment for a PostgreSQL connection URL: every library setting the ledger depends on,
    pinned (the ledger reads none from the process environment: :meth:`Ledger.construct_env`)."""
    params = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        # The stored bytes are what every leaf hash commits to and what the read models decode: plain JSON.
        "TRANSCODER_TOPIC": "",
        "MAPPER_TOPIC": "",
        "COMPRESSOR_TOPIC": "",
        "CIPHER_TOPIC": "",
        "CIPHER_KEY": "",
        "POSTGRES_SCHEMA": "",
        "ORIGINATOR_ID_TYPE": "uuid",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",  # the ledger's own append function, not the library's
        "POSTGRES_GET_PASSWORD_TOPIC": "",
        # Connections are checked on checkout without a round trip (ledger.recorder.check_on_checkout), not pinged.
        "POSTGRES_PRE_PING": "n",
        # Seconds to wait for a connection (the database restarting): then a command fails, and is answered 503.
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_MAX_WAITING": "0",
        "POSTGRES_CONN_MAX_AGE": "3600",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "12",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        "AGGREGATE_CACHE_MAXSIZE": "2000",
        # Not the library's fast-forward (one read of the log per object per command): the ledger refreshes its
        # cache from the log's tail instead, once per command or per group of commands (Ledger._refresh_cache).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "AGGREGATE_CACHE_FASTFORWARD_SKIPPING": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }


class Ledger(Application[UUID]):
    name = "Ledger"  # tables ledger_events and ledger_snapshots
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = dict.fromkeys(
        (Project, Department, Agency, IndicatorLibrary, Ruleset, ReEvaluationSample), SNAPSHOT_INTERVAL
    )

    def __init__(self, database_url: str, *, clock: Callable[[], datetime] | None = None,
                 holidays: list[date] | None = None, working_weekends: list[date] | None = None,
                 create_schema: bool = True, timezone: tzinfo = UTC, signing_key: SigningKey | None = None,
                 trusted_keys: Sequence[VerifierKey] = (), recheck_interval: float = 86_400.0) -> None:
        """``create_schema=False`` for a service role that may only INSERT and SELECT: the owner creates the
        schema beforehand (``jixiao db migrate``). ``timezone``: where business dates are reckoned ("today"), the
        bureau's own. ``holidays`` and ``working_weekends`` (调休上班日) are the working-day calendar.

        ``signing_key``: the log's key, which authenticates the snapshots this ledger takes; snapshots are loaded
        only when they verify under it or one of ``trusted_keys`` (keys the log signed with before). Without a key
        no snapshot is taken and none is trusted: every load replays the aggregate's events.

        ``recheck_interval``: seconds between a sweep's full passes over every object of its kind in this process
        (see :mod:`ledger.sweeps`); the first run of each sweep is one."""
        self.snapshot_authenticator = SnapshotAuthenticator(signing_key, trusted_keys)
        self.create_schema = create_schema
        self.database_url = database_url
        self.timezone = timezone
        self.clock = clock or (lambda: datetime.now(UTC))
        self.holidays = sorted(holidays or [])
        self.working_weekends = sorted(working_weekends or [])
        # Commands on one object are serialised in this process (stripes of reentrant locks: a command may read
        # another object while it changes one, and a group holds the locks of everything it changed).
        self._command_locks = [threading.RLock() for _ in range(64)]
        self._local = threading.local()  # .group: the _Group this thread is deciding, if any
        self._refresh_lock = threading.Lock()
        self._seen: int | None = None  # every log position below this is reflected in the cache
        # The latest version the refresh saw recorded, for recently changed objects: a load that began before
        # the refresh read the log, and put its object in the cache after, is caught by it (Ledger._get).
        self._newest: OrderedDict[UUID, int] = OrderedDict()
        self._jumps = 0  # how many times the refresh went straight to the log's head
        self.recheck_interval = recheck_interval
        self._rechecked: dict[str, float] = {}  # sweep -> monotonic time of this process's last full pass
        super().__init__(env={**environment_for(database_url), "CREATE_TABLE": "y" if create_schema else "n"})
        self.sweep_watch = SweepWatch(self.log_recorder.datastore, self.log_recorder.events_table_name)
        if create_schema:
            self.sweep_watch.create_tables()

    # ------------------------------------------------------------ plumbing

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's settings as given (:func:`environment_for`), never the process environment's.

        The library would read any of them from ``os.environ``, its name-prefixed spelling (``LEDGER_…``) first: a
        ``COMPRESSOR_TOPIC`` or ``CIPHER_KEY`` there changed the stored bytes (start-up failed reading them back),
        a ``LEDGER_PERSISTENCE_MODULE`` put the log in another store.
        """
        return Environment(name, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        """The library's factory, its pool checking each connection as it hands it out (after a database restart
        the idle ones are dead; see :func:`ledger.recorder.check_on_checkout`)."""
        factory = super().construct_factory(env)
        check_on_checkout(factory.datastore.pool)  # type: ignore[attr-defined]
        return factory

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)

    def construct_recorder(self) -> ApplicationRecorder:
        datastore = self.factory.datastore  # type: ignore[attr-defined]
        recorder = LedgerRecorder(datastore, events_table_name="ledger_events")
        if self.create_schema:
            recorder.create_table()
        return recorder

    def construct_snapshot_store(self) -> EventStore[UUID]:
        datastore = self.factory.datastore  # type: ignore[attr-defined]
        recorder = SnapshotRecorder(datastore, events_table_name="ledger_snapshots",
                                    log_table_name=self.log_recorder.events_table_name,
                                    authenticator=self.snapshot_authenticator)
        if self.create_schema:
            recorder.create_table()
        self._snapshot_writer = SnapshotWriter(recorder)
        return EventStore(self.mapper, recorder)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot the aggregate already in memory, instead of the library's re-read and replay of it; encoded
        here, while the aggregate is at the version it records, and stored by a thread of its own
        (:mod:`ledger.snapshots`)."""
        assert self.snapshots is not None
        if self.snapshot_authenticator.key is None:
            return  # an unauthenticated snapshot would never be loaded
        snapshots = []
        for aggregate in processing_event.aggregates.values():
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or not isinstance(aggregate, LedgerAggregate):
                continue
            saved = [e.originator_version for e in processing_event.events if e.originator_id == aggregate.id]
            if any(version % interval == 0 for version in saved) and aggregate.version == max(saved):
                snapshots.append(Snapshot.take(aggregate))
        if snapshots:
            self._snapshot_writer.put([self.snapshots.mapper.to_stored_event(snapshot) for snapshot in snapshots])

    def wait_for_snapshots(self) -> None:
        """Return when every snapshot taken so far is stored (they are stored in the background)."""
        self._snapshot_writer.wait()

    def close(self) -> None:
        self._snapshot_writer.close()  # what is queued is stored before the connections go
        super().close()

    @property
    def log_recorder(self) -> LedgerRecorder:
        assert isinstance(self.recorder, LedgerRecorder)
        return self.recorder

    def today(self) -> date:
        """The business date now, in the ledger's time zone."""
        return self.clock().astimezone(self.timezone).date()

    def act(self, principal: Principal, *, effective_on: date | None = None, reason: str = "",
            evidence: list[str] | None = None, expected_version: int | None = None) -> Act:
        return Act(principal, effective_on or self.today(), reason, list(evidence or []), expected_version)

    def bootstrap(self) -> None:
        """Record ruleset version 1 and open the indicator library, once per ledger."""
        today = self.today()
        if not self.exists(RULESET_ID):
            self._save_new(Ruleset.establish(SYSTEM, today), ignore_existing=True)
        if not self.exists(INDICATOR_LIBRARY_ID):
            self._save_new(IndicatorLibrary.open(SYSTEM, today), ignore_existing=True)

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def recorded_id(self, candidates: tuple[UUID, ...]) -> UUID:
        """Of the ids a name may give an object (its key's, then an older version's), the one it is recorded under;
        the first when none is (yet)."""
        if len(candidates) > 1:
            for candidate in candidates:
                if self.exists(candidate):
                    return candidate
        return candidates[0]

    def _refuse_existing(self, candidates: tuple[UUID, ...], what: str) -> None:
        """A new object named as one already recorded under any of its ids is a duplicate."""
        for candidate in candidates:
            if self.exists(candidate):
                raise RuleViolation(f"{what} already exists (under another spelling, perhaps)", code="already-exists")

    def _check_date(self, act: Act) -> None:
        """Every command's business date: not after today where the ledger is (it records no future), nor before the
        first fiscal year's preparation; the object it concerns bounds it further from below."""
        today = self.today()
        if act.effective_on > today:
            raise InvalidInput(f"effective_on {act.effective_on} is after today ({today}, {self.timezone})",
                               code="effective-date-in-future", field="effective_on")
        require_not_before(act.effective_on, EARLIEST_EFFECTIVE_ON, "the first fiscal year's preparation opened")

    def _get(self, cls: type[A], aggregate_id: UUID, code: str, version: int | None = None, *,
             copy: bool = True) -> A:
        group = self._group()
        if version is None and group is None:  # a group refreshed when it began
            self._refresh_cache()
        pinned = group.aggregates.get(aggregate_id) if group is not None and version is None else None
        try:
            if pinned is not None:  # changed earlier in the group: as that left it, whatever the cache did since
                aggregate: object = deepcopy(pinned) if copy else pinned
            else:
                aggregate = self._load(aggregate_id, version, copy)
        except AggregateNotFoundError:
            raise NotFound(f"{cls.__name__.lower()} {aggregate_id} not found", code=code) from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{aggregate_id} is not a {cls.__name__.lower()}", code=code)
        return aggregate

    def _lock_for(self, aggregate_id: UUID) -> threading.RLock:
        return self._command_locks[aggregate_id.int % len(self._command_locks)]

    def _group(self) -> _Group | None:
        group: _Group | None = getattr(self._local, "group", None)
        return group

    def _refresh_cache(self) -> None:
        """Forget the cached objects that changed in the log since this process last looked (another process or
        replica wrote them): one indexed read of the log's tail covers every object, where the library's
        fast-forward read each object's new events on every use. Every event recorded before the call is then
        reflected in what the cache holds or is read afresh.

        The first call, and a call more than :data:`REFRESH_PAGES` pages behind (after a long idle while others
        wrote), ask instead for the latest version of each cached object (by primary key) and go on from the
        log's head. Objects a group has changed and not yet recorded are ahead of the log and stay cached."""
        cache = self.repository.cache
        if cache is None:
            return
        table = self.log_recorder.events_table_name
        with self._refresh_lock:
            # One statement per page on an autocommit connection: a round trip, where a transaction took three.
            with self.log_recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                rows: list[tuple[Any, ...]] = []
                seen = self._seen
                while seen is not None:
                    # A bounded range, a page at a time: a prepared statement soon runs on a generic plan, and for
                    # "leaf_index >= $1" alone PostgreSQL expects a third of the table and scans and sorts it all.
                    page = curs.execute(
                        f"SELECT leaf_index, originator_id, originator_version FROM {table} "  # noqa: S608
                        "WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index",
                        (seen + len(rows), seen + len(rows) + REFRESH_PAGE), prepare=True, binary=True).fetchall()
                    rows += page
                    if len(page) < REFRESH_PAGE:
                        seen = int(rows[-1][0]) + 1 if rows else seen
                        break
                    if len(rows) >= REFRESH_PAGES * REFRESH_PAGE:
                        seen = None
                if seen is None:
                    row = curs.execute(f"SELECT coalesce(max(leaf_index) + 1, 0) FROM {table}").fetchone()  # noqa: S608
                    seen = int(row[0]) if row else 0
                    cached = list(cache.cache.copy())  # a copy in one step: other threads may be using the cache
                    rows = curs.execute(
                        f"SELECT NULL, originator_id, max(originator_version) FROM {table} "  # noqa: S608
                        "WHERE originator_id = ANY(%s) GROUP BY originator_id", (cached,)).fetchall() if cached else []
                    self._jumps += 1  # a load that began before this cannot be checked against _newest: Ledger._get
            for _, originator_id, version in rows:
                self._remember_newest(originator_id, version)
                try:
                    aggregate = cache.get(originator_id)
                except KeyError:
                    continue
                if aggregate.version < version:
                    self._evict(originator_id)
            self._seen = seen

    def _load(self, aggregate_id: UUID, version: int | None, copy: bool) -> object:
        """The aggregate from the cache or the log; one read before another process's change, and cached after the
        refresh that saw it, is read again (stale three times over, it is used — a save would conflict — but not
        kept)."""
        for _ in range(3):
            jumps, missed = self._jumps, not self._cached(aggregate_id)
            aggregate: object = self.repository.get(aggregate_id, version=version, deepcopy_from_cache=copy)
            if version is not None or not missed or not isinstance(aggregate, LedgerAggregate) \
                    or not self._is_stale(aggregate, jumps):
                return aggregate
            self._evict(aggregate_id)
        return aggregate

    def _cached(self, aggregate_id: UUID) -> bool:
        cache = self.repository.cache
        if cache is None:
            return True  # nothing cached, nothing stale
        return aggregate_id in cache.cache

    def _remember_newest(self, aggregate_id: UUID, version: int) -> None:
        newest = self._newest
        if newest.get(aggregate_id, -1) < version:
            newest[aggregate_id] = version
            newest.move_to_end(aggregate_id)
            while len(newest) > NEWEST_KEPT:
                newest.popitem(last=False)

    def _is_stale(self, aggregate: LedgerAggregate, jumps: int) -> bool:
        """Whether a refresh since the load began saw a later version of ``aggregate`` than it has (or could not
        tell: it jumped to the log's head)."""
        with self._refresh_lock:
            return self._jumps != jumps or self._newest.get(aggregate.id, -1) > aggregate.version

    def _read(self, cls: type[A], aggregate_id: UUID, code: str, version: int | None = None) -> A:
        """A private copy of an aggregate, safe to keep or change without touching the cache."""
        with self._lock_for(aggregate_id):
            return self._get(cls, aggregate_id, code, version)

    def _evict(self, *aggregate_ids: UUID) -> None:
        if self.repository.cache is not None:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    self.repository.cache.get(aggregate_id, evict=True)

    def _save(self, *aggregates: LedgerAggregate, act: Act | None = None) -> Written:
        first = aggregates[0]
        command = None
        if act is not None and act.command is not None:
            command = CommandRecord(act.principal.id, act.command.key, act.command.fingerprint, first.id,
                                    first.version)
        group = self._group()
        if group is not None:
            return self._save_in_group(group, aggregates, command)
        try:
            recordings = self.save(*aggregates, command=command)
        except BaseException as error:
            self._evict(*(aggregate.id for aggregate in aggregates))  # the cache must not keep unsaved changes
            if not isinstance(error, RecordConflictError):
                raise
            if command is not None and is_command_conflict(error):
                raise CommandAlreadyRecorded(command.principal_id, command.key) from None
            raise VersionConflict("another change to the same object was recorded first; reload and retry",
                                  code="version-conflict") from None
        positions = self.log_recorder.take_written_positions()
        events = [WrittenEvent.of(position, recording.domain_event)
                  for position, recording in zip(positions, recordings, strict=True)]
        return Written(first.id, first.version, positions, events)

    def recorded_command(self, principal_id: str, key: str) -> tuple[bytes, Written] | None:
        """The command an idempotency key already recorded (its request fingerprint and what it wrote), or None."""
        group = self._group()
        for write in group.writes if group is not None else ():
            if write.command is not None and (write.command.principal_id, write.command.key) == (principal_id, key):
                # decided earlier in this group: its positions arrive with the group's (the lists are shared)
                mine = write.written
                return write.command.fingerprint, Written(mine.aggregate_id, mine.version, mine.positions,
                                                          mine.events, replayed=True)
        found = self.log_recorder.select_command(principal_id, key)
        if found is None:
            return None
        fingerprint, aggregate_id, version, positions = found
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT leaf_index, originator_id, originator_version, topic, state FROM {table} "  # noqa: S608
                         "WHERE leaf_index = ANY(%s) ORDER BY leaf_index", (positions,))
            rows = curs.fetchall()
        events = [WrittenEvent.of(row["leaf_index"], self.mapper.to_domain_event(StoredEvent(
            row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])))) for row in rows]
        return fingerprint, Written(aggregate_id, version, positions, events, replayed=True)

    def _save_new(self, aggregate: LedgerAggregate, *, ignore_existing: bool = False,
                  act: Act | None = None) -> Written:
        try:
            return self._save(aggregate, act=act)
        except VersionConflict:
            if ignore_existing:
                return Written(aggregate.id, aggregate.version, [])
            raise RuleViolation(f"{type(aggregate).__name__.lower()} {aggregate.id} already exists",
                                code="already-exists") from None

    # ------------------------------------------------------- group commit

    def run_together(self, commands: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
        """Run ``commands`` one after another, as if each ran alone, and record what they decide in one append.

        Group commit: each command decides on the objects as the ones before it left them (the changed objects
        stay cached and locked until recorded), then every event of the group is appended in one transaction —
        one round trip, one commit, one turn of the log's lock for all of them. If that append fails on a
        conflict (another process wrote one of the objects, or an idempotency key was used twice), nothing was
        recorded: the group's objects are reloaded and its commands run again one at a time, each recorded on
        its own, so each gets the outcome it would have had alone. A command that reads the log itself (the
        re-evaluation sample) starts a new group, so it sees everything before it recorded.
        """
        if len(commands) == 1:  # nothing to group: recorded as it is decided
            return [Outcome.of(commands[0])]
        outcomes: list[Outcome[T]] = []
        start = 0
        while start < len(commands):
            try:
                self._refresh_cache()
            except Exception as error:  # the database is unreachable: the rest fail, what was recorded stands
                outcomes.extend(Outcome(error=error) for _ in commands[start:])
                break
            group = _Group()
            self._local.group = group
            decided: list[Outcome[T]] = []
            try:
                for command in commands[start:]:
                    try:
                        decided.append(Outcome.of(command))
                    except _Alone:
                        break
                    if group.broken:
                        break
            except BaseException:  # not a command's failure (an interrupt, say): record nothing, hold nothing
                self._abandon(group)
                raise
            finally:
                self._local.group = None
            if not decided:  # cannot happen: a group's first command has nothing before it to wait for
                self._abandon(group)
                raise RuntimeError("a command asked to run alone in a group of its own")
            end = start + len(decided)
            if group.broken:  # its objects may hold a failed command's changes: nothing of it is recorded
                self._abandon(group)
                outcomes.extend(Outcome.of(command) for command in commands[start:end])
                start = end
                continue
            try:
                self._record_group(group)
            except (RecordConflictError, DataError):
                # The append was refused (a conflict, or a value the database would not store): nothing of the
                # group was recorded. Alone, each command meets only its own conflict or error.
                outcomes.extend(Outcome.of(command) for command in commands[start:end])
            except Exception as error:  # nothing to tell apart: every command of the group failed with it
                outcomes.extend(Outcome(error=error) for _ in decided)
            else:
                outcomes.extend(decided)
            start = end
        return outcomes

    def _abandon(self, group: _Group) -> None:
        """Drop a group that will not be recorded: its changed objects leave the cache, its locks are released."""
        self._evict(*group.aggregates)
        self._release(group)

    @staticmethod
    def _release(group: _Group) -> None:
        for lock in group.locks:
            lock.release()
        group.locks.clear()

    def _alone(self) -> None:
        """For a command that reads the log with SQL: it may not run after unrecorded changes of its group."""
        group = self._group()
        if group is not None and group.writes:
            raise _Alone

    def _save_in_group(self, group: _Group, aggregates: Sequence[LedgerAggregate],
                       command: CommandRecord | None) -> Written:
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:  # as ProcessingEvent.collect_events, without its checks against protocols
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        stored = [self.mapper.to_stored_event(event) for event in processing_event.events]
        first = aggregates[0]
        written = Written(first.id, first.version, [], [])
        group.writes.append(_GroupedWrite(processing_event, stored, command, written))
        cache = self.repository.cache
        for aggregate in aggregates:
            # Held until the group is recorded: no other thread builds on, or reads, changes not yet recorded.
            lock = self._lock_for(aggregate.id)
            lock.acquire()
            group.locks.append(lock)
            group.aggregates[aggregate.id] = aggregate
            if cache is not None:
                cache.put(aggregate.id, aggregate)  # the next command of the group builds on it
        return written

    def _record_group(self, group: _Group) -> None:
        """Append the group's events in one transaction and complete its commands' Written; release its locks.

        On any failure nothing was recorded (one statement, one transaction): the objects the group changed are
        dropped from the cache, to be read again as recorded."""
        try:
            stored: list[StoredEvent] = []
            keys: list[tuple[CommandRecord, int, int]] = []
            for write in group.writes:
                begin = len(stored)
                stored.extend(write.stored)
                if write.command is not None:
                    keys.append((write.command, begin, len(stored)))
            if not stored:
                return
            try:
                self.log_recorder.insert_events(stored, commands=keys)
            except BaseException:
                self._evict(*group.aggregates)  # under the group's locks: nobody has read them meanwhile
                raise
            positions = self.log_recorder.take_written_positions()
            offset = 0
            for write in group.writes:
                mine = positions[offset:offset + len(write.stored)]
                offset += len(write.stored)
                write.written.positions.extend(mine)
                write.written.events.extend(WrittenEvent.of(position, event) for position, event in
                                            zip(mine, write.processing_event.events, strict=True))
                try:
                    self._take_snapshots(write.processing_event)
                except Exception:  # recorded all the same; a snapshot only makes the next load faster
                    logger.exception("snapshot after a group commit failed")
        finally:
            self._release(group)

    @contextmanager
    def _changing(self, cls: type[A], aggregate_id: UUID, code: str, act: Act) -> Iterator[A]:
        """The aggregate a command changes: the cached object itself, not a copy (copying a large project
        costs more than the rest of the command). Commands on one aggregate are serialised in this process;
        if anything fails after the aggregate changed, it is dropped from the cache and reloaded next time.
        """
        self._check_date(act)
        with self._lock_for(aggregate_id):
            aggregate = self._get(cls, aggregate_id, code, copy=False)
            if act.expected_version is not None and act.expected_version != aggregate.version:
                raise VersionConflict(f"expected version {act.expected_version}, current is {aggregate.version}",
                                      code="stale-version")
            before = aggregate.version
            try:
                yield aggregate
            except BaseException:
                if aggregate.version != before or aggregate.pending_events:
                    self._evict(aggregate_id)
                    group = self._group()
                    if group is not None and aggregate_id in group.aggregates:
                        group.broken = True  # the group's own copy holds the failed change
                raise

    def _decide(self, cls: type[A], aggregate_id: UUID, code: str, decide: Callable[[A], object],
                after: Callable[[A], T]) -> tuple[Written | None, list[str], T, int, int]:
        """A time-driven rule applied to one object: load, let the aggregate decide, save what it recorded.

        Returns what was written, the event types raised, ``after`` of the object as saved, its version, and how
        many races were lost. A lost race (another writer — another scheduler, say — saved first) is a version
        conflict: the object is reloaded and the rule decides again on what is now recorded, so what the other
        writer raised is never raised twice.
        """
        conflicts = 0
        for _ in range(SCHEDULED_ATTEMPTS):
            with self._lock_for(aggregate_id):
                aggregate = self._get(cls, aggregate_id, code, copy=False)
                try:
                    decide(aggregate)
                    raised = [type(event).__qualname__ for event in aggregate.pending_events]
                    written = self._save(aggregate) if raised else None
                except VersionConflict:
                    conflicts += 1  # _save dropped the object from the cache: the next attempt reloads it
                    continue
                except BaseException:
                    if aggregate.pending_events:
                        self._evict(aggregate_id)
                    raise
                return written, raised, after(aggregate), aggregate.version, conflicts
        raise VersionConflict(f"{aggregate_id} kept changing while a scheduled rule applied to it; it is tried again "
                              "on the next run", code="version-conflict")

    def _sweep_context(self, today: date | None) -> SweepContext:
        params, version = self._rules()
        return SweepContext(today or self.today(), params, version, tuple(self.holidays),
                            tuple(self.working_weekends))

    def _apply_sweep(self, sweep: Sweep[Any], object_id: UUID, today: date | None) -> Written | None:
        context = self._sweep_context(today)
        written, _, _, _, _ = self._decide(sweep.aggregate, object_id, sweep.not_found_code,
                                           lambda aggregate: sweep.decide(aggregate, context), lambda _: None)
        return written

    def sweep(self, name: str, today: date | None = None) -> SweepReport:
        """Run one time-driven rule (``ledger.sweeps.SWEEPS``) for ``today`` over every object it may apply to —
        which the log's indexed columns and the watch list find without replaying the others. Idempotent."""
        sweep = sweep_named(name)
        day = today or self.today()
        covered = self.sweep_watch.refresh(sweep, day)
        context = self._sweep_context(day)  # read after the refresh, so a ruleset it saw adopted is the one used
        raised: Counter[str] = Counter()
        positions: list[int] = []
        visits: list[tuple[UUID, int, date | None]] = []
        conflicts = 0
        candidates = self.sweep_watch.due(sweep, day)
        started = time.monotonic()
        last = self._rechecked.get(name)
        extra: list[UUID] = []
        if last is None or started - last >= self.recheck_interval:
            listed = set(candidates)
            extra = [object_id for object_id in self.sweep_watch.all_objects(sweep) if object_id not in listed]
        missed = 0
        try:
            for index, object_id in enumerate([*candidates, *extra]):
                written, names, check_on, version, lost = self._decide(
                    sweep.aggregate, object_id, sweep.not_found_code,
                    lambda aggregate: sweep.decide(aggregate, context),
                    lambda aggregate: sweep.next_check(aggregate, context))
                if names and index >= len(candidates):
                    missed += 1
                    logger.warning("sweep %s found %s due on %s though its watch list did not: the list in "
                                   "ledger_sweep_watch was wrong (if this repeats, it is being altered)", name,
                                   object_id, day)
                raised.update(names)
                positions += written.positions if written else []
                visits.append((object_id, version, check_on))
                conflicts += lost
        finally:
            self.sweep_watch.checked(sweep, covered, visits)  # what was visited stays visited if a later one fails
        if last is None or started - last >= self.recheck_interval:
            self._rechecked[name] = started
        return SweepReport(name, day, len(candidates), dict(raised), positions, conflicts, len(extra), missed)

    def next_sweep_check(self, after: date) -> date | None:
        """The earliest day after ``after`` on which some sweep has an object due (simulations skip to it)."""
        return self.sweep_watch.next_check(after)

    def ruleset(self) -> Ruleset:
        return self._read(Ruleset, RULESET_ID, "ruleset-not-found")

    def _rules(self) -> tuple[rules.RuleParameters, int]:
        ruleset = self.ruleset()
        return ruleset.parameters(), ruleset.current_version

    # --------------------------------------------------------------- roles

    @staticmethod
    def _require_role(act: Act, *roles: Role) -> None:
        if act.principal.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise Forbidden(f"role {act.principal.role} may not do this (allowed: {allowed})", code="role-not-allowed")

    def _require_own_department(self, act: Act, project: Project, *, finance_too: bool = False) -> None:
        allowed = (Role.DEPARTMENT, Role.FINANCE) if finance_too else (Role.DEPARTMENT,)
        self._require_role(act, *allowed)
        if act.principal.role == Role.DEPARTMENT and not act.principal.acts_for(project.department):
            raise Forbidden(f"{act.principal.organisation} may not act on a project of {project.department}",
                            code="not-own-department")

    # ------------------------------------------------------------ projects

    def project(self, pid: UUID, version: int | None = None) -> Project:
        return self._read(Project, pid, "project-not-found", version)

    def project_id_of(self, year: int, code: str) -> UUID:
        """The id of the project of ``year`` declared under ``code`` (however spelled)."""
        return self.recorded_id(project_ids(fiscal_year(year), code))

    def declare_project(self, act: Act, *, code: str, name: str, kind: str, department: str, fiscal_year_: int,
                        budget_book: str, special_category: str | None, requested: object,
                        new_major: bool) -> Written:
        """申报: a department declares its own project (finance may declare on its behalf)."""
        self._require_role(act, Role.DEPARTMENT, Role.FINANCE)
        self._check_date(act)
        department = text(department, "department")
        if act.principal.role == Role.DEPARTMENT and not act.principal.acts_for(department):
            raise Forbidden(f"{act.principal.organisation} may not declare for {department}", code="not-own-department")
        registered = self.department(department)
        require_not_before(act.effective_on, registered.registered_on, f"{registered.name} was registered")
        if not isinstance(new_major, bool):
            raise InvalidInput("new_major must be true or false", field="new_major")
        code = text(code, "code", max_length=64)
        self._refuse_existing(project_ids(fiscal_year(fiscal_year_), code), f"project {code} of {fiscal_year_}")
        project = Project.declare(
            principal=act.principal, effective_on=act.effective_on, reason=act.reason, evidence=act.evidence,
            code=code, name=text(name, "name"),
            kind=enum_value(ProjectKind, kind, "kind").value, department=department,
            fiscal_year=fiscal_year(fiscal_year_), budget_book=enum_value(BudgetBook, budget_book, "budget_book").value,
            special_category=None if special_category is None
            else enum_value(SpecialCategory, special_category, "special_category").value,
            requested=money(requested, "requested", allow_zero=False), new_major=new_major,
        )
        return self._save_new(project, act=act)

    def assess_ex_ante(self, act: Act, pid: UUID, scores: Mapping[str, object]) -> Written:
        """事前绩效评估 by finance."""
        self._require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.assess_ex_ante(_scores(scores), params, version, act.principal, act.effective_on, act.reason,
                                   act.evidence)
            return self._save(project, act=act)

    def admit_project(self, act: Act, pid: UUID) -> Written:
        """入库 by finance."""
        self._require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.admit(params, act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def submit_goals(self, act: Act, pid: UUID, indicators: list[Indicator]) -> Written:
        """绩效目标申报 by the project's department."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_own_department(act, project)
            project.submit_goals(indicators, params, version, act.principal, act.effective_on, act.reason,
                                 act.evidence)
            return self._save(project, act=act)

    def review_goals(self, act: Act, pid: UUID, rating: str, required_fixes: str = "") -> Written:
        """目标审核 by finance: 优/良/中/差."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.review_goals(enum_value(Grade, rating, "rating").value, reason(required_fixes, "required_fixes"),
                                 act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def approve_budget(self, act: Act, pid: UUID, amount: object) -> Written:
        """预算批复 by finance — refused unless the goals are rated 优/良."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.approve_budget(money(amount, "amount", allow_zero=False), act.principal, act.effective_on,
                                   act.reason, act.evidence)
            return self._save(project, act=act)

    def request_goal_adjustment(self, act: Act, pid: UUID, indicators: list[Indicator]) -> Written:
        """目标调整申请 by the project's department, with a reason."""
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_own_department(act, project)
            project.request_goal_adjustment(indicators, params, act.principal, act.effective_on, act.reason,
                                            act.evidence)
            return self._save(project, act=act)

    def decide_goal_adjustment(self, act: Act, pid: UUID, adjustment_no: int, approve: bool) -> Written:
        """Finance approves (the goals change) or rejects (nothing changes) a goal adjustment."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.decide_goal_adjustment(adjustment_no, approve, act.principal, act.effective_on, act.reason,
                                           act.evidence)
            return self._save(project, act=act)

    def report_monitoring(self, act: Act, pid: UUID, *, month: int, executed: object,
                          indicator_progress: Mapping[str, object], forecast: Mapping[str, object] | None = None,
                          shortfall_reasons: str = "", measures: str = "") -> Written:
        """绩效运行监控: the department reports execution and indicator progress through a month."""
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_own_department(act, project)
            project.report_monitoring(
                _month(month), money(executed, "executed"), _percentages(indicator_progress, "indicator_progress"),
                _percentages(forecast or {}, "forecast"), reason(shortfall_reasons, "shortfall_reasons"),
                reason(measures, "measures"), act.principal, act.effective_on, act.reason, act.evidence,
            )
            return self._save(project, act=act)

    def review_monitoring(self, act: Act, pid: UUID, month: int, opinion: str) -> Written:
        """Finance reviews a monitoring report; any deviation the rules find is recorded with it."""
        self._require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.review_monitoring(_month(month), reason(opinion, "opinion"), act.principal, act.effective_on,
                                      act.reason, act.evidence)
            project.detect_deviation(params, version, self.holidays, act.principal, act.effective_on,
                                     self.working_weekends)
            return self._save(project, act=act)

    def detect_deviation(self, pid: UUID, today: date | None = None, principal: Principal = SYSTEM) -> Written | None:
        """Evaluate the latest monitoring against the rules; record a deviation once per period."""
        if principal.role not in (Role.SYSTEM, Role.FINANCE):
            raise Forbidden("only finance or the scheduler detect deviations", code="role-not-allowed")
        context = self._sweep_context(today)
        written, _, _, _, _ = self._decide(
            Project, pid, "project-not-found",
            lambda project: project.detect_deviation(context.params, context.ruleset_version, context.holidays,
                                                     principal, context.today, context.working_weekends),
            lambda _: None)
        return written

    def order_corrective_action(self, act: Act, pid: UUID, decision: str, amount: object | None = None,
                                deviation_month: int | None = None) -> Written:
        """纠偏 by finance: continue, reallocate, suspend funding, cancel or reduce the budget."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.order_corrective_action(
                enum_value(CorrectiveDecision, decision, "decision").value,
                None if amount is None else money(amount, "amount", allow_zero=False),
                None if deviation_month is None else _month(deviation_month), act.principal, act.effective_on,
                act.reason, act.evidence,
            )
            return self._save(project, act=act)

    def suspend_unanswered_funding(self, pid: UUID, today: date | None = None) -> Written | None:
        """暂缓拨款 raised by the scheduler when a deviation's answer is overdue."""
        return self._apply_sweep(sweep_named("funding-suspension"), pid, today)

    def self_evaluate(self, act: Act, pid: UUID, actuals: Mapping[str, object], executed: object) -> Written:
        """单位自评: the ledger computes the score from the actuals and records inputs, score and ruleset."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_own_department(act, project)
            project.self_evaluate(_actuals(actuals), money(executed, "executed"), params, version, act.principal,
                                  act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def draw_re_evaluation_sample(self, act: Act, year: int, *, seed: str | None = None,
                                  size: int | None = None) -> Written:
        """财政再评价抽查: draw at least the ruleset's rate of the year's self-evaluated projects."""
        self._alone()  # the population is read from the log
        self._require_role(act, Role.FINANCE)
        self._check_date(act)
        params, version = self._rules()
        year = fiscal_year(year)
        if self.exists(sample_id(year)):
            raise RuleViolation(f"the {year} sample has already been drawn", code="already-exists")
        population = self._self_evaluated_projects(year)
        if not population:
            raise RuleViolation(f"no self-evaluated projects in {year} to sample", code="self-evaluation-missing")
        chosen_seed = text(seed, "seed", max_length=128) if seed else secrets.token_hex(16)
        sample = ReEvaluationSample.draw(year, [str(p) for p in population], chosen_seed, size, params, version,
                                         act.principal, act.effective_on, act.reason)
        projects = []
        for selected in sample.selected:
            project = self.project(UUID(selected))
            project.select_for_re_evaluation(str(sample.id), act.principal, act.effective_on)
            projects.append(project)
        return self._save(sample, *projects, act=act)

    def _self_evaluated_projects(self, year: int) -> list[UUID]:
        """Projects of ``year`` with a self-evaluation, read from the log's own columns."""
        topic = get_topic(Project.SelfEvaluated)
        declared = get_topic(Project.Declared)
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT DISTINCT e.originator_id FROM {table} e JOIN {table} d "  # noqa: S608 - table name is ours
                "ON d.originator_id = e.originator_id AND d.topic = %s AND d.originator_version = 1 "
                "WHERE e.topic = %s AND convert_from(d.state, 'UTF8')::jsonb ->> 'fiscal_year' = %s",
                (declared, topic, str(year)),
            )
            return [row["originator_id"] for row in curs.fetchall()]

    def re_evaluation_sample(self, year: int) -> ReEvaluationSample:
        return self._read(ReEvaluationSample, sample_id(year), "sample-not-found")

    def re_evaluate(self, act: Act, pid: UUID, scores: Mapping[str, object]) -> Written:
        """财政再评价 by finance of a project drawn in the sample."""
        self._require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.re_evaluate(_scores(scores), params, version, act.principal, act.effective_on, act.reason,
                                act.evidence)
            return self._save(project, act=act)

    def commission_key_evaluation(self, act: Act, pid: UUID, agency_name: str | None) -> Written:
        """重点评价 commissioned by finance — never to a blacklisted agency or one tied to the department."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            agency = None
            if agency_name is not None:
                agency = self.agency(agency_name)
                # A blacklisting in force when the command is recorded bars it whatever date it states, and so does
                # one in force on the date it states (a commissioning backdated into a blacklisting since ended).
                if agency.is_blacklisted(self.today()) or agency.is_blacklisted(act.effective_on):
                    raise RuleViolation(f"{agency.name} is blacklisted", code="agency-blacklisted")
                require_not_before(act.effective_on, agency.registered_on, f"{agency.name} was registered")
                if key(project.department) in {key(agency.name), key(agency.affiliation or agency.name)}:
                    raise RuleViolation(f"{agency.name} is tied to {project.department} and must recuse (回避)",
                                        code="conflict-of-interest")
            evaluation = f"KE-{project.fiscal_year}-{project.code}-{len(project.key_evaluations) + 1}"
            project.commission_key_evaluation(evaluation, None if agency is None else str(agency.id),
                                              None if agency is None else agency.name, act.principal,
                                              act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def review_key_evaluation(self, act: Act, pid: UUID, evaluation_id: str, what: str, approved: bool) -> Written:
        """两审: finance reviews the agency's plan or its report."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            if what == "plan":
                project.review_key_evaluation_plan(evaluation_id, approved, act.principal, act.effective_on,
                                                   act.reason, act.evidence)
            elif what == "report":
                project.review_key_evaluation_report(evaluation_id, approved, act.principal, act.effective_on,
                                                     act.reason, act.evidence)
            else:
                raise InvalidInput("review what: plan or report", field="what")
            return self._save(project, act=act)

    def note_key_evaluation_supervision(self, act: Act, pid: UUID, evaluation_id: str, notes: str) -> Written:
        """一督导: finance records its supervision of the evaluation."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.note_key_evaluation_supervision(evaluation_id, reason(notes, "notes"), act.principal,
                                                    act.effective_on, act.evidence)
            return self._save(project, act=act)

    def score_key_evaluation(self, act: Act, pid: UUID, evaluation_id: str, scores: Mapping[str, object]) -> Written:
        """The commissioned agency (or finance, when it evaluates itself) records the score."""
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            evaluation = project.key_evaluation(evaluation_id)
            if evaluation["agency_name"] is None:
                self._require_role(act, Role.FINANCE)
            else:
                self._require_role(act, Role.AGENCY)
                if not act.principal.acts_for(evaluation["agency_name"]):
                    raise Forbidden(f"{act.principal.organisation} was not commissioned for {evaluation_id}",
                                    code="not-commissioned")
            project.score_key_evaluation(evaluation_id, _scores(scores), params, version, act.principal,
                                         act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def apply_results(self, act: Act, pid: UUID, decision: str | None = None) -> Written:
        """结果应用 by finance, by default from the grade."""
        self._require_role(act, Role.FINANCE)
        params, version = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            if decision is not None:
                enum_value(rules.ResultApplication, decision, "decision")
            project.apply_results(decision, params, version, act.principal, act.effective_on, act.reason,
                                  act.evidence)
            return self._save(project, act=act)

    def require_rectification(self, act: Act, pid: UUID, issues: list[str], source: str, deadline: date) -> Written:
        """整改 required by finance, with issues, source and deadline."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.require_rectification(
                [reason(issue, f"issues[{i}]", required=True) for i, issue in enumerate(issues)],
                enum_value(RectificationSource, source, "source").value, deadline, act.principal, act.effective_on,
                act.reason, act.evidence,
            )
            return self._save(project, act=act)

    def report_rectification(self, act: Act, pid: UUID, rectification_no: int, measures: str) -> Written:
        """The department reports its rectification measures and evidence."""
        with self._changing(Project, pid, "project-not-found", act) as project:
            self._require_own_department(act, project)
            project.report_rectification(rectification_no, reason(measures, "measures"), act.principal,
                                         act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def decide_rectification(self, act: Act, pid: UUID, rectification_no: int, accept: bool) -> Written:
        """Finance accepts or rejects a rectification report."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.decide_rectification(rectification_no, accept, act.principal, act.effective_on, act.reason,
                                         act.evidence)
            return self._save(project, act=act)

    def mark_rectifications_overdue(self, pid: UUID, today: date | None = None) -> Written | None:
        """Past its deadline an open rectification is recorded overdue, once (scheduler)."""
        return self._apply_sweep(sweep_named("rectifications-overdue"), pid, today)

    def raise_deadline_notices(self, pid: UUID, today: date | None = None,
                               principal: Principal = SYSTEM) -> Written | None:
        """临期提醒 / 逾期: each open obligation's approaching and missed notices, once each (scheduler only)."""
        if not principal.is_system:
            raise Forbidden("deadline notices are raised by the scheduler", code="role-not-allowed")
        return self._apply_sweep(sweep_named("deadlines"), pid, today)

    def disclose(self, act: Act, pid: UUID, what: str) -> Written:
        """信息公开 by finance: goals with the budget draft, results with the final accounts."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.disclose(what, act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    def close_project(self, act: Act, pid: UUID) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.close(act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(project, act=act)

    # --------------------------------------------------------- departments

    def department(self, name: str) -> Department:
        return self._read(Department, self.recorded_id(department_ids(name)), "department-not-found")

    def register_department(self, act: Act, name: str) -> Written:
        """部门登记 by finance (an administrator manages tokens, and records nothing of the domain)."""
        self._require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        self._refuse_existing(department_ids(name), f"department {name}")
        department = Department.register(name, act.principal, act.effective_on, act.reason)
        return self._save_new(department, act=act)

    def set_overall_goals(self, act: Act, name: str, year: int, goals: list[str]) -> Written:
        """部门整体绩效目标, by the department itself or finance."""
        self._require_role(act, Role.DEPARTMENT, Role.FINANCE)
        if act.principal.role == Role.DEPARTMENT and not act.principal.acts_for(name):
            raise Forbidden(f"{act.principal.organisation} may not set goals for {name}", code="not-own-department")
        with self._changing(Department, self.recorded_id(department_ids(name)), "department-not-found",
                            act) as department:
            department.set_overall_goals(fiscal_year(year), [reason(g, f"goals[{i}]", required=True)
                                                             for i, g in enumerate(goals)],
                                         act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(department, act=act)

    def assess_department(self, act: Act, name: str, year: int, scores: Mapping[str, object]) -> Written:
        """综合绩效考评 by finance."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Department, self.recorded_id(department_ids(name)), "department-not-found",
                            act) as department:
            department.assess(fiscal_year(year), _scores(scores), act.principal, act.effective_on, act.reason,
                              act.evidence)
            return self._save(department, act=act)

    # ------------------------------------------------------------ agencies

    def agency(self, name: str) -> Agency:
        return self._read(Agency, self._agency_id(name), "agency-not-found")

    def _agency_id(self, name: str) -> UUID:
        return self.recorded_id(agency_ids(name))

    def register_agency(self, act: Act, name: str, credentials: str, affiliation: str | None = None) -> Written:
        self._require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        self._refuse_existing(agency_ids(name), f"agency {name}")
        agency = Agency.register(name, reason(credentials, "credentials"),
                                 None if affiliation is None else text(affiliation, "affiliation"), act.principal,
                                 act.effective_on, act.reason, act.evidence)
        return self._save_new(agency, act=act)

    def review_agency_quality(self, act: Act, name: str, engagement: str, rating: str, notes: str) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.review_quality(text(engagement, "engagement"), text(rating, "rating", max_length=32),
                                  reason(notes, "notes"), act.principal, act.effective_on, act.evidence)
            return self._save(agency, act=act)

    def record_misconduct(self, act: Act, name: str, kind: str, description: str) -> Written:
        """失信行为 recorded by finance, with evidence."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.record_misconduct(enum_value(Misconduct, kind, "kind").value, reason(description, "description"),
                                     act.principal, act.effective_on, act.evidence)
            return self._save(agency, act=act)

    def blacklist_agency(self, act: Act, name: str, misconduct_nos: list[int] | None = None,
                         public: bool = True) -> Written:
        """列入失信黑名单 for the ruleset's period; requires recorded misconduct."""
        self._require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            until = rules.blacklist_until(act.effective_on, params)
            agency.blacklist(list(misconduct_nos or []), until, public, act.principal, act.effective_on, act.reason,
                             act.evidence)
            return self._save(agency, act=act)

    def lift_blacklisting(self, act: Act, name: str) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.lift_blacklisting(act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(agency, act=act)

    def expire_blacklistings(self, name: str, today: date | None = None) -> Written | None:
        """失信黑名单期满: a blacklisting whose period has ended is recorded expired, once (scheduler)."""
        return self._apply_sweep(sweep_named("blacklist-expiry"), self._agency_id(name), today)

    # ------------------------------------------- indicator library, rules

    def indicator_library(self) -> IndicatorLibrary:
        return self._read(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found")

    def define_indicator(self, act: Act, code: str, definition: dict[str, str]) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.define(_library_code(library, text(code, "code", max_length=64)), _definition(definition),
                           act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(library, act=act)

    def revise_indicator(self, act: Act, code: str, definition: dict[str, str]) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.revise(_library_code(library, code), _definition(definition), act.principal, act.effective_on,
                           act.reason, act.evidence)
            return self._save(library, act=act)

    def retire_indicator(self, act: Act, code: str) -> Written:
        self._require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.retire(_library_code(library, code), act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(library, act=act)

    def adopt_ruleset(self, act: Act, version: int, parameters: dict[str, Any]) -> Written:
        """Finance adopts a new ruleset; what was decided under the old one stays as it was."""
        self._require_role(act, Role.FINANCE)
        with self._changing(Ruleset, RULESET_ID, "ruleset-not-found", act) as ruleset:
            ruleset.adopt(version, parameters, act.principal, act.effective_on, act.reason, act.evidence)
            return self._save(ruleset, act=act)

    # -------------------------------------------------------------- reads

    def history(self, aggregate_id: UUID, *, missing: str = "object-not-found") -> list[HistoryEntry]:
        """Every event of one object, in order, with its log position and hashes (for auditors)."""
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT leaf_index, originator_version, topic, state, leaf_hash, chain_hash, recorded_at "  # noqa: S608
                f"FROM {table} WHERE originator_id = %s ORDER BY originator_version", (aggregate_id,))
            rows = curs.fetchall()
        entries = []
        for row in rows:
            event: Any = self.mapper.to_domain_event(StoredEvent(aggregate_id, row["originator_version"],
                                                                 row["topic"], bytes(row["state"])))
            payload = {key: value for key, value in vars(event).items() if key not in _ENVELOPE}
            entries.append(HistoryEntry(
                leaf_index=row["leaf_index"], version=row["originator_version"],
                event_type=type(event).__qualname__, leaf_hash=bytes(row["leaf_hash"]).hex(),
                chain_hash=bytes(row["chain_hash"]).hex(), recorded_at=row["recorded_at"],
                effective_on=event.effective_on, principal=event.principal, reason=event.reason,
                evidence=list(event.evidence), payload=payload,
            ))
        if not entries:
            raise NotFound(f"nothing recorded for {aggregate_id}", code=missing)
        return entries

    def object(self, aggregate_id: UUID, version: int | None = None) -> LedgerAggregate:
        """Any object of the ledger (a project, department, agency, …) as of ``version`` (default: now)."""
        return self._read(LedgerAggregate, aggregate_id, "object-not-found", version)

    def version_as_of(self, aggregate_id: UUID, instant: datetime) -> int:
        """The object's version as recorded at ``instant`` (transaction time); 0 if it did not exist yet."""
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT coalesce(max(originator_version), 0) AS version FROM {table} "  # noqa: S608
                         "WHERE originator_id = %s AND recorded_at <= %s", (aggregate_id, instant))
            row = curs.fetchone()
        return int(row["version"]) if row else 0

    def project_ids(self) -> list[UUID]:
        """Every project's id, in declaration order (for the demo and tools; queries use projections)."""
        topic = get_topic(Project.Declared)
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT originator_id FROM {table} WHERE topic = %s ORDER BY leaf_index",  # noqa: S608
                         (topic,))
            return [row["originator_id"] for row in curs.fetchall()]

    def head(self) -> int:
        """The number of events in the log (the next leaf index)."""
        table = self.log_recorder.events_table_name
        with self.log_recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM {table}")  # noqa: S608
            row = curs.fetchone()
            assert row is not None
            return int(row["size"])


def _library_code(library: IndicatorLibrary, code: str) -> str:
    """The code as the indicator library recorded it, for any spelling of it (as given if it has none)."""
    wanted = key(code)
    return next((known for known in library.indicators if key(known) == wanted), code)


def _scores(scores: Mapping[str, object]) -> dict[str, Decimal]:
    if not isinstance(scores, Mapping):
        raise InvalidInput("scores must be an object of dimension: score", field="scores")
    return {text(k, "scores", max_length=64): number(v, f"scores.{k}") for k, v in scores.items()}


def _percentages(values: Mapping[str, object], field_name: str) -> dict[str, Decimal]:
    result = {}
    for name, value in values.items():
        pct = number(value, f"{field_name}.{name}")
        if not Decimal(0) <= pct <= Decimal(1000):
            raise InvalidInput(f"{field_name}.{name} must be a percentage 0-1000", field=f"{field_name}.{name}")
        result[text(name, field_name, max_length=64)] = pct
    return result


def _actuals(actuals: Mapping[str, object]) -> dict[str, Decimal | str]:
    result: dict[str, Decimal | str] = {}
    for name, value in actuals.items():
        if isinstance(value, str) and value in {q.value for q in Qualitative}:
            result[name] = value
        else:
            result[name] = number(value, f"actuals.{name}")
    return result


def _month(month: object) -> int:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InvalidInput("month must be 1 to 12", field="month")
    return month


def _definition(definition: dict[str, str]) -> dict[str, str]:
    return {key: text(value, f"definition.{key}", max_length=400, required=key in {"name", "level1", "level2",
                                                                                  "operator"})
            for key, value in definition.items()}


__all__ = ["Act", "CommandAlreadyRecorded", "CommandKey", "Ledger", "Stage", "Written", "WrittenEvent", "project_id"]
