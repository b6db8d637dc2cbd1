"""Witnesses (c2sp.org/tlog-witness) and their cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A witness is an independent party — the audit office, the people's congress — that keeps, for each log it
watches, the latest checkpoint it has verified. Shown a new checkpoint with a consistency proof from that one, it
checks the log's signature and the proof, records the new size, and cosigns. It never cosigns two different trees
of one size, nor a tree that does not extend what it has seen: a log that rewrites its history, or shows different
histories to different parties (a split view), cannot gather the cosignatures of witnesses that saw the other one.

Formats, exactly as C2SP has them:

- a cosignature is a note signature line ``— <name> base64(key ID(4) || timestamp(8, big-endian) || Ed25519(64))``,
  appended to the checkpoint's signed note;
- the key ID is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``; a witness's verifier key is written
  ``<name>+<hex key ID>+<base64(0x04 || public key)>`` (a C2SP vkey with signature type 0x04);
- the signed message is ``"cosignature/v1\\n" "time <timestamp>\\n"`` followed by the checkpoint's whole note body;
- ``POST <prefix>/add-checkpoint`` takes ``old <size>\\n``, up to 63 base64 consistency-proof lines, an empty line and
  the signed checkpoint; it answers the cosignature lines (200), or 400, 403, 404, 409 (with the witness's size as
  ``text/x.tlog.size``) or 422 as the protocol says.

This module holds the formats and the log's client of a witness; the witness's own core (its decision on a request
and its durable state) is :mod:`ledger.log.witness_core`. Both import nothing beyond the standard library and
``cryptography``: the witness runs on a machine of its own, and auditors check cosignatures with this module alone.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ledger.log import checkpoint
from ledger.log.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    Ed25519Named,
    Ed25519Seed,
    VerifierKey,
    ed25519_private,
    ed25519_public_of,
    ed25519_verifies,
    verify_checkpoint,
)

ALG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024  # a checkpoint, a few signatures and 63 proof lines fit many times over
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")
DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")  # a size as the protocol writes it: no leading zeros, fits 64 bits
_MAX_TIMESTAMP = 2**63 - 1


class WitnessError(Exception):
    """A witness key, a cosignature or a witness's answer that is malformed or does not verify."""


def decode_base64(text: str, what: str) -> bytes:
    """Strict, canonical base64; WitnessError naming ``what`` otherwise."""
    return checkpoint.decode_base64(text, what, WitnessError)


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() or ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise WitnessError(f"a witness name must be non-empty, without whitespace, '+' or control characters: {name!r}")


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """The key ID of an Ed25519 ``cosignature/v1`` key: SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key).digest()[:4]


def cosignature_message(checkpoint_body: str, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs: the header line, the time line, then the checkpoint's whole note body."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_body}".encode()


@dataclass(frozen=True)
class WitnessKey(Ed25519Named):
    """A witness's public key, as auditors pin it: ``<name>+<hex key ID>+<base64(0x04 || public key)>``."""

    error: ClassVar[type[Exception]] = WitnessError

    @staticmethod
    def check_name(name: str) -> None:
        _check_name(name)

    @staticmethod
    def key_id_of(name: str, public_key: bytes) -> bytes:
        return cosigner_key_id(name, public_key)

    @classmethod
    def from_string(cls, text: str) -> WitnessKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise WitnessError("a witness key reads <name>+<hex key ID>+<base64 key>")
        name, hex_id, key64 = parts
        _check_name(name)
        if _HEX_KEY_ID.fullmatch(hex_id.lower()) is None:
            raise WitnessError(f"key ID {hex_id!r} must be 8 hexadecimal digits")
        raw = decode_base64(key64, "witness key")
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise WitnessError("not a cosignature/v1 key (signature type 0x04 and 32 bytes of Ed25519 key)")
        return cls(name, bytes.fromhex(hex_id), raw[1:])

    def to_string(self) -> str:
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, checkpoint_body: str, timestamp: int, signature: bytes) -> bool:
        return ed25519_verifies(self.public_key, cosignature_message(checkpoint_body, timestamp), signature)


@dataclass(frozen=True)
class WitnessSigningKey(Ed25519Seed):
    """A witness's private key: ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>`` (kept out of repr)."""

    error: ClassVar[type[Exception]] = WitnessError

    @staticmethod
    def check_name(name: str) -> None:
        _check_name(name)

    @classmethod
    def from_string(cls, text: str) -> WitnessSigningKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise WitnessError("a witness signing key reads PRIVATE+KEY+<name>+<hex key ID>+<base64 key>")
        raw = decode_base64(parts[4], "witness signing key")
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise WitnessError("not a cosignature/v1 signing key")
        key = cls(parts[2], raw[1:])
        if key.verifier.key_id.hex() != parts[3].lower():
            raise WitnessError("the key ID does not match the key")
        return key

    def to_string(self) -> str:
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    @property
    def verifier(self) -> WitnessKey:
        public = ed25519_public_of(self.seed)
        return WitnessKey(self.name, cosigner_key_id(self.name, public), public)

    def cosign(self, checkpoint_body: str, timestamp: int) -> str:
        """The cosignature line (``— name base64(...)\\n``) on a checkpoint body, at ``timestamp``."""
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise WitnessError("a cosignature's timestamp is a POSIX time below 2**63")
        signature = ed25519_private(self.seed).sign(cosignature_message(checkpoint_body, timestamp))
        raw = self.verifier.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}\n"


# ---------------------------------------------------------------------------------------- notes and cosignatures


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's body (ending in a newline) and its signature lines (each ending in a newline)."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise WitnessError("malformed note: no blank line between the text and its signatures")
    body, block = note[: split + 1], note[split + 2 :]
    lines = [line + "\n" for line in block[:-1].split("\n")] if block else []
    if not lines or not all(line.startswith(SIGNATURE_PREFIX) for line in lines):
        raise WitnessError("malformed note: every line after the blank line must be a signature")
    return body, lines


def add_signatures(note: str, lines: Sequence[str]) -> str:
    """``note`` with the signature ``lines`` it does not hold yet appended (each once, in the order given)."""
    body, present = split_note(note)
    merged = list(present)
    for line in lines:
        if not line.endswith("\n"):
            line += "\n"
        if line not in merged:
            merged.append(line)
    return body + "\n" + "".join(merged)


@dataclass(frozen=True)
class Cosignature:
    witness: WitnessKey
    timestamp: int
    line: str


def cosignatures(note: str, witnesses: Sequence[WitnessKey]) -> list[Cosignature]:
    """The valid cosignatures in ``note`` by the given witnesses (one per witness at most); any other signature
    line is ignored. A line that names a pinned witness and its key ID but does not verify raises: a witness's
    name on a bad signature is evidence of forgery, never something to skip."""
    body, lines = split_note(note)
    by_id = {(key.name, key.key_id): key for key in witnesses}
    found: dict[str, Cosignature] = {}
    for line in lines:
        name, _, encoded = line[len(SIGNATURE_PREFIX) : -1].partition(" ")
        try:
            raw = decode_base64(encoded, f"the signature of {name}")
        except WitnessError:
            continue
        key = by_id.get((name, raw[:4]))
        if key is None:
            continue
        if len(raw) != 4 + 8 + 64:
            raise WitnessError(f"the cosignature of witness {name} is {len(raw)} bytes, not 76")
        timestamp = int.from_bytes(raw[4:12], "big")
        if timestamp > _MAX_TIMESTAMP or not key.verify(body, timestamp, raw[12:]):
            raise WitnessError(
                f"the cosignature of witness {key.name}+{key.key_id.hex()} does not verify (forged or altered)"
            )
        found.setdefault(key.name, Cosignature(key, timestamp, line))
    return list(found.values())


@dataclass(frozen=True)
class TrustPolicy:
    """What a verifier requires of a checkpoint: the log's key, and cosignatures from at least ``min_witnesses``
    of the pinned ``witnesses``."""

    log_key: VerifierKey
    witnesses: tuple[WitnessKey, ...] = ()
    min_witnesses: int = 0
    origin: str | None = None

    def __post_init__(self) -> None:
        if self.min_witnesses < 0:
            raise WitnessError("--min-witnesses cannot be negative")
        if self.min_witnesses > len({key.name for key in self.witnesses}):
            raise WitnessError(
                f"{self.min_witnesses} witnesses are required but only "
                f"{len({key.name for key in self.witnesses})} are pinned (--witness)"
            )

    def check(self, note: str) -> tuple[Checkpoint, list[Cosignature]]:
        """The checkpoint if the note is signed by the log and cosigned as required; raises CheckpointError or
        WitnessError naming what does not hold."""
        checkpoint = verify_checkpoint(note, self.log_key, self.origin)
        cosigned = cosignatures(note, self.witnesses)
        if len(cosigned) < self.min_witnesses:
            names = ", ".join(sorted(c.witness.name for c in cosigned)) or "none"
            raise WitnessError(
                f"checkpoint {checkpoint.size} is cosigned by {len(cosigned)} of the pinned witnesses "
                f"({names}); {self.min_witnesses} are required"
            )
        return checkpoint, cosigned


# ------------------------------------------------------------------------------------------- the protocol


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The body of an ``add-checkpoint`` request."""
    lines = [f"old {old_size}\n", *(base64.b64encode(node).decode("ascii") + "\n" for node in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


# ------------------------------------------------------------------------------ the log's side: asking a witness


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the log asks for cosignatures: its verifier key and its submission prefix (a URL)."""

    key: WitnessKey
    url: str

    @classmethod
    def parse(cls, text: str) -> WitnessEndpoint:
        """``<submission URL> <witness verifier key>`` (either order)."""
        parts = text.split()
        if len(parts) != 2:
            raise WitnessError(f"a witness is '<URL> <verifier key>': {text!r}")
        url, vkey = parts if "://" in parts[0] else parts[::-1]
        if not url.startswith(("http://", "https://")):
            raise WitnessError(f"a witness URL is http:// or https://: {url!r}")
        return cls(WitnessKey.from_string(vkey), url.rstrip("/"))


def parse_endpoints(text: str) -> list[WitnessEndpoint]:
    """Witnesses separated by semicolons or newlines (``JIXIAO_WITNESSES``)."""
    entries = [entry.strip() for entry in re.split(r"[;\n]", text) if entry.strip()]
    endpoints = [WitnessEndpoint.parse(entry) for entry in entries]
    if len({e.key.name for e in endpoints}) != len(endpoints):
        raise WitnessError("two witnesses share a name")
    return endpoints


class Conflict(WitnessError):
    """The witness has cosigned another size: it answered 409 with its latest size (None: a fork at equal size)."""

    def __init__(self, size: int | None, message: str) -> None:
        super().__init__(message)
        self.size = size


def submit(
    endpoint: WitnessEndpoint, old_size: int, proof: Sequence[bytes], note: str, *, timeout: float = 5.0
) -> Cosignature:
    """POST add-checkpoint; the witness's verified cosignature, or WitnessError (Conflict for a 409)."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked when the endpoint is parsed
        f"{endpoint.url}/add-checkpoint",
        data=add_checkpoint_body(old_size, proof, note),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(MAX_REQUEST_BYTES).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        text = error.read(4096).decode("utf-8", "replace")
        if error.code == 409:
            size = text.strip()
            known = error.headers.get("Content-Type", "").startswith(SIZE_CONTENT_TYPE) and DECIMAL.fullmatch(size)
            raise Conflict(int(size) if known else None, f"witness {endpoint.key.name}: 409 {text.strip()}") from None
        raise WitnessError(f"witness {endpoint.key.name}: HTTP {error.code} {text.strip()[:200]}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise WitnessError(f"witness {endpoint.key.name} unreachable: {error}") from None
    lines = [line + "\n" for line in answer.split("\n") if line]
    found = cosignatures(add_signatures(note, lines), [endpoint.key])
    if not found:
        raise WitnessError(f"witness {endpoint.key.name} answered no cosignature of its key")
    return found[0]
