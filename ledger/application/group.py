"""Group commit: commands decided one after another, as if each ran alone, and recorded in one append.

Each command of a group decides on the objects as the ones before it left them (the changed objects stay cached,
and locked, until recorded); then every event of the group is appended in one transaction — one round trip, one
commit, one turn of the log's lock for all of them. The ledger's save hands a command's changes to the group its
thread is deciding (:meth:`GroupCommit.defer`) instead of appending them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import DataError, Mapper, RecordConflictError, StoredEvent

from ledger.application.acts import Written, WrittenEvent
from ledger.application.cache import LogTailCache
from ledger.domain.base import LedgerAggregate
from ledger.store.recorder import CommandRecord, LedgerRecorder

T = TypeVar("T")
logger = logging.getLogger(__name__)


class RunAlone(Exception):
    """Raised in a group with writes pending by a command that reads the log itself: it must run in a new group."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What running a command came to: its result, or the exception it raised."""

    value: T | None = None
    error: BaseException | None = None

    @classmethod
    def of(cls, command: Callable[[], T]) -> Outcome[T]:
        try:
            return cls(value=command())
        except RunAlone:
            raise
        except Exception as error:  # the command's own failure, handed to whoever ran it
            return cls(error=error)


@dataclass
class GroupedWrite:
    """One command's changes in a group: its events (and their stored form), its idempotency key, its Written."""

    processing_event: ProcessingEvent[UUID]
    stored: list[StoredEvent]
    command: CommandRecord | None
    written: Written


@dataclass
class Group:
    """Commands decided one after another and recorded together: their writes, the objects they changed (cached
    with the changes, so each command sees the ones before it), and the per-object locks held until recorded."""

    writes: list[GroupedWrite] = field(default_factory=list)
    aggregates: dict[UUID, LedgerAggregate] = field(default_factory=dict)
    locks: list[threading.RLock] = field(default_factory=list)
    broken: bool = False  # a command failed part-way through changing one of them: the group cannot be recorded

    def recorded_command(self, principal_id: str, key: str) -> tuple[bytes, Written] | None:
        """The command decided earlier in this group under this idempotency key (its request fingerprint and what
        it wrote — its positions arrive with the group's, the lists are shared), or None."""
        for write in self.writes:
            if write.command is not None and (write.command.principal_id, write.command.key) == (principal_id, key):
                mine = write.written
                return write.command.fingerprint, Written(
                    mine.aggregate_id, mine.version, mine.positions, mine.events, replayed=True
                )
        return None

    def release(self) -> None:
        for lock in self.locks:
            lock.release()
        self.locks.clear()


class GroupCommit:
    """Runs commands in groups (:meth:`run`), one group per thread at a time; what the ledger saves while its
    thread decides a group is deferred to the group (:meth:`defer`) and appended with it.

    What a group needs of the ledger: its ``cache`` (refreshed before each group, holding the changed objects until
    recorded), its ``recorder`` (the append), its ``mapper`` (the events' stored form), ``lock_for`` (the lock that
    serialises commands on one object) and ``take_snapshots`` (after the append, as the library's save would).
    """

    def __init__(
        self,
        cache: LogTailCache,
        recorder: LedgerRecorder,
        mapper: Mapper[UUID],
        lock_for: Callable[[UUID], threading.RLock],
        take_snapshots: Callable[[ProcessingEvent[UUID]], None],
    ) -> None:
        self.cache = cache
        self.recorder = recorder
        self.mapper = mapper
        self.lock_for = lock_for
        self.take_snapshots = take_snapshots
        self._local = threading.local()  # .group: the Group this thread is deciding, if any

    def current(self) -> Group | None:
        """The group this thread is deciding, if any."""
        group: Group | None = getattr(self._local, "group", None)
        return group

    def run(self, commands: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
        """Run ``commands`` one after another, as if each ran alone, and record what they decide in one append.

        If that append fails on a conflict (another process wrote one of the objects, or an idempotency key was
        used twice), nothing was recorded: the group's objects are reloaded and its commands run again one at a
        time, each recorded on its own, so each gets the outcome it would have had alone. A command that reads the
        log itself (the re-evaluation sample: :meth:`alone`) starts a new group, so it sees everything before it
        recorded.
        """
        if len(commands) == 1:  # nothing to group: recorded as it is decided
            return [Outcome.of(commands[0])]
        outcomes: list[Outcome[T]] = []
        start = 0
        while start < len(commands):
            try:
                self.cache.refresh()
            except Exception as error:  # the database is unreachable: the rest fail, what was recorded stands
                outcomes.extend(Outcome(error=error) for _ in commands[start:])
                break
            group = Group()
            self._local.group = group
            decided: list[Outcome[T]] = []
            try:
                for command in commands[start:]:
                    try:
                        decided.append(Outcome.of(command))
                    except RunAlone:
                        break
                    if group.broken:
                        break
            except BaseException:  # not a command's failure (an interrupt, say): record nothing, hold nothing
                self.abandon(group)
                raise
            finally:
                self._local.group = None
            if not decided:  # cannot happen: a group's first command has nothing before it to wait for
                self.abandon(group)
                raise RuntimeError("a command asked to run alone in a group of its own")
            end = start + len(decided)
            if group.broken:  # its objects may hold a failed command's changes: nothing of it is recorded
                self.abandon(group)
                outcomes.extend(Outcome.of(command) for command in commands[start:end])
                start = end
                continue
            try:
                self._record(group)
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

    def alone(self) -> None:
        """For a command that reads the log with SQL: it may not run after unrecorded changes of its group."""
        group = self.current()
        if group is not None and group.writes:
            raise RunAlone

    def defer(self, group: Group, aggregates: Sequence[LedgerAggregate], command: CommandRecord | None) -> Written:
        """Take the changes of ``aggregates`` into ``group``, to be appended with it; their Written is completed
        then."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:  # as ProcessingEvent.collect_events, without its checks against protocols
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        stored = [self.mapper.to_stored_event(event) for event in processing_event.events]
        first = aggregates[0]
        written = Written(first.id, first.version, [], [])
        group.writes.append(GroupedWrite(processing_event, stored, command, written))
        for aggregate in aggregates:
            # Held until the group is recorded: no other thread builds on, or reads, changes not yet recorded.
            lock = self.lock_for(aggregate.id)
            lock.acquire()
            group.locks.append(lock)
            group.aggregates[aggregate.id] = aggregate
            self.cache.put(aggregate)  # the next command of the group builds on it
        return written

    def abandon(self, group: Group) -> None:
        """Drop a group that will not be recorded: its changed objects leave the cache, its locks are released."""
        self.cache.evict(*group.aggregates)
        group.release()

    def _record(self, group: Group) -> None:
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
                self.recorder.insert_events(stored, commands=keys)
            except BaseException:
                self.cache.evict(*group.aggregates)  # under the group's locks: nobody has read them meanwhile
                raise
            positions = self.recorder.take_written_positions()
            offset = 0
            for write in group.writes:
                mine = positions[offset : offset + len(write.stored)]
                offset += len(write.stored)
                write.written.positions.extend(mine)
                write.written.events.extend(
                    WrittenEvent.of(position, event)
                    for position, event in zip(mine, write.processing_event.events, strict=True)
                )
                try:
                    self.take_snapshots(write.processing_event)
                except Exception:  # recorded all the same; a snapshot only makes the next load faster
                    logger.exception("snapshot after a group commit failed")
        finally:
            group.release()
