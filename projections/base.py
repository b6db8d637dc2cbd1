"""What every read model has in common, and the events they read.

A read model is a PostgreSQL table kept as a function of the log. It applies a whole page of events in one
transaction together with its tracking position (exactly-once: the rows and the position commit or roll back
together), so catching up runs at the speed of SQL batches, not one transaction per event.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from ledger.transcodings import ledger_transcoder

Conn = psycopg.Connection[tuple[Any, ...]]
EVENTS = "ledger_events"  # the log (see ledger.recorder)

_QUERIES: dict[tuple[Any, ...], bytes] = {}


def composed(conn: Conn, key: tuple[Any, ...], build: Callable[[], sql.Composable]) -> bytes:
    """The statement ``build()`` composes, as the bytes sent to the server, composed once per ``key`` (which must
    name everything ``build`` depends on). Composing psycopg's sql objects (quoting every identifier) cost a read
    model more client time per page than executing some of its statements."""
    query = _QUERIES.get(key)
    if query is None:
        query = _QUERIES[key] = build().as_bytes(conn)
    return query


class LogEvent:
    """One event as a read model sees it: its position and recording time, and its fields (read-only).

    A plain class with slots rather than a frozen dataclass: a page builds thousands, and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) cost more than decoding the event's JSON.
    """

    __slots__ = ("event", "kind", "leaf_index", "originator_id", "recorded_at", "topic", "version")

    def __init__(self, leaf_index: int, recorded_at: datetime, originator_id: UUID, version: int, topic: str,
                 event: Any, kind: str | None = None) -> None:
        self.leaf_index = leaf_index
        self.recorded_at = recorded_at
        self.originator_id = originator_id
        self.version = version
        self.topic = topic
        self.event = event  # its fields by name: Fields over its stored JSON (the runner), or the domain event
        self.kind = kind or topic.rsplit(":", 1)[-1]  # ``Aggregate.Event``, e.g. ``Project.GoalsReviewed``

    def __repr__(self) -> str:
        return f"LogEvent({self.leaf_index}, {self.kind}, {self.originator_id}, v{self.version})"


class Fields:
    """An event's fields, from its stored JSON decoded once by the stdlib (C-accelerated) json module: no domain
    event object is built. A field written with a transcoding (``{"_type_": …, "_data_": …}``, see
    :mod:`ledger.transcodings`) is decoded by that same transcoding when it is first read, so ``fields.amount`` is
    the Decimal and ``fields.effective_on`` the date the domain event has; everything else is as stored. A field
    read once is kept as an attribute, so reading it again costs a plain attribute lookup."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @classmethod
    def of(cls, state: bytes) -> Fields:
        return cls(json.loads(state))

    def __getattr__(self, name: str) -> Any:  # only for fields not read yet
        try:
            value = decoded(self._data[name])
        except KeyError:
            raise AttributeError(name) from None
        setattr(self, name, value)
        return value


_TRANSCODINGS = ledger_transcoder().names
_SCALARS = frozenset((str, int, float, bool, type(None)))


def decoded(value: Any) -> Any:
    """A stored JSON value as the application's transcoder decodes it (innermost transcodings first)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _TRANSCODINGS[value["_type_"]].decode(decoded(value["_data_"]))
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


class ReadModel(ABC):
    """A table (or a few) maintained from the log. ``table`` names the live table; rebuilds use another name."""

    name: str
    # The shape of its tables and what they mean. Raise it when either changes: the runner then drops the old
    # tables and rebuilds them from the log on its next start (a read model is always a function of the log).
    version: int = 1

    @abstractmethod
    def create(self, conn: Conn, table: str) -> None:
        """Create the table(s) if missing."""

    @abstractmethod
    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        """Apply a page of events, in log order, inside the caller's transaction."""

    def tables(self, table: str) -> list[str]:
        """Every table this read model owns (swapped together on rebuild)."""
        return [table]

    def digest(self, conn: Conn, table: str) -> str:
        """A content digest: equal digests mean equal tables, however they were built."""
        hasher = hashlib.sha256()
        for name in self.tables(table):
            query = sql.SQL("SELECT t::text FROM {} t ORDER BY t::text COLLATE \"C\"").format(sql.Identifier(name))
            with conn.cursor() as cur:
                for (row,) in cur.execute(query):
                    hasher.update(row.encode())
                    hasher.update(b"\n")
            hasher.update(b"\x00")
        return hasher.hexdigest()

