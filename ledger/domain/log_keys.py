"""The log's own record of its signing keys: each key rotation (密钥轮换), recorded in the log it concerns.

The statement (:mod:`ledger.log.rotation`: signed by the key in force and by its successor) is what an auditor
checks; recording it as an event puts it in the Merkle tree, at the position where the new key takes over. The
application checks the statement before it records it; the aggregate only keeps it, once: the ``n``-th rotation
has the id :func:`rotation_id` ``(n)``, so two rotations that race for the same number cannot both be recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.base import LedgerAggregate, ledger_id
from ledger.domain.values import Attribution


def rotation_id(number: int) -> UUID:
    """The id of the log's ``number``-th key rotation (from 1)."""
    return ledger_id("log-key-rotation", number)


class KeyRotation(LedgerAggregate):
    """One change of the log's signing key: the signed statement, as given."""

    TOPIC_MODULE = "ledger.log_keys"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        number: int
        statement: str

    class Recorded(LedgerAggregate.Created):
        number: int
        statement: str

        def apply(self, rotation: KeyRotation) -> None:
            rotation.number = self.number
            rotation.statement = self.statement

    @classmethod
    def rotate(cls, number: int, statement: str, by: Attribution) -> KeyRotation:
        return cls._create(
            cls.Recorded, id=rotation_id(number), number=number, statement=statement, **by.event_fields()
        )
