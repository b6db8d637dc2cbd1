"""What every ledger aggregate and event has in common.

Every event records who acted (principal), when it takes effect in business
terms (``effective_on``), the reason given and the evidence cited (SHA-256 of
attached documents): an :class:`~ledger.domain.values.Attribution`, which every
command method takes as one value. The recorder copies the first two into
indexed columns.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from ledger.domain.errors import InvalidInput
from ledger.domain.values import Attribution, Principal, key, nfc

# Deterministic ids make creation idempotent: declaring the same project twice
# finds the first one instead of recording a duplicate.
LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:jixiao-ledger")


def ledger_id(kind: str, *parts: object) -> UUID:
    return uuid5(LEDGER_NAMESPACE, ":".join([kind, *(str(part) for part in parts)]))


def keyed_id(kind: str, *parts: object) -> UUID:
    """The id of an object named by text, from the text's key (:func:`ledger.domain.values.key`): every spelling of one
    name is one object, so a second spelling is refused as a duplicate."""
    return ledger_id(kind, *(key(part) if isinstance(part, str) else part for part in parts))


def recorded_ids(kind: str, *parts: object) -> tuple[UUID, ...]:
    """The ids an object named by text may be recorded under: its key's, then — where it differs — its NFC text's,
    from which the ledger derived ids before it had keys (its older objects keep those ids)."""
    keyed = keyed_id(kind, *parts)
    legacy = ledger_id(kind, *(nfc(part) if isinstance(part, str) else part for part in parts))
    return (keyed,) if legacy == keyed else (keyed, legacy)


def _stamp_topic(cls: type[Any], module: str) -> None:
    topic = f"{module}:{cls.__qualname__}"
    cls.TOPIC = topic  # eventsourcing's construct_topic() takes a class's TOPIC before its module and name
    register_topic(topic, cls)  # and resolve_topic() finds the class by it, before any was written


# Business dates (effective_on). Nothing is dated before budget preparation for the first fiscal year the ledger
# records (2000) opened, nor after today (the application's clock); each object bounds its own events from below.
EARLIEST_EFFECTIVE_ON = date(1999, 1, 1)


def preparation_opens(fiscal_year: int) -> date:
    """The first day business of ``fiscal_year`` can be dated: budget preparation for year Y runs through Y−1 (goals
    are due before it, by (Y−1)-10-31), so 1 January of Y−1 — whatever the ruleset says about deadlines."""
    return date(fiscal_year - 1, 1, 1)


def require_not_before(effective_on: date, bound: date | None, what: str) -> None:
    """Refuse a business date before ``bound`` (what it concerns did not exist yet); None: no bound known."""
    if bound is not None and effective_on < bound:
        raise InvalidInput(
            f"effective_on {effective_on} is before {what} ({bound})",
            code="effective-date-too-early",
            field="effective_on",
        )


class LedgerAggregate(Aggregate):
    """An aggregate of the ledger: every event attributed (who, when in business terms, why, on what evidence).

    ``TOPIC_MODULE`` is the module part of every stored topic of the aggregate and its events
    (``ledger.project:Project.Declared``). Topics are the log's format — leaf hashes commit to them, the feed and the
    sweeps read them — so they stay as first recorded wherever the code that defines them moves: each aggregate names
    the module its topics were first recorded under, and its classes are registered under those topics.
    """

    TOPIC_MODULE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = cls.__dict__.get("TOPIC_MODULE", "")  # each concrete aggregate names its own
        if module:
            _stamp_topic(cls, module)
            for value in list(vars(cls).values()):
                if isinstance(value, type) and value.__qualname__.startswith(f"{cls.__qualname__}."):
                    _stamp_topic(value, module)

    class Event(Aggregate.Event):
        principal: Principal
        effective_on: date
        reason: str
        evidence: list[str]

        # The typed documents among the evidence ({digest, type, name}: ledger.domain.values.Document), stored only
        # on an event that cites any: not a dataclass field, so an event citing none — every event recorded before
        # documents had types among them — is stored and read exactly as it always was.
        documents: ClassVar[list[dict[str, Any]]] = []

    class Created(Event, Aggregate.Created):
        pass

    def record(self, event_class: type[Any], by: Attribution, **kwargs: Any) -> None:
        """Trigger ``event_class`` with the attribution every event carries."""
        self.trigger_event(event_class, **by.event_fields(), **kwargs)

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        """The library's, with the attribution's typed ``documents`` (if any) kept on the event it records."""
        documents = kwargs.pop("documents", None)
        super().trigger_event(event_class, **kwargs)
        if documents:
            object.__setattr__(self._pending_events[-1], "documents", list(documents))

    @classmethod
    def _create(cls, event_class: type[Any], *, id: Any = None, **kwargs: Any) -> Self:
        """The library's, with the attribution's typed ``documents`` (if any) kept on the event it records."""
        documents = kwargs.pop("documents", None)
        aggregate = super()._create(event_class, id=id, **kwargs)
        if documents:
            object.__setattr__(aggregate.pending_events[-1], "documents", list(documents))
        return aggregate
