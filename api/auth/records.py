"""Token records: what a token is, what its record's signature covers, which keys are trusted to sign it, and how
a stored record is judged (honoured, or refused and why). No database here: :mod:`api.auth.store` keeps them."""

from __future__ import annotations

import hashlib
import struct
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from api.config.keys import signing_key
from api.config.settings import Settings
from ledger.domain.errors import DomainError, InvalidInput
from ledger.domain.values import SYSTEM, Principal, Role
from ledger.log.checkpoint import SigningKey, VerifierKey

PREFIX = "jxl_"
PUBLIC = Principal("public", Role.PUBLIC, "")
RESERVED = frozenset({PUBLIC.id, SYSTEM.id})  # identities the service itself uses
ISSUABLE = frozenset(role for role in Role if role not in (Role.PUBLIC, Role.SYSTEM))
# The signed message starts with 0xFF, which never begins valid UTF-8: a note (checkpoint) or cosignature text is
# UTF-8, so a token signature can never be taken for one, nor one of theirs for a token's.
DOMAIN = b"\xffjixiao-token/v1\n"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROLE_ZH = {
    "finance": "财政局",
    "department": "预算部门",
    "agency": "第三方机构",
    "auditor": "审计",
    "admin": "系统管理员",
}


def token_hash(token: str) -> bytes:
    """What is stored of a token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def token_message(
    origin: str,
    token_id: str,
    token_hash: bytes,
    principal_id: str,
    role: str,
    organisation: str,
    created_by: str,
    created_at: datetime,
) -> bytes:
    """What a token record's signature covers: ``DOMAIN`` then each field with its length (uint32, big-endian);
    the time as microseconds since 1970 (int64, big-endian), exactly as PostgreSQL stores it. The log's origin
    binds the record to this ledger: another signed with the same key is no token here."""
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    fields = (
        origin.encode(),
        token_id.encode(),
        token_hash,
        principal_id.encode(),
        role.encode(),
        organisation.encode(),
        created_by.encode(),
        struct.pack(">q", micros),
    )
    return DOMAIN + b"".join(struct.pack(">I", len(field)) + field for field in fields)


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    name: str
    role: str
    organisation: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    refused: str | None = None  # why the service does not honour the record (None: it does)


@dataclass(frozen=True)
class Revoked:
    record: TokenRecord
    subscriptions: list[UUID]  # disabled: the principal has no live token left
    unconfirmed: int  # service processes that did not confirm in time (they still refuse within CACHE_SECONDS)
    busy: list[UUID]  # subscriptions a dispatcher was still delivering to when the revoker stopped waiting


class Lookup(NamedTuple):
    principal: Principal | None
    refusal: str  # why there is no principal ("" when there is one)


UNKNOWN = Lookup(None, "the token is unknown or revoked")


class TokenKeys:
    """The key that signs token records, and the verifier keys whose signatures are honoured (each verdict kept)."""

    def __init__(self, signer: SigningKey | None, trusted: Iterable[VerifierKey] = (), *, origin: str) -> None:
        self.signer = signer
        self.origin = origin
        keys = [*trusted, *([signer.verifier] if signer is not None else [])]
        self.trusted = {key.key_id: key for key in keys}
        self._verdicts: dict[tuple[bytes, bytes], bool] = {}
        self._lock = threading.Lock()

    def message(self, row: dict[str, Any]) -> bytes:
        """The signed message of a stored record (or of one about to be)."""
        return token_message(
            self.origin,
            row["token_id"],
            bytes(row["token_hash"]),
            row["principal_id"],
            row["role"],
            row["organisation"],
            row["created_by"],
            row["created_at"],
        )

    def sign(self, row: dict[str, Any]) -> tuple[bytes, bytes]:
        """(key id, signature) of a record."""
        if self.signer is None:
            raise InvalidInput("issuing a token needs the signing key (JIXIAO_SIGNING_KEY or its file)")
        return self.signer.verifier.key_id, self.signer.sign(self.message(row))

    def problem(self, row: dict[str, Any]) -> str | None:
        """Why a stored record is not to be honoured, or None."""
        if row["signature"] is None:
            return "unsigned: recorded before token records were signed (jixiao token resign)"
        key = self.trusted.get(bytes(row["key_id"] or b""))
        if key is None:
            return f"signed by an unknown key {bytes(row['key_id'] or b'').hex() or '-'}"
        message = self.message(row)
        signature = bytes(row["signature"])
        with self._lock:
            verdict = self._verdicts.get((message, signature))
        if verdict is None:
            verdict = key.verify(message, signature)
            with self._lock:
                if len(self._verdicts) > 10_000:
                    self._verdicts.clear()
                self._verdicts[(message, signature)] = verdict
        return None if verdict else "its signature does not verify: forged or altered"


def keys_for(settings: Settings) -> TokenKeys:
    """The service's token keys: its signing key, and the earlier keys ``JIXIAO_TOKEN_KEYS`` still trusts."""
    return TokenKeys(
        signing_key(settings), [VerifierKey.from_string(key) for key in settings.token_keys], origin=settings.log_origin
    )


def record_of(row: dict[str, Any], refused: str | None = None) -> TokenRecord:
    """A stored record as the service shows it (with why it is refused, if it is)."""
    return TokenRecord(
        row["token_id"],
        row["principal_id"],
        row["role"],
        row["organisation"],
        row["created_at"],
        row["created_by"],
        row["revoked_at"],
        refused,
    )


def identity_of(row: dict[str, Any]) -> tuple[str, str]:
    """The identity a record binds its principal id to: (role, organisation)."""
    return row["role"], row["organisation"]


def lookalike(principal_id: str) -> str:
    """What a reader would take for the same name: compatibility forms, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", principal_id).casefold().split())


def live_identities(rows: Iterable[dict[str, Any]], keys: TokenKeys) -> set[tuple[str, str]]:
    """The identities (role, organisation) a principal holds a live token as: honoured and not revoked."""
    return {identity_of(row) for row in rows if row["revoked_at"] is None and keys.problem(row) is None}


def describe(identity: tuple[str, str]) -> str:
    """An identity as an administrator reads it, the role in Chinese beside its name."""
    role, organisation = identity
    return f"{role} ({ROLE_ZH.get(role, role)}) of {organisation or '-'}"


class PrincipalConflict(DomainError):
    code = "principal-conflict"
