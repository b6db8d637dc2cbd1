"""What goes into a use case and what comes out: the :class:`Act` a caller acts under, the :class:`Written` it gets.

An act is the caller's :class:`~ledger.domain.values.Attribution` (who, when in business terms, why, on what
evidence) — the value every command method of an aggregate takes and every event records — and two conditions of
the caller's: the version the object must still be at (``If-Match``), and the idempotency key the command is
recorded under, once however often it is retried (:func:`ledger.application.core.use_case`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain import values
from ledger.domain.errors import InvalidInput
from ledger.domain.values import Attribution, Principal


@dataclass(frozen=True)
class CommandKey:
    """A client's idempotency key for one command, and the fingerprint of the request it came with.

    Recorded in the same transaction as the command's events (``ledger_commands``), so a command retried under
    the same key is recorded once however the first attempt ended — even if the response was lost.
    """

    key: str
    fingerprint: bytes

    def __post_init__(self) -> None:
        values.text(self.key, "Idempotency-Key", max_length=255)
        if len(self.fingerprint) != 32:
            raise InvalidInput("a command fingerprint is a SHA-256 digest", field="Idempotency-Key")


@dataclass(frozen=True, init=False)
class Act:
    """Who acts, when it takes effect, why, on what evidence (``by``), on which version, under which key.

    Built as ``Act(principal, effective_on, reason, evidence, expected_version, command)``; the reason and the
    evidence are checked here, where they enter the ledger. Evidence is a digest each (untyped) or a typed document
    (:func:`ledger.domain.values.documents`).
    """

    by: Attribution
    expected_version: int | None = None
    command: CommandKey | None = None

    def __init__(
        self,
        principal: Principal,
        effective_on: date,
        reason: str = "",
        evidence: Iterable[str | values.Document | Mapping[str, object]] | None = None,
        expected_version: int | None = None,
        command: CommandKey | None = None,
    ) -> None:
        digests, typed = values.documents(evidence)
        object.__setattr__(self, "by", Attribution(principal, effective_on, values.reason(reason), digests, typed))
        object.__setattr__(self, "expected_version", expected_version)
        object.__setattr__(self, "command", command)

    @property
    def principal(self) -> Principal:
        return self.by.principal

    @property
    def effective_on(self) -> date:
        return self.by.effective_on


# Payload fields that name what a command created, so a client can address it (e.g. rectification 2).
REFERENCE_FIELDS = (
    "adjustment_no",
    "filing_no",
    "rectification_no",
    "spot_check_no",
    "finding_no",
    "evaluation_id",
    "evaluation_no",
    "misconduct_no",
    "blacklisting_no",
    "supervision_no",
    "assessment_no",
    "bar_no",
    "month",
    "code",
    "ruleset_version",
    "fiscal_year",
)


@dataclass(frozen=True)
class WrittenEvent:
    position: int
    aggregate_id: UUID
    version: int
    type: str  # e.g. "Project.RectificationRequired"
    references: dict[str, Any]

    @classmethod
    def of(cls, position: int, event: Any) -> WrittenEvent:
        return cls(
            position,
            event.originator_id,
            event.originator_version,
            type(event).__qualname__,
            {name: getattr(event, name) for name in REFERENCE_FIELDS if hasattr(event, name)},
        )


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
