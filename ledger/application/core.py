"""The ledger's core: the library's hooks, and a use case's three steps — load, decide, save — with its checks.

One eventsourcing ``Application`` holds every aggregate, so there is one events table, one global order and one
integrity log. A use case (:mod:`.projects`, :mod:`.organisations`, :mod:`.catalogue`, :mod:`.sweeps`) loads the
object it changes (:meth:`LedgerCore._changing`), calls one of its command methods, and saves it
(:meth:`LedgerCore.commit`), which returns a :class:`~ledger.application.acts.Written` with the object's new
version and the log positions (leaf indexes) written, for read-your-writes and for proofs. Under an idempotency key
a use case is recorded once (:func:`use_case`, :meth:`LedgerCore._once`), in the same transaction as its events.

Over 500 lines: beside the three steps, the lookups every use-case area shares (an organisation by name, the ruleset
and the working calendar in force); split them into a room of their own when the next area adds one.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    RecordConflictError,
)
from eventsourcing.utils import Environment, EnvType
from psycopg.conninfo import conninfo_to_dict

from ledger.application.acts import Act, Written, WrittenEvent
from ledger.application.cache import LogTailCache
from ledger.application.group import GroupCommit, Outcome
from ledger.domain import rules
from ledger.domain.agencies import Agency, agency_ids
from ledger.domain.base import EARLIEST_EFFECTIVE_ON, LedgerAggregate, require_not_before
from ledger.domain.calendar import WORKING_CALENDAR_ID, CalendarSettings, CalendarSource, WorkingCalendar, WorkingDays
from ledger.domain.catalogue import RULESET_ID, IndicatorLibrary, Ruleset
from ledger.domain.congress import CongressSubmission
from ledger.domain.decisions import Decision
from ledger.domain.disclosure import DisclosureDuty
from ledger.domain.draw import ReEvaluationSample
from ledger.domain.errors import DomainError, InvalidInput, NotFound, RuleViolation, VersionConflict
from ledger.domain.organisations import Department, Unit, department_ids, unit_id
from ledger.domain.project import Project
from ledger.domain.reports import require_report
from ledger.domain.values import Principal
from ledger.log.checkpoint import SigningKey, VerifierKey
from ledger.store.reads import LogReads
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
from ledger.store.tables import EVENTS, SNAPSHOTS
from ledger.store.transcodings import register_ledger_transcodings

A = TypeVar("A", bound=LedgerAggregate)
T = TypeVar("T")
L = TypeVar("L", bound="LedgerCore")
P = ParamSpec("P")

SNAPSHOT_INTERVAL = 50


def environment_for(database_url: str) -> dict[str, str]:
    """The eventsourcing environment for a PostgreSQL connection URL: every library setting the ledger depends on,
    pinned (the ledger reads none from the process environment: :meth:`LedgerCore.construct_env`)."""
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
        # Connections are checked on checkout without a round trip (store.recorder.check_on_checkout), not pinged.
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
        # cache from the log's tail instead, once per command or per group of commands (LogTailCache.refresh).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "AGGREGATE_CACHE_FASTFORWARD_SKIPPING": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }


def use_case(method: Callable[Concatenate[L, Act, P], Written]) -> Callable[Concatenate[L, Act, P], Written]:
    """Mark a method as a use case acting under its first argument, an :class:`Act`: under an idempotency key it
    is recorded once, however often it is retried (:meth:`LedgerCore._once`) — over HTTP, from the CLI, in the
    demo alike."""

    @functools.wraps(method)
    def recorded_once(self: L, act: Act, /, *args: P.args, **kwargs: P.kwargs) -> Written:
        if act.command is None:
            return method(self, act, *args, **kwargs)
        return self._once(act, lambda: method(self, act, *args, **kwargs))

    return recorded_once


class LedgerCore(Application[UUID]):
    """The library's application, with the ledger's recorder, snapshots, cache and group commit; load, decide,
    save."""

    name = "Ledger"  # tables ledger_events and ledger_snapshots
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = dict.fromkeys(
        (
            Project,
            Department,
            Unit,
            Agency,
            IndicatorLibrary,
            Ruleset,
            ReEvaluationSample,
            Decision,
            CongressSubmission,
            DisclosureDuty,
        ),
        SNAPSHOT_INTERVAL,
    )
    snapshot_recorder_class: ClassVar[type[SnapshotRecorder]] = SnapshotRecorder
    """What stores the snapshots (the benchmarks swap in one without authentication, to price it)."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        holidays: list[date] | None = None,
        working_weekends: list[date] | None = None,
        calendar_source: CalendarSource | None = None,
        create_schema: bool = True,
        timezone: tzinfo = UTC,
        signing_key: SigningKey | None = None,
        trusted_keys: Sequence[VerifierKey] = (),
        recheck_interval: float = 86_400.0,
    ) -> None:
        """``create_schema=False`` for a service role that may only INSERT and SELECT: the owner creates the
        schema beforehand (``jixiao db migrate``). ``timezone``: where business dates are reckoned ("today"), the
        bureau's own. ``holidays`` and ``working_weekends`` (调休上班日): additions to a year of the working calendar
        when the log first records it from ``calendar_source`` (:mod:`ledger.application.calendar`); never read again.

        ``signing_key``: the log's key, which authenticates the snapshots this ledger takes; snapshots are loaded
        only when they verify under it or one of ``trusted_keys`` (keys the log signed with before). Without a key
        no snapshot is taken and none is trusted: every load replays the aggregate's events.

        ``recheck_interval``: seconds between a sweep's full passes over every object of its kind in this process
        (see :mod:`ledger.domain.sweeps`); the first run of each sweep is one."""
        self.snapshot_authenticator = SnapshotAuthenticator(signing_key, trusted_keys)
        self.create_schema = create_schema
        self.database_url = database_url
        self.timezone = timezone
        self.clock = clock or (lambda: datetime.now(UTC))
        self.calendar_settings = CalendarSettings(frozenset(holidays or ()), frozenset(working_weekends or ()))
        self.calendar_source = calendar_source
        # The recorded calendar's days, kept for the event read (version and time: a failed group's may be reused).
        self._working_days: tuple[tuple[int, datetime], WorkingDays] | None = None
        # Commands on one object are serialised in this process (stripes of reentrant locks: a command may read
        # another object while it changes one, and a group holds the locks of everything it changed).
        self._command_locks = [threading.RLock() for _ in range(64)]
        self._refreshed = threading.local()  # set while a command reads under one refresh (_one_refresh)
        self.recheck_interval = recheck_interval
        self._rechecked: dict[str, float] = {}  # sweep -> monotonic time of this process's last full pass
        super().__init__(env={**environment_for(database_url), "CREATE_TABLE": "y" if create_schema else "n"})
        self.reads = LogReads(self.log_recorder.datastore, self.log_recorder.events_table_name)
        self.cache = LogTailCache(self.repository, self.reads)
        self.groups = GroupCommit(self.cache, self.log_recorder, self.mapper, self.lock_for, self._take_snapshots)
        self.sweep_watch = SweepWatch(self.log_recorder.datastore, self.log_recorder.events_table_name)
        if create_schema:
            self.sweep_watch.create_tables()

    # ------------------------------------------------------------ the library's hooks

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's settings as given (:func:`environment_for`), never the process environment's.

        The library would read any of them from ``os.environ``, its name-prefixed spelling (``LEDGER_…``) first: a
        ``COMPRESSOR_TOPIC`` or ``CIPHER_KEY`` there changed the stored bytes (start-up failed reading them back),
        a ``LEDGER_PERSISTENCE_MODULE`` put the log in another store.
        """
        return Environment(name, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        """The library's factory, its pool checking each connection as it hands it out (after a database restart
        the idle ones are dead; see :func:`ledger.store.recorder.check_on_checkout`)."""
        factory = super().construct_factory(env)
        check_on_checkout(factory.datastore.pool)  # type: ignore[attr-defined]
        return factory

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)

    def construct_recorder(self) -> ApplicationRecorder:
        datastore = self.factory.datastore  # type: ignore[attr-defined]
        recorder = LedgerRecorder(datastore, events_table_name=EVENTS)
        if self.create_schema:
            recorder.create_table()
        return recorder

    def construct_snapshot_store(self) -> EventStore[UUID]:
        datastore = self.factory.datastore  # type: ignore[attr-defined]
        recorder = self.snapshot_recorder_class(
            datastore,
            events_table_name=SNAPSHOTS,
            log_table_name=self.log_recorder.events_table_name,
            authenticator=self.snapshot_authenticator,
        )
        if self.create_schema:
            recorder.create_table()
        self._snapshot_writer = SnapshotWriter(recorder)
        return EventStore(self.mapper, recorder)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot the aggregate already in memory, instead of the library's re-read and replay of it; encoded
        here, while the aggregate is at the version it records, and stored by a thread of its own
        (:mod:`ledger.store.snapshots`)."""
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

    # ------------------------------------------------------------ the caller's act

    def today(self) -> date:
        """The business date now, in the ledger's time zone."""
        return self.clock().astimezone(self.timezone).date()

    def act(
        self,
        principal: Principal,
        *,
        effective_on: date | None = None,
        reason: str = "",
        evidence: list[str] | None = None,
        expected_version: int | None = None,
    ) -> Act:
        return Act(principal, effective_on or self.today(), reason, list(evidence or []), expected_version)

    def _check_date(self, act: Act) -> None:
        """Every command's business date: not after today where the ledger is (it records no future), nor before the
        first fiscal year's preparation; the object it concerns bounds it further from below."""
        today = self.today()
        if act.effective_on > today:
            raise InvalidInput(
                f"effective_on {act.effective_on} is after today ({today}, {self.timezone})",
                code="effective-date-in-future",
                field="effective_on",
            )
        require_not_before(act.effective_on, EARLIEST_EFFECTIVE_ON, "the first fiscal year's preparation opened")

    # ------------------------------------------------------------ load

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

    def lock_for(self, aggregate_id: UUID) -> threading.RLock:
        """The lock that serialises this process's commands on one object."""
        return self._command_locks[aggregate_id.int % len(self._command_locks)]

    def _get(self, cls: type[A], aggregate_id: UUID, code: str, version: int | None = None, *, copy: bool = True) -> A:
        group = self.groups.current()
        # a group refreshed when it began, and so did a command reading under one refresh
        if version is None and group is None and not getattr(self._refreshed, "held", False):
            self.cache.refresh()
        pinned = group.aggregates.get(aggregate_id) if group is not None and version is None else None
        try:
            if pinned is not None:  # changed earlier in the group: as that left it, whatever the cache did since
                aggregate: object = deepcopy(pinned) if copy else pinned
            else:
                aggregate = self.cache.load(aggregate_id, version, copy)
        except AggregateNotFoundError:
            raise NotFound(f"{cls.__name__.lower()} {aggregate_id} not found", code=code) from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{aggregate_id} is not a {cls.__name__.lower()}", code=code)
        return aggregate

    @contextmanager
    def _one_refresh(self) -> Iterator[None]:
        """Read the objects a command needs under one refresh of the cache, made on entering: each reflects every
        event recorded before the command began, as if they had been read at once (the object the command changes is
        still checked by optimistic concurrency when it is saved). A command that reads several objects pays for one
        look at the log's tail instead of one per object."""
        if getattr(self._refreshed, "held", False) or self.groups.current() is not None:
            yield
            return
        self.cache.refresh()
        self._refreshed.held = True
        try:
            yield
        finally:
            self._refreshed.held = False

    def _read(self, cls: type[A], aggregate_id: UUID, code: str, version: int | None = None) -> A:
        """A private copy of an aggregate, safe to keep or change without touching the cache."""
        with self.lock_for(aggregate_id):
            return self._get(cls, aggregate_id, code, version)

    def project(self, pid: UUID, version: int | None = None) -> Project:
        return self._read(Project, pid, "project-not-found", version)

    def department(self, name: str) -> Department:
        return self._read(Department, self.recorded_id(department_ids(name)), "department-not-found")

    def unit(self, name: str) -> Unit:
        """The budget unit (预算单位) registered as ``name`` (in any spelling)."""
        return self._read(Unit, unit_id(name), "unit-not-found")

    def organisation(self, name: str) -> Department | Unit:
        """The department or the budget unit registered as ``name``, in any spelling (a name names one of them only:
        :mod:`ledger.application.organisations`); NotFound ``department-not-found`` if neither is."""
        if self.exists(unit_id(name)):
            return self.unit(name)
        if any(self.exists(candidate) for candidate in department_ids(name)):
            return self.department(name)
        raise NotFound(f"no department or budget unit named {name}", code="department-not-found")

    def agency(self, name: str) -> Agency:
        return self._read(Agency, self._agency_id(name), "agency-not-found")

    def _agency_id(self, name: str) -> UUID:
        return self.recorded_id(agency_ids(name))

    def ruleset(self) -> Ruleset:
        return self._read(Ruleset, RULESET_ID, "ruleset-not-found")

    def _rules(self) -> tuple[rules.RuleParameters, int]:
        """The rule parameters in force, and their ruleset version."""
        ruleset = self.ruleset()
        return ruleset.parameters(), ruleset.current_version

    def working_days(self) -> WorkingDays:
        """The working-day calendar as the log records it now, with its version (kept until the calendar changes)."""
        with self.lock_for(WORKING_CALENDAR_ID):
            calendar = self._get(WorkingCalendar, WORKING_CALENDAR_ID, "calendar-not-found", copy=False)
            read_at = (calendar.version, calendar.modified_on)
            if self._working_days is None or self._working_days[0] != read_at:
                self._working_days = (read_at, calendar.working_days())
            return self._working_days[1]

    # ------------------------------------------------------------ decide

    @contextmanager
    def _changing(self, cls: type[A], aggregate_id: UUID, code: str, act: Act) -> Iterator[A]:
        """The aggregate a command changes: the cached object itself, not a copy (copying a large project
        costs more than the rest of the command). Commands on one aggregate are serialised in this process;
        if anything fails after the aggregate changed, it is dropped from the cache and reloaded next time.
        """
        self._check_date(act)
        with self.lock_for(aggregate_id):
            aggregate = self._get(cls, aggregate_id, code, copy=False)
            if act.expected_version is not None and act.expected_version != aggregate.version:
                raise VersionConflict(
                    f"expected version {act.expected_version}, current is {aggregate.version}", code="stale-version"
                )
            before = aggregate.version
            try:
                yield aggregate
            except BaseException:
                if aggregate.version != before or aggregate.pending_events:
                    self.cache.evict(aggregate_id)
                    group = self.groups.current()
                    if group is not None and aggregate_id in group.aggregates:
                        group.broken = True  # the group's own copy holds the failed change
                raise

    # ------------------------------------------------------------ save

    def commit(self, *aggregates: LedgerAggregate, act: Act | None = None) -> Written:
        """Save what ``aggregates`` decided — at once, or with the group this thread is deciding — under ``act``'s
        idempotency key, if any; what was written, with its log positions."""
        try:
            for aggregate in aggregates:
                for event in aggregate.pending_events:
                    require_report(event)  # a step the sources name a report for is recorded with one
        except InvalidInput:
            self.cache.evict(*(aggregate.id for aggregate in aggregates))
            raise
        first = aggregates[0]
        command = None
        if act is not None and act.command is not None:
            command = CommandRecord(act.principal.id, act.command.key, act.command.fingerprint, first.id, first.version)
        group = self.groups.current()
        if group is not None:
            return self.groups.defer(group, aggregates, command)
        try:
            recordings = self.save(*aggregates, command=command)
        except BaseException as error:
            self.cache.evict(*(aggregate.id for aggregate in aggregates))  # the cache must not keep unsaved changes
            if not isinstance(error, RecordConflictError):
                raise
            if command is not None and is_command_conflict(error):
                raise CommandAlreadyRecorded(command.principal_id, command.key) from None
            raise VersionConflict(
                "another change to the same object was recorded first; reload and retry", code="version-conflict"
            ) from None
        positions = self.log_recorder.take_written_positions()
        events = [
            WrittenEvent.of(position, recording.domain_event)
            for position, recording in zip(positions, recordings, strict=True)
        ]
        return Written(first.id, first.version, positions, events)

    def _commit_new(
        self, aggregate: LedgerAggregate, *, ignore_existing: bool = False, act: Act | None = None
    ) -> Written:
        try:
            return self.commit(aggregate, act=act)
        except VersionConflict:
            if ignore_existing:
                return Written(aggregate.id, aggregate.version, [])
            raise RuleViolation(
                f"{type(aggregate).__name__.lower()} {aggregate.id} already exists", code="already-exists"
            ) from None

    def run_together(self, commands: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
        """Run ``commands`` as if each ran alone, recording what they decide in one append (group commit:
        :meth:`ledger.application.group.GroupCommit.run`)."""
        return self.groups.run(commands)

    # ------------------------------------------------------------ once per idempotency key

    def _once(self, act: Act, command: Callable[[], Written]) -> Written:
        """``command`` as the ledger records it under ``act``'s idempotency key: recorded once, answered alike.

        A key already recorded answers with what it wrote (``replayed``), and refuses a different request; a
        command that loses the race for its key to a concurrent retry, or is refused because the first attempt was
        recorded while it decided, answers as that attempt did."""
        written = self._recorded(act)
        if written is not None:
            return written
        try:
            return command()
        except (CommandAlreadyRecorded, DomainError):
            written = self._recorded(act)
            if written is None:
                raise
            return written

    def _recorded(self, act: Act) -> Written | None:
        """What an earlier command under this act's key wrote; refused if that command was a different request."""
        if act.command is None:
            return None
        found = self.recorded_command(act.principal.id, act.command.key)
        if found is None:
            return None
        fingerprint, written = found
        if fingerprint != act.command.fingerprint:
            raise InvalidInput(
                f"Idempotency-Key {act.command.key!r} was used for a different request",
                code="idempotency-key-reused",
                field="Idempotency-Key",
            )
        return written

    def recorded_command(self, principal_id: str, key: str) -> tuple[bytes, Written] | None:
        """The command an idempotency key already recorded (its request fingerprint and what it wrote), or None."""
        group = self.groups.current()
        decided = group.recorded_command(principal_id, key) if group is not None else None
        if decided is not None:
            return decided
        found = self.log_recorder.select_command(principal_id, key)
        if found is None:
            return None
        fingerprint, aggregate_id, version, positions = found
        events = [
            WrittenEvent.of(position, self.mapper.to_domain_event(stored))
            for position, stored in self.reads.events_at(positions)
        ]
        return fingerprint, Written(aggregate_id, version, positions, events, replayed=True)
