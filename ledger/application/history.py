"""Reads of the log itself, for auditors and tools: an object's history, its state as of a version or an instant.

Queries go to the read models (projections); only history and as-of questions are answered from the log and by
replay — through the store's reads (:class:`ledger.store.reads.LogReads`), never with SQL of the application's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application.core import LedgerCore
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import NotFound
from ledger.domain.project import Project
from ledger.domain.values import Principal

# What every event carries besides its payload (HistoryEntry.payload is the rest).
_ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "principal",
        "effective_on",
        "reason",
        "evidence",
    }
)


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


class HistoryReads(LedgerCore):
    """History, as-of versions, every project's id and the log's head."""

    def history(self, aggregate_id: UUID, *, missing: str = "object-not-found") -> list[HistoryEntry]:
        """Every event of one object, in order, with its log position and hashes (for auditors)."""
        entries = []
        for logged in self.reads.history(aggregate_id):
            event: Any = self.mapper.to_domain_event(logged.stored)
            payload = {key: value for key, value in vars(event).items() if key not in _ENVELOPE}
            entries.append(
                HistoryEntry(
                    leaf_index=logged.leaf_index,
                    version=logged.stored.originator_version,
                    event_type=type(event).__qualname__,
                    leaf_hash=logged.leaf_hash.hex(),
                    chain_hash=logged.chain_hash.hex(),
                    recorded_at=logged.recorded_at,
                    effective_on=event.effective_on,
                    principal=event.principal,
                    reason=event.reason,
                    evidence=list(event.evidence),
                    payload=payload,
                )
            )
        if not entries:
            raise NotFound(f"nothing recorded for {aggregate_id}", code=missing)
        return entries

    def object(self, aggregate_id: UUID, version: int | None = None) -> LedgerAggregate:
        """Any object of the ledger (a project, department, agency, …) as of ``version`` (default: now)."""
        return self._read(LedgerAggregate, aggregate_id, "object-not-found", version)

    def version_as_of(self, aggregate_id: UUID, instant: datetime) -> int:
        """The object's version as recorded at ``instant`` (transaction time); 0 if it did not exist yet."""
        return self.reads.version_as_of(aggregate_id, instant)

    def project_ids(self) -> list[UUID]:
        """Every project's id, in declaration order (for the demo and tools; queries use projections)."""
        return self.reads.originators_of(get_topic(Project.Declared))

    def head(self) -> int:
        """The number of events in the log (the next leaf index)."""
        return self.reads.head()
