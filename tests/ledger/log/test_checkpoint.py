"""Unit tests for ledger.log.checkpoint: C2SP signed notes, checkpoints, keys and the key file.

Over 500 lines: one test module for one module of the verifier, whose every refusal (a malformed note, key, size,
signature line) is a case of its own; split, the cases of one format would sit in two files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.log.checkpoint import (
    Checkpoint,
    CheckpointError,
    KeyNameMismatch,
    SigningKey,
    VerifierKey,
    load_or_create_signing_key,
    open_note,
    read_signing_key,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    write_signing_key,
)

# ---------------------------------------------------------------------------
# Known answers from the reference implementation, golang/mod at
# sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen)
# and the package documentation in sumdb/note/note.go.
# ---------------------------------------------------------------------------

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
GO_SIGNED = GO_TEXT + "\n" + PETER_SIG

# The example checkpoint text of c2sp.org/tlog-checkpoint (C2SP/C2SP, tlog-checkpoint.md).
C2SP_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

ORIGIN = "example.com/jixiao-ledger"
ROOT = hashlib.sha256(b"root").digest()
EM_DASH = "\u2014"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate(ORIGIN)


@pytest.fixture(scope="module")
def checkpoint() -> Checkpoint:
    return Checkpoint(ORIGIN, 42, ROOT)


def _signature_bytes(note: str) -> bytes:
    line = note.rstrip("\n").rsplit("\n", 1)[1]
    return base64.b64decode(line.rsplit(" ", 1)[1])


def _with_signature(note: str, raw: bytes) -> str:
    head, line = note.rstrip("\n").rsplit("\n", 1)
    return f"{head}\n{line.rsplit(' ', 1)[0]} {base64.b64encode(raw).decode()}\n"


# ---------------------------------------------------------------------------
# Go known answers
# ---------------------------------------------------------------------------


def test_go_signer_key_derives_the_go_verifier_key() -> None:
    signer = SigningKey.from_string(GO_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.verifier.to_string() == GO_VKEY
    assert signer.verifier.key_id == bytes.fromhex("c74f20a3")
    assert signer.to_string() == GO_SKEY


def test_go_sign_gives_the_exact_go_note() -> None:
    assert sign_note(GO_TEXT, SigningKey.from_string(GO_SKEY)) == GO_SIGNED


def test_go_note_opens() -> None:
    assert open_note(GO_SIGNED, VerifierKey.from_string(GO_VKEY)) == GO_TEXT


def test_go_doubly_signed_note_opens_with_either_key() -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, VerifierKey.from_string(GO_VKEY)) == GO_TEXT
    assert open_note(note, VerifierKey.from_string(ENOCH_VKEY)) == GO_TEXT


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length, adjusted hash
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm, adjusted hash
    ],
)
def test_go_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        VerifierKey.from_string(vkey)


def _manglings(text: str) -> list[str]:
    """Every proper substring and every one-character increment, as the Go tests try."""
    cut = [text[i:j] for i in range(len(text) + 1) for j in range(i + 1, len(text) + 1) if (i, j) != (0, len(text))]
    bumped = [text[:i] + chr(ord(text[i]) + 1) + text[i + 1 :] for i in range(len(text))]
    return cut + bumped


def test_go_verifier_key_manglings_are_refused() -> None:
    accepted = []
    for mangled in _manglings(GO_VKEY):
        try:
            VerifierKey.from_string(mangled)
        except CheckpointError:
            continue
        accepted.append(mangled)
    assert accepted == []


def test_go_signer_key_manglings_are_refused() -> None:
    accepted = []
    for mangled in _manglings(GO_SKEY):
        try:
            SigningKey.from_string(mangled)
        except CheckpointError:
            continue
        accepted.append(mangled)
    assert accepted == []


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + f"— Bad Name {PETER_B64}",
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG * 101,
    ],
    ids=["no-signatures", "blank-only", "no-final-newline", "control-char", "bad-name", "stray-line", "too-many"],
)
def test_go_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="malformed note"):
        open_note(note, VerifierKey.from_string(GO_VKEY))


def test_go_invalid_signature_is_refused() -> None:
    note = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(CheckpointError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(note, VerifierKey.from_string(GO_VKEY))


def test_go_note_without_the_expected_signature_is_refused() -> None:
    with pytest.raises(CheckpointError, match=r"no signature by key EnochRoot\+af0cfe78"):
        open_note(GO_SIGNED, VerifierKey.from_string(ENOCH_VKEY))


# ---------------------------------------------------------------------------
# Checkpoint text
# ---------------------------------------------------------------------------


def test_body_layout() -> None:
    root = bytes(range(32))
    body = Checkpoint("example.com/log", 5, root, ("ext one", "ext two")).body()
    assert body == "example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\next two\n"


@pytest.mark.parametrize(
    "body",
    [C2SP_BODY, "o\n0\n" + base64.b64encode(bytes(32)).decode() + "\n", C2SP_BODY + "a line\nanother\n"],
)
def test_body_round_trips(body: str) -> None:
    parsed = Checkpoint.parse_body(body)
    assert parsed.body() == body


def test_c2sp_example_parses() -> None:
    parsed = Checkpoint.parse_body(C2SP_BODY)
    assert parsed.origin == "example.com/behind-the-sofa"
    assert parsed.size == 20852163
    assert parsed.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.extensions == ()


ROOT64 = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# The same 32 bytes with a non-zero padding bit in the last base64 digit (Python's decoder accepts it).
NON_CANONICAL_ROOT64 = ROOT64[:42] + _ALPHABET[_ALPHABET.index(ROOT64[42]) | 1] + "="
assert base64.b64decode(NON_CANONICAL_ROOT64) == ROOT
assert NON_CANONICAL_ROOT64 != ROOT64


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"o\n1\n{ROOT64}", "end with a newline"),
        ("o\n1\n", "at least three lines"),
        (f"\n1\n{ROOT64}\n", "origin"),
        (f"o\n01\n{ROOT64}\n", "leading zeros"),
        (f"o\n00\n{ROOT64}\n", "leading zeros"),
        (f"o\n-1\n{ROOT64}\n", "tree size"),
        (f"o\n+1\n{ROOT64}\n", "tree size"),
        (f"o\n 1\n{ROOT64}\n", "tree size"),
        (f"o\n1_0\n{ROOT64}\n", "tree size"),
        (f"o\n\uff11\n{ROOT64}\n", "tree size"),  # FULLWIDTH DIGIT ONE
        (f"o\n\n{ROOT64}\n", "tree size"),
        (f"o\n{2**64}\n{ROOT64}\n", "tree size"),
        ("o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "31 bytes"),
        ("o\n1\n" + base64.b64encode(bytes(33)).decode() + "\n", "33 bytes"),
        ("o\n1\n!!!!\n", "not valid base64"),
        ("o\n1\n" + ROOT64.rstrip("=") + "\n", "not valid base64"),
        ("o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n", "not valid base64"),
        ("o\n1\n" + NON_CANONICAL_ROOT64 + "\n", "canonical"),
        (f"o\n1\n{ROOT64}\n\n", "extension line 1"),
        (f"o\r\n1\n{ROOT64}\n", "origin"),
    ],
)
def test_malformed_bodies_are_refused(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.parse_body(body)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("o", -1, ROOT, ()),
        ("o", 2**64, ROOT, ()),
        ("o", True, ROOT, ()),
        ("o", 1, ROOT[:31], ()),
        ("o", 1, ROOT, ("",)),
        ("o", 1, ROOT, ("a\nb",)),
    ],
)
def test_invalid_checkpoints_cannot_be_built(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root, extensions)


# ---------------------------------------------------------------------------
# Signed checkpoints
# ---------------------------------------------------------------------------


def test_checkpoint_signed_and_verified(key: SigningKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 1234, ROOT, ("extension",))
    note = sign_checkpoint(checkpoint, key)
    assert verify_checkpoint(note, key.verifier, origin=ORIGIN) == checkpoint
    assert verify_checkpoint(note, key.verifier) == checkpoint


def test_empty_tree_checkpoint(key: SigningKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    assert verify_checkpoint(sign_checkpoint(checkpoint, key), key.verifier, ORIGIN) == checkpoint


def test_a_note_signed_by_several_keys_has_a_line_per_key_in_order(key: SigningKey, checkpoint: Checkpoint) -> None:
    """A rotation's first checkpoint is signed by the new key and the old: each line as one key alone writes it."""
    other, third = SigningKey.generate(ORIGIN), SigningKey.generate("witnessing.example/key")
    note = sign_checkpoint(checkpoint, key, other, third)
    body = checkpoint.body()
    assert note == body + "\n" + "".join(
        sign_checkpoint(checkpoint, k).removeprefix(body + "\n") for k in (key, other, third)
    )
    for signer in (key, other, third):
        assert open_note(note, signer.verifier) == body
    assert sign_note(body, key) == sign_checkpoint(checkpoint, key)


def test_signature_line_byte_layout(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key).encode("utf-8")
    body = checkpoint.body().encode("utf-8")
    prefix = body + b"\n" + b"\xe2\x80\x94 " + ORIGIN.encode() + b" "
    assert note.startswith(prefix)
    assert note.endswith(b"\n")
    assert note.count(b"\n") == body.count(b"\n") + 2
    raw = base64.b64decode(note[len(prefix) : -1], validate=True)
    assert len(raw) == 4 + 64
    public = key.verifier.public_key
    assert raw[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body)  # the signed message is the text alone


@pytest.mark.parametrize("bit", [0, 7, 100, 300, 511])
def test_forged_signature_is_refused(key: SigningKey, checkpoint: Checkpoint, bit: int) -> None:
    note = sign_checkpoint(checkpoint, key)
    raw = bytearray(_signature_bytes(note))
    raw[4 + bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(_with_signature(note, bytes(raw)), key.verifier, ORIGIN)


def test_flipped_key_id_bit_leaves_no_signature(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    raw = bytearray(_signature_bytes(note))
    raw[0] ^= 1
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_checkpoint(_with_signature(note, bytes(raw)), key.verifier, ORIGIN)


def test_other_key_with_the_same_name_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    impostor = SigningKey.generate(ORIGIN)
    assert impostor.verifier.key_id != key.verifier.key_id
    with pytest.raises(CheckpointError, match="another key with that name"):
        verify_checkpoint(sign_checkpoint(checkpoint, impostor), key.verifier, ORIGIN)


def test_impostor_reusing_the_key_id_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    impostor = SigningKey.generate(ORIGIN)
    note = sign_checkpoint(checkpoint, impostor)
    forged = _with_signature(note, key.verifier.key_id + _signature_bytes(note)[4:])
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(forged, key.verifier, ORIGIN)


@pytest.mark.parametrize(("old", "new"), [("42", "43"), ("example", "exbmple"), ("\n42", "\n420")])
def test_edited_body_is_refused(key: SigningKey, checkpoint: Checkpoint, old: str, new: str) -> None:
    note = sign_checkpoint(checkpoint, key)
    edited = note.replace(old, new, 1)
    assert edited != note
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(edited, key.verifier)


def test_one_byte_edit_of_root_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    root64 = base64.b64encode(ROOT).decode()
    edited_root = base64.b64encode(bytes([ROOT[0] ^ 1]) + ROOT[1:]).decode()
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(note.replace(root64, edited_root), key.verifier)


def test_wrong_origin_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    with pytest.raises(CheckpointError, match="origin"):
        verify_checkpoint(sign_checkpoint(checkpoint, key), key.verifier, origin="example.com/other-log")


def test_unknown_signature_lines_are_ignored(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    witness = SigningKey.generate("witness.example/w1")
    witness_line = sign_note(checkpoint.body(), witness).rsplit("\n", 2)[1] + "\n"
    unknown = f"{EM_DASH} unknown.example " + base64.b64encode(b"\x00\x01\x02\x03" + b"x" * 70).decode() + "\n"
    same_name_other_id = f"{EM_DASH} {ORIGIN} " + base64.b64encode(b"\xff" * 68).decode() + "\n"
    extra = witness_line + unknown + same_name_other_id
    after = note + extra
    before = note.replace("\n\n", "\n\n" + extra, 1)
    for cosigned in (after, before):
        assert verify_checkpoint(cosigned, key.verifier, ORIGIN) == checkpoint
    assert verify_checkpoint(note + witness_line, witness.verifier, ORIGIN) == checkpoint


def test_every_signature_by_the_key_must_verify(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    raw = bytearray(_signature_bytes(note))
    raw[-1] ^= 0x80
    bad_line = _with_signature(note, bytes(raw)).rsplit("\n", 2)[1] + "\n"
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(note + bad_line, key.verifier)


def test_missing_blank_line_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    with pytest.raises(CheckpointError, match="no blank line"):
        verify_checkpoint(note.replace("\n\n", "\n"), key.verifier)


def test_missing_final_newline_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    with pytest.raises(CheckpointError, match="end with a newline"):
        verify_checkpoint(sign_checkpoint(checkpoint, key)[:-1], key.verifier)


@pytest.mark.parametrize("sig64", ["not base64!", "AAAA", "QUJD", "ABCDE", ""])
def test_bad_signature_base64_is_refused(key: SigningKey, checkpoint: Checkpoint, sig64: str) -> None:
    note = sign_checkpoint(checkpoint, key)
    head = note.rstrip("\n").rsplit(" ", 1)[0]
    with pytest.raises(CheckpointError):
        verify_checkpoint(f"{head} {sig64}\n", key.verifier)


def test_hyphen_instead_of_em_dash_is_refused(key: SigningKey, checkpoint: Checkpoint) -> None:
    note = sign_checkpoint(checkpoint, key)
    with pytest.raises(CheckpointError, match="em dash"):
        verify_checkpoint(note.replace(EM_DASH, "-"), key.verifier)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n01\n{ROOT64}\n", "leading zeros"),
        (f"{ORIGIN}\n-1\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "31 bytes"),
        (f"{ORIGIN}\n1\n{ROOT64[:-2]}\n", "not valid base64"),
        (f"{ORIGIN}\n1\n", "at least three lines"),
    ],
)
def test_signed_but_malformed_checkpoints_are_refused(key: SigningKey, body: str, message: str) -> None:
    note = sign_note(body, key)
    assert open_note(note, key.verifier) == body
    with pytest.raises(CheckpointError, match=message):
        verify_checkpoint(note, key.verifier)


@pytest.mark.parametrize("text", ["no newline", "", "tab\there\n", "nul\x00\n"])
def test_sign_note_refuses_bad_text(key: SigningKey, text: str) -> None:
    with pytest.raises(CheckpointError):
        sign_note(text, key)


def test_note_with_blank_lines_in_its_text(key: SigningKey) -> None:
    text = "first\n\nthird\n"
    assert open_note(sign_note(text, key), key.verifier) == text


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def test_key_strings_round_trip(key: SigningKey) -> None:
    text = key.to_string()
    assert text.startswith(f"PRIVATE+KEY+{ORIGIN}+{key.verifier.key_id.hex()}+")
    assert SigningKey.from_string(text) == key
    verifier = key.verifier
    assert VerifierKey.from_string(verifier.to_string()) == verifier
    assert (
        verifier.to_string()
        == f"{ORIGIN}+{verifier.key_id.hex()}+" + base64.b64encode(b"\x01" + verifier.public_key).decode()
    )


def test_uppercase_key_id_is_accepted() -> None:
    name, key_id, key64 = GO_VKEY.split("+", 2)
    assert VerifierKey.from_string(f"{name}+{key_id.upper()}+{key64}") == VerifierKey.from_string(GO_VKEY)


def test_tampered_key_id_is_refused(key: SigningKey) -> None:
    name, key_id, key64 = key.verifier.to_string().split("+", 2)
    other = f"{int(key_id, 16) ^ 1:08x}"
    with pytest.raises(CheckpointError, match="does not match"):
        VerifierKey.from_string(f"{name}+{other}+{key64}")
    with pytest.raises(CheckpointError, match="does not match"):
        SigningKey.from_string(f"PRIVATE+KEY+{name}+{other}+" + key.to_string().split("+", 4)[4])


def test_renamed_key_is_refused(key: SigningKey) -> None:
    _, key_id, key64 = key.verifier.to_string().split("+", 2)
    with pytest.raises(CheckpointError, match="does not match"):
        VerifierKey.from_string(f"example.com/renamed+{key_id}+{key64}")


def test_verifier_key_checks_its_id_on_construction(key: SigningKey) -> None:
    verifier = key.verifier
    with pytest.raises(CheckpointError, match="does not match"):
        VerifierKey(verifier.name, bytes(4), verifier.public_key)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\tname", "new\nline", "nbsp\u00a0name"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(CheckpointError):
        SigningKey.generate(name)


def test_verify_reports_bad_signatures_as_false(key: SigningKey) -> None:
    signature = key.sign(b"message")
    assert key.verifier.verify(b"message", signature)
    assert not key.verifier.verify(b"messagf", signature)
    assert not key.verifier.verify(b"message", signature[:-1])
    assert not key.verifier.verify(b"message", b"")


def test_signing_key_repr_hides_the_seed(key: SigningKey) -> None:
    assert key.seed.hex() not in repr(key)
    assert repr(key.seed) not in repr(key)


# ---------------------------------------------------------------------------
# Key file
# ---------------------------------------------------------------------------

posix_only = pytest.mark.skipif(os.name != "posix" or sys.platform == "cygwin", reason="POSIX file modes")


@posix_only
def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "checkpoint.key"
    created = load_or_create_signing_key(path, ORIGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == created.to_string() + "\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.key"]  # no temporary file left
    assert load_or_create_signing_key(path, ORIGIN) == created
    assert path.read_text(encoding="utf-8") == created.to_string() + "\n"


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o620])
def test_key_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "checkpoint.key"
    key = load_or_create_signing_key(path, ORIGIN)
    path.chmod(mode)
    with pytest.raises(CheckpointError, match=r"chmod 600") as caught:
        load_or_create_signing_key(path, ORIGIN)
    assert str(path) in str(caught.value)
    path.chmod(0o600)
    assert load_or_create_signing_key(path, ORIGIN) == key


@posix_only
def test_key_file_with_another_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    load_or_create_signing_key(path, ORIGIN)
    with pytest.raises(KeyNameMismatch, match="holds a key named") as caught:
        load_or_create_signing_key(path, "example.com/other")
    assert (caught.value.path, caught.value.found, caught.value.expected) == (path, ORIGIN, "example.com/other")
    with pytest.raises(KeyNameMismatch):
        read_signing_key(path, "example.com/other")


@posix_only
def test_a_key_file_under_a_name_also_accepted_is_read_and_a_new_one_takes_the_name(tmp_path: Path) -> None:
    """A log's key made under its legacy name (api.config.keys.legacy_key_names) is still its key; a new file is made
    under the name asked for, never under one only accepted."""
    path = tmp_path / "checkpoint.key"
    legacy = load_or_create_signing_key(path, "example.com-log")
    assert load_or_create_signing_key(path, "example.com/log", also=("example.com-log",)) == legacy
    assert read_signing_key(path, "example.com/log", also=("x", "example.com-log")) == legacy
    with pytest.raises(KeyNameMismatch):
        read_signing_key(path, "example.com/log", also=("example.com-other",))
    made = load_or_create_signing_key(tmp_path / "new.key", "example.com/log", also=("example.com-log",))
    assert made.name == "example.com/log"


@posix_only
def test_a_new_key_file_is_written_private_and_never_over_another(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "next.key"
    key, other = SigningKey.generate(ORIGIN), SigningKey.generate(ORIGIN)
    write_signing_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text(encoding="utf-8") == key.to_string() + "\n"
    assert read_signing_key(path, ORIGIN) == key
    with pytest.raises(FileExistsError):
        write_signing_key(path, other)
    assert read_signing_key(path, ORIGIN) == key  # unchanged
    assert sorted(p.name for p in path.parent.iterdir()) == ["next.key"]  # no temporary file left behind
    path.chmod(0o644)
    with pytest.raises(CheckpointError, match="chmod 600"):
        read_signing_key(path, ORIGIN)


@posix_only
def test_a_new_key_file_is_never_written_over_any_file(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    path.write_text("not a key, but someone's file\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_signing_key(path, SigningKey.generate(ORIGIN))
    assert path.read_text(encoding="utf-8") == "not a key, but someone's file\n"


def test_reading_a_missing_key_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_signing_key(tmp_path / "absent.key", ORIGIN)
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_existing_key_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "go.key"
    path.write_text(GO_SKEY + "\n", encoding="utf-8")
    path.chmod(0o600)
    assert load_or_create_signing_key(path, "PeterNeumann").verifier.to_string() == GO_VKEY


@posix_only
def test_corrupt_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("PRIVATE+KEY+nonsense\n", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(CheckpointError):
        load_or_create_signing_key(path, "nonsense")
