"""Signed checkpoints of the log, in the C2SP formats.

A checkpoint (c2sp.org/tlog-checkpoint) commits to the log's Merkle tree at a
given size. Its note text is::

    <origin>\\n<decimal tree size>\\n<base64 root hash>\\n[<extension line>\\n ...]

It is signed as a note (c2sp.org/signed-note): the text, a blank line, then
one line per signature::

    — <key name> <base64(key ID(4) || Ed25519 signature(64))>\\n

with the Ed25519 key ID ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
Keys are written as golang.org/x/mod/sumdb/note writes them::

    verifier: <name>+<hex key ID>+<base64(0x01 || public key)>
    signer:   PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>

A note verified with one of these keys opens with the Go ``note.Open`` too.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
TIME_EXTENSION = "time "  # the ledger's checkpoint extension line: the database time it was signed (ISO 8601)
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, SPACE
MAX_SIGNATURES = 100
MAX_TREE_SIZE = 2**64 - 1

_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(Exception):
    """A note, checkpoint or key is malformed, or a signature does not verify."""


def decode_base64(text: str, what: str, error: type[Exception] = CheckpointError) -> bytes:
    """Decode standard base64 strictly: padded, alphabet only, canonical; else ``error`` naming ``what``."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not valid base64: {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64: {text!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _bad_char(text: str) -> str | None:
    """Return the first character a note may not hold (control other than newline, lone surrogate)."""
    for char in text:
        code = ord(char)
        if (code < 0x20 and char != "\n") or 0xD800 <= code <= 0xDFFF:
            return char
    return None


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError("a key name must be a non-empty string")
    if "+" in name or any(char.isspace() for char in name) or _bad_char(name) is not None:
        raise CheckpointError(f"key name {name!r} must not contain whitespace, '+' or control characters")


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line:
        raise CheckpointError(f"{what} must be a non-empty string")
    if "\n" in line:
        raise CheckpointError(f"{what} must not contain a newline: {line!r}")
    bad = _bad_char(line)
    if bad is not None:
        raise CheckpointError(f"{what} must not contain the character {bad!r}: {line!r}")


@functools.lru_cache(maxsize=64)
def ed25519_public(public_key: bytes) -> Ed25519PublicKey:
    """The key object for 32 raw bytes, made once: OpenSSL's key set-up is most of a signature check's cost."""
    return Ed25519PublicKey.from_public_bytes(public_key)


def ed25519_verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``message`` by ``public_key`` (False for any malformed one)."""
    try:
        ed25519_public(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=16)
def ed25519_private(seed: bytes) -> Ed25519PrivateKey:
    """The key object for a 32-byte seed, made once (deriving it cost three times the signature itself)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


@functools.lru_cache(maxsize=16)
def ed25519_public_of(seed: bytes) -> bytes:
    return ed25519_private(seed).public_key().public_bytes_raw()


def ed25519_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A commitment to the log's Merkle tree at one size (c2sp.org/tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size must be an integer from 0 to 2**64-1, not {self.size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise CheckpointError("root hash must be 32 bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("extensions must be a tuple of lines")
        for number, line in enumerate(self.extensions, start=1):
            _check_line(line, f"extension line {number}")

    def body(self) -> str:
        """The note text to sign."""
        lines = (self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        """Parse a note text strictly; raise CheckpointError naming the fault."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint text needs at least three lines: origin, tree size, root hash")
        origin, size_text, root_text, *extensions = lines
        if _TREE_SIZE.fullmatch(size_text) is None:
            raise CheckpointError(f"tree size {size_text!r} is not a decimal number without leading zeros")
        root = decode_base64(root_text, "root hash")
        if len(root) != 32:
            raise CheckpointError(f"root hash is {len(root)} bytes, not 32")
        return cls(origin, int(size_text), root, tuple(extensions))


def _parse_key(name: str, hex_id: str, key64: str, what: str, holds: str) -> bytes:
    """The 32 key bytes of a written key (public key or seed), after checking its name, key ID form and algorithm.

    Both key forms share these fields; whether the key ID matches the key is for each form to check."""
    _check_name(name)
    if _HEX_KEY_ID.fullmatch(hex_id) is None:
        raise CheckpointError(f"key ID {hex_id!r} must be 8 hexadecimal digits")
    key = decode_base64(key64, what)
    if not key or key[0] != ALG_ED25519:
        raise CheckpointError(f"{what} is not an Ed25519 key (algorithm byte 0x01)")
    if len(key) != 33:
        raise CheckpointError(f"Ed25519 {holds} is {len(key) - 1} bytes, not 32")
    return key[1:]


@dataclass(frozen=True)
class Ed25519Named:
    """A named public Ed25519 key with its 4-byte key ID: what a note's verifier key and a witness's key share.

    ``error`` is what a malformed one raises, ``check_name`` what checks its name and ``key_id_of`` how its key ID
    is derived (the signature type is hashed in): each key form sets its own."""

    name: str
    key_id: bytes
    public_key: bytes

    error: ClassVar[type[Exception]] = CheckpointError

    @staticmethod
    def check_name(name: str) -> None:
        _check_name(name)

    @staticmethod
    def key_id_of(name: str, public_key: bytes) -> bytes:
        return ed25519_key_id(name, public_key)

    def __post_init__(self) -> None:
        self.check_name(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise self.error("an Ed25519 public key must be 32 bytes")
        if not isinstance(self.key_id, bytes) or len(self.key_id) != 4:
            raise self.error("a key ID must be 4 bytes")
        expected = self.key_id_of(self.name, self.public_key)
        if self.key_id != expected:
            raise self.error(
                f"key ID {self.key_id.hex()} does not match key {self.name!r}, whose ID is {expected.hex()}"
            )


@dataclass(frozen=True)
class VerifierKey(Ed25519Named):
    """A public Ed25519 note key."""

    @classmethod
    def from_string(cls, text: str) -> VerifierKey:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("a verifier key must read <name>+<hex key ID>+<base64 key>")
        name, hex_id, key64 = parts
        public_key = _parse_key(name, hex_id, key64, "verifier key", "public key")
        return cls(name, bytes.fromhex(hex_id), public_key)

    def to_string(self) -> str:
        """Encode as ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        return ed25519_verifies(self.public_key, message, signature)


@dataclass(frozen=True)
class Ed25519Seed:
    """A named private Ed25519 key (the seed is kept out of repr): what a note's signer and a witness's key share.

    ``error`` is what a malformed one raises, ``check_name`` what checks its name: each key form sets its own."""

    name: str
    seed: bytes = field(repr=False)

    error: ClassVar[type[Exception]] = CheckpointError

    @staticmethod
    def check_name(name: str) -> None:
        _check_name(name)

    def __post_init__(self) -> None:
        self.check_name(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise self.error("an Ed25519 seed must be 32 bytes")

    @classmethod
    def generate(cls, name: str) -> Self:
        """A fresh random key."""
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())


@dataclass(frozen=True)
class SigningKey(Ed25519Seed):
    """A private Ed25519 note key."""

    @classmethod
    def from_string(cls, text: str) -> SigningKey:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``, checking the key ID."""
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise CheckpointError("a signing key must read PRIVATE+KEY+<name>+<hex key ID>+<base64 key>")
        _, _, name, hex_id, key64 = parts
        signing_key = cls(name, _parse_key(name, hex_id, key64, "signing key", "seed"))
        if signing_key.verifier.key_id != bytes.fromhex(hex_id):
            raise CheckpointError(f"key ID {hex_id} does not match the key {name!r} derived from the seed")
        return signing_key

    def to_string(self) -> str:
        """Encode as ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{_b64encode(bytes([ALG_ED25519]) + self.seed)}"

    @property
    def verifier(self) -> VerifierKey:
        """The matching public key."""
        public_key = ed25519_public_of(self.seed)
        return _verifier(self.name, public_key)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return ed25519_private(self.seed).sign(message)


@functools.lru_cache(maxsize=16)
def _verifier(name: str, public_key: bytes) -> VerifierKey:
    return VerifierKey(name, ed25519_key_id(name, public_key), public_key)


def sign_note(text: str, key: SigningKey, *more: SigningKey) -> str:
    """Sign a note text; return the text, a blank line and a signature line per key (``key``, then ``more``)."""
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    bad = _bad_char(text)
    if bad is not None:
        raise CheckpointError(f"note text must not contain the character {bad!r}")
    message = text.encode("utf-8")
    lines = []
    for signer in (key, *more):
        signature = signer.verifier.key_id + signer.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {_b64encode(signature)}\n")
    return f"{text}\n{''.join(lines)}"


def open_note(note: str, key: VerifierKey) -> str:
    """Verify a signed note against ``key`` and return its text.

    Signatures by other keys are ignored; every signature by ``key`` must verify
    and at least one must be present.
    """
    bad = _bad_char(note)
    if bad is not None:
        raise CheckpointError(f"malformed note: it holds the character {bad!r}")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line between the text and the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise CheckpointError("malformed note: the signature lines must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"malformed note: more than {MAX_SIGNATURES} signature lines")
    message = text.encode("utf-8")
    verified = 0
    same_name = False
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed note: signature line {number} does not start with an em dash and space")
        name, _, sig64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            _check_name(name)
        except CheckpointError as exc:
            raise CheckpointError(f"malformed note: signature line {number}: {exc}") from exc
        raw = decode_base64(sig64, f"signature on line {number}")
        if len(raw) < 5:
            raise CheckpointError(f"malformed note: signature on line {number} is too short")
        if name != key.name:
            continue
        same_name = True
        if raw[:4] != key.key_id:
            continue
        if not key.verify(message, raw[4:]):
            raise CheckpointError(f"invalid signature for key {key.name}+{key.key_id.hex()}")
        verified += 1
    if not verified:
        hint = " (a signature by another key with that name is present)" if same_name else ""
        raise CheckpointError(f"note has no signature by key {key.name}+{key.key_id.hex()}{hint}")
    return text


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, *more: SigningKey) -> str:
    """The signed note of a checkpoint (by ``key``, and by ``more`` too: a key rotation's old key signs the first
    checkpoint of its successor, for witnesses and clients that know only the old one)."""
    return sign_note(checkpoint.body(), key, *more)


def verify_checkpoint(note: str, key: VerifierKey, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint, parse it and, if given, check its origin."""
    checkpoint = Checkpoint.parse_body(open_note(note, key))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint


def signed_time(checkpoint: Checkpoint) -> datetime | None:
    """The signing time a checkpoint carries in its ``time`` extension line, if any."""
    for line in checkpoint.extensions:
        if line.startswith(TIME_EXTENSION):
            try:
                return datetime.fromisoformat(line.removeprefix(TIME_EXTENSION))
            except ValueError:
                raise CheckpointError(f"the extension line {line!r} is not an ISO 8601 time") from None
    return None


@dataclass(frozen=True)
class StoredCheckpoint:
    """A row of the checkpoints table: the signed note and the columns stored beside it (which must agree)."""

    checkpoint: Checkpoint  # parsed from the note's body (not yet verified)
    key_name: str
    note: str
    signed_at: datetime
    column_size: int
    column_root: bytes

    @classmethod
    def from_columns(
        cls, note: str, key_name: str, signed_at: datetime, size: int, root: bytes, origin: str
    ) -> StoredCheckpoint:
        """The row as stored; a damaged note still gets a row to report on (its checkpoint then from the columns)."""
        try:
            checkpoint = Checkpoint.parse_body(str(note).split("\n\n", 1)[0] + "\n")
        except CheckpointError:
            checkpoint = Checkpoint(str(origin), int(size), bytes(root))
        return cls(checkpoint, str(key_name), str(note), signed_at, int(size), bytes(root))


class KeyNameMismatch(CheckpointError):
    """A signing key file holds a key of another name than the one asked for (made for another log origin)."""

    def __init__(self, path: Path, found: str, expected: str) -> None:
        super().__init__(f"signing key file {path} holds a key named {found!r}, not {expected!r}")
        self.path = path
        self.found = found
        self.expected = expected


def load_or_create_signing_key(path: Path, name: str, *, also: Collection[str] = ()) -> SigningKey:
    """Read the signing key at ``path`` (named ``name``, or one of the names ``also`` accepts), or create it there
    (mode 0600, named ``name``) if there is none."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return _create_signing_key(path, name)
    return _read_signing_key(path, name, mode, also)


def read_signing_key(path: Path, name: str, *, also: Collection[str] = ()) -> SigningKey:
    """Read the signing key at ``path`` (private to its owner, named ``name`` or one of ``also``); never create one."""
    return _read_signing_key(path, name, path.stat().st_mode, also)


def _read_signing_key(path: Path, name: str, mode: int, also: Collection[str] = ()) -> SigningKey:
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CheckpointError(
            f"signing key file {path} is open to group or others (mode {stat.S_IMODE(mode):04o}); "
            f"restrict it with `chmod 600 {path}`"
        )
    key = SigningKey.from_string(path.read_text(encoding="utf-8").strip())
    if key.name != name and key.name not in also:
        raise KeyNameMismatch(path, key.name, name)
    return key


def _create_signing_key(path: Path, name: str) -> SigningKey:
    key = SigningKey.generate(name)
    try:
        write_signing_key(path, key)
    except FileExistsError:  # another process just wrote one: that is the key
        return _read_signing_key(path, name, path.stat().st_mode)
    return key


def write_signing_key(path: Path, key: SigningKey) -> None:
    """Write ``key`` to a new file at ``path``, readable by its owner only (0600), durably; its folder is made
    (0700) if missing. Never overwrites: FileExistsError if anything is at ``path`` — even when two processes
    write at once, one wins and the other is told."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(key.to_string() + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.link(temporary, path)  # atomic, and never replaces a file that is there
    finally:
        os.unlink(temporary)
    if os.name == "posix":
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
