"""The log's signing keys: recording a key rotation (密钥轮换) in the log it concerns.

The statement is checked before it is recorded, as the verifiers will check it
(:func:`ledger.log.rotation.follow_chain`): signed by both its keys, the next number, from the key in force to a key
never used before. Signing it, and the checkpoints around it, is the caller's part (``jixiao key rotate``), which
holds the keys; the application never does.
"""

from __future__ import annotations

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_role
from ledger.domain.errors import RuleViolation
from ledger.domain.log_keys import KeyRotation
from ledger.domain.values import Role
from ledger.log.checkpoint import VerifierKey
from ledger.log.rotation import RecordedRotation, RotationError, follow_chain, open_rotation


class LogKeyUseCases(LedgerCore):
    """密钥轮换: the chain of the keys that sign the log's checkpoints, as the log records it."""

    def key_rotations(self) -> list[RecordedRotation]:
        """Every key rotation recorded, in log order (as stored: :func:`ledger.log.rotation.follow_chain` checks)."""
        return self.reads.key_rotations()

    @use_case
    def record_key_rotation(self, act: Act, statement: str, in_force: VerifierKey) -> Written:
        """Record a rotation statement, by an administrator. ``in_force`` is the key that signs the log's
        checkpoints now, as the caller found it against them; the statement must hand the log over from it."""
        require_role(act, Role.ADMIN)
        self._check_date(act)
        recorded = self.key_rotations()
        try:
            rotation = open_rotation(statement)
            if rotation.old != in_force:
                raise RotationError(
                    f"the statement hands over from {rotation.old.to_string()}, not from the key in force "
                    f"({in_force.to_string()})"
                )
            follow_chain(
                in_force,
                [*((item.leaf_index, item.note) for item in recorded), (self.reads.head(), statement)],
                rotation.origin,
            )
        except RotationError as error:
            raise RuleViolation(f"key rotation refused: {error}", code="key-rotation-refused") from None
        return self._commit_new(KeyRotation.rotate(rotation.number, statement, act.by), act=act)
