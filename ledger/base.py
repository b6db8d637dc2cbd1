"""What every ledger aggregate and event has in common.

Every event records who acted (principal), when it takes effect in business
terms (``effective_on``), the reason given and the evidence cited (SHA-256 of
attached documents). The recorder copies the first two into indexed columns.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.values import Principal

# Deterministic ids make creation idempotent: declaring the same project twice
# finds the first one instead of recording a duplicate.
LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:jixiao-ledger")


def ledger_id(kind: str, *parts: object) -> UUID:
    return uuid5(LEDGER_NAMESPACE, ":".join([kind, *(str(part) for part in parts)]))


class LedgerAggregate(Aggregate):
    class Event(Aggregate.Event):
        principal: Principal
        effective_on: date
        reason: str
        evidence: list[str]

    class Created(Event, Aggregate.Created):
        pass

    def record(self, event_class: type[Any], principal: Principal, effective_on: date, reason: str = "",
               evidence: list[str] | None = None, **kwargs: Any) -> None:
        """Trigger ``event_class`` with the attribution every event carries."""
        self.trigger_event(
            event_class, principal=principal, effective_on=effective_on, reason=reason,
            evidence=list(evidence or []), **kwargs,
        )
