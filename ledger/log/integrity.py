"""The hashes that make the log tamper-evident.

Each stored event is a leaf. Its canonical bytes cover the originator id,
version, topic and the stored state exactly as stored, each length-prefixed
so no two different events can share an encoding::

    canonical = b"JXL1" || uuid(16) || int64_be(version)
                || uint32_be(len(topic)) || topic(utf-8)
                || uint32_be(len(state)) || state

    leaf_hash  = SHA-256(0x00 || canonical)          (RFC 9162 leaf hash)
    chain_hash = SHA-256(previous chain_hash || leaf_hash), the first
                 previous being 32 zero bytes

An offline verifier needs nothing but this docstring and SHA-256.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

CANONICAL_MAGIC = b"JXL1"
GENESIS_CHAIN_HASH = bytes(32)
LEAF_HASH_PREFIX = b"\x00" + CANONICAL_MAGIC  # what every leaf hash's input starts with


def canonical_bytes(originator_id: UUID, originator_version: int, topic: str, state: bytes) -> bytes:
    topic_bytes = topic.encode("utf-8")
    return b"".join(
        (
            CANONICAL_MAGIC,
            originator_id.bytes,
            struct.pack(">q", originator_version),
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            struct.pack(">I", len(state)),
            state,
        )
    )


def leaf_hash(originator_id: UUID, originator_version: int, topic: str, state: bytes) -> bytes:
    return leaf_hash_raw(originator_id.bytes, originator_version, topic.encode("utf-8"), state)


_VERSION_AND_TOPIC_LENGTH = struct.Struct(">qI").pack


def leaf_hash_raw(originator_id: bytes, originator_version: int, topic: bytes, state: bytes) -> bytes:
    """The same hash from raw bytes (16-byte id, UTF-8 topic), without decoding."""
    return hashlib.sha256(
        b"".join(
            (
                LEAF_HASH_PREFIX,
                originator_id,
                _VERSION_AND_TOPIC_LENGTH(originator_version, len(topic)),
                topic,
                len(state).to_bytes(4, "big"),
                state,
            )
        )
    ).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


# A snapshot's authenticator signs this message with the log's Ed25519 key. It opens with the byte 0xFF, which no
# UTF-8 text contains: a note (checkpoint) or a cosignature signs UTF-8 text, so no signature over one of these can
# ever be presented as a signature over the other. The state enters as its SHA-256; the chain hash of the leaf at
# which the snapshot's version was recorded binds it to that exact history of the whole log.
SNAPSHOT_LABEL = b"\xffjixiao-snapshot/v1\n"


def snapshot_message(
    originator_id: UUID, originator_version: int, topic: str, state: bytes, chain_hash_at_version: bytes
) -> bytes:
    """The bytes a snapshot's authenticator signs (see ``SNAPSHOT_LABEL``)."""
    topic_bytes = topic.encode("utf-8")
    if len(chain_hash_at_version) != 32:
        raise ValueError("a chain hash is 32 bytes")
    return b"".join(
        (
            SNAPSHOT_LABEL,
            originator_id.bytes,
            struct.pack(">qI", originator_version, len(topic_bytes)),
            topic_bytes,
            hashlib.sha256(state).digest(),
            chain_hash_at_version,
        )
    )
