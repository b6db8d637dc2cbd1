"""The aggregate cache as a class of its own, kept true to a log that other processes append to.

The library's repository keeps recently used aggregates in memory (its ``LRUCache``). Another process or replica
may record a change to one of them at any time, so before a command (or a group of them) decides, the cache reads
the log's tail since it last looked — one indexed read covers every object, where the library's fast-forward read
each object's new events on every use (``AGGREGATE_CACHE_FASTFORWARD`` is off: :func:`environment_for`) — and
forgets the objects that changed.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from uuid import UUID

from eventsourcing.application import Repository

from ledger.domain.base import LedgerAggregate
from ledger.store.reads import LogReads

REFRESH_PAGE = 1000  # log positions read at a time when the cache catches up with the log
REFRESH_PAGES = 5  # further behind than this many pages (a long idle), the cached objects are checked instead
NEWEST_KEPT = 8192  # latest versions the refresh remembers (LogTailCache.load); more than one refresh reads


class LogTailCache:
    """The repository's cache of aggregates, refreshed from the log's tail.

    :meth:`refresh` forgets every cached object changed in the log since the last refresh; :meth:`load` reads an
    object through the repository (from the cache, or from the log and into the cache) and makes sure a load that
    raced a refresh does not keep a stale object. ``seen``: every log position below it is reflected in the cache;
    ``jumps``: how many refreshes went straight to the log's head (the first, and any after a long idle).
    ``page`` and ``pages``: positions read at a time, and how many pages behind the refresh jumps instead.
    """

    def __init__(
        self, repository: Repository[UUID], reads: LogReads, *, page: int = REFRESH_PAGE, pages: int = REFRESH_PAGES
    ) -> None:
        self.repository = repository
        self.reads = reads
        self.page = page
        self.pages = pages
        self.seen: int | None = None
        self.jumps = 0
        self._lock = threading.Lock()
        # The latest version the refresh saw recorded, for recently changed objects: a load that began before
        # the refresh read the log, and put its object in the cache after, is caught by it (load).
        self._newest: OrderedDict[UUID, int] = OrderedDict()

    def refresh(self) -> None:
        """Forget the cached objects that changed in the log since the last refresh (another process or replica
        wrote them). Every event recorded before the call is then reflected in what the cache holds or is read
        afresh.

        The first call, and a call more than ``pages`` pages behind (after a long idle while others wrote), ask
        instead for the latest version of each cached object (by primary key) and go on from the log's head.
        Objects a group has changed and not yet recorded are ahead of the log and stay cached."""
        cache = self.repository.cache
        if cache is None:
            return
        with self._lock:
            changed: list[tuple[UUID, int]] = []
            with self.reads.tail() as tail:
                seen = self.seen
                read, last = 0, None
                while seen is not None:
                    page = tail.page(seen + read, seen + read + self.page)
                    read += len(page)
                    changed += [(originator_id, version) for _, originator_id, version in page]
                    last = page[-1][0] if page else last
                    if len(page) < self.page:
                        seen = last + 1 if last is not None else seen
                        break
                    if read >= self.pages * self.page:
                        seen = None
                if seen is None:
                    seen = tail.head()
                    cached = list(cache.cache.copy())  # a copy in one step: other threads may be using the cache
                    changed = tail.latest_versions(cached)
                    self.jumps += 1  # a load that began before this cannot be checked against _newest: load()
            for originator_id, version in changed:
                self._remember_newest(originator_id, version)
                try:
                    aggregate = cache.get(originator_id)
                except KeyError:
                    continue
                if aggregate.version < version:
                    self.evict(originator_id)
            self.seen = seen

    def load(self, aggregate_id: UUID, version: int | None, copy: bool) -> object:
        """The aggregate from the cache or the log; one read before another process's change, and cached after the
        refresh that saw it, is read again (stale three times over, it is used — a save would conflict — but not
        kept). Raises the library's ``AggregateNotFoundError`` if nothing is recorded under ``aggregate_id``."""
        aggregate: object = None
        for _ in range(3):
            jumps, missed = self.jumps, not self.holds(aggregate_id)
            aggregate = self.repository.get(aggregate_id, version=version, deepcopy_from_cache=copy)
            if (
                version is not None
                or not missed
                or not isinstance(aggregate, LedgerAggregate)
                or not self.is_stale(aggregate, jumps)
            ):
                return aggregate
            self.evict(aggregate_id)
        return aggregate

    def holds(self, aggregate_id: UUID) -> bool:
        """Whether the object is cached (with no cache, everything is as good as cached: nothing can be stale)."""
        cache = self.repository.cache
        return cache is None or aggregate_id in cache.cache

    def put(self, aggregate: LedgerAggregate) -> None:
        """Cache ``aggregate`` as it is now (a group's next command builds on its unrecorded changes)."""
        if self.repository.cache is not None:
            self.repository.cache.put(aggregate.id, aggregate)

    def evict(self, *aggregate_ids: UUID) -> None:
        """Forget these objects: the next load reads them from the log."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)

    def is_stale(self, aggregate: LedgerAggregate, jumps: int) -> bool:
        """Whether a refresh since the load began (when ``jumps`` was read) saw a later version of ``aggregate``
        than it has (or could not tell: it jumped to the log's head)."""
        with self._lock:
            return self.jumps != jumps or self._newest.get(aggregate.id, -1) > aggregate.version

    def _remember_newest(self, aggregate_id: UUID, version: int) -> None:
        newest = self._newest
        if newest.get(aggregate_id, -1) < version:
            newest[aggregate_id] = version
            newest.move_to_end(aggregate_id)
            while len(newest) > NEWEST_KEPT:
                newest.popitem(last=False)
