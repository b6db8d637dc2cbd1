"""What every read model has in common, and the events they read.

A read model is a PostgreSQL table kept as a function of the log. It applies a whole page of events in one
transaction together with its tracking position (exactly-once: the rows and the position commit or roll back
together), so catching up runs at the speed of SQL batches, not one transaction per event.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

Conn = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True)
class LogEvent:
    """One event as a read model sees it: its position and recording time, and the decoded domain event."""

    leaf_index: int
    recorded_at: datetime
    originator_id: UUID
    version: int
    topic: str
    event: Any

    @property
    def kind(self) -> str:
        """``Aggregate.Event``, e.g. ``Project.GoalsReviewed``."""
        return self.topic.rsplit(":", 1)[-1]


class ReadModel(ABC):
    """A table (or a few) maintained from the log. ``table`` names the live table; rebuilds use another name."""

    name: str

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

