"""Signed notes and keys at the edges the mutation run (``make mutate``) found untested: each test pins one limit
of ledger.log.checkpoint (signature lines, characters, tree sizes, names, key lengths).

Refusals are matched by the error's type, never by its message.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.log import checkpoint

ORIGIN = "example.com/jixiao-ledger"
ROOT = hashlib.sha256(b"root").digest()
SEED = bytes(range(32))
KEY = checkpoint.SigningKey("jixiao-test", SEED)
OTHER = checkpoint.SigningKey("other-signer", bytes(range(1, 33)))


def signature_line(name: str, raw: bytes) -> str:
    return f"\u2014 {name} {base64.b64encode(raw).decode()}\n"


def signed(text: str = f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\n") -> tuple[str, str]:
    """A note signed by KEY: (its text, its one signature line)."""
    note = checkpoint.sign_note(text, KEY)
    return text, note[len(text) + 1 :]


# ---------------------------------------------------------------------------
# Signature lines: at most 100, each at least a key ID and one byte
# ---------------------------------------------------------------------------


def test_a_note_with_exactly_100_signatures_opens() -> None:
    text, line = signed()
    assert checkpoint.MAX_SIGNATURES == 100
    assert checkpoint.open_note(f"{text}\n{line * 100}", KEY.verifier) == text


def test_a_note_with_101_signatures_is_refused() -> None:
    text, line = signed()
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{line * 101}", KEY.verifier)


def test_a_5_byte_signature_by_another_key_is_skipped() -> None:
    text, line = signed()
    short = signature_line(OTHER.name, OTHER.verifier.key_id + b"\x01")
    assert checkpoint.open_note(f"{text}\n{short}{line}", KEY.verifier) == text
    assert checkpoint.open_note(f"{text}\n{line}{short}", KEY.verifier) == text


def test_a_4_byte_signature_is_refused() -> None:
    text, line = signed()
    short = signature_line(OTHER.name, OTHER.verifier.key_id)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{line}{short}", KEY.verifier)


def test_a_5_byte_signature_by_the_key_is_refused() -> None:
    text, line = signed()
    bad = signature_line(KEY.name, KEY.verifier.key_id + b"\x01")
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{line}{bad}", KEY.verifier)


def test_a_signature_under_the_key_name_with_another_key_id_is_skipped() -> None:
    text, line = signed()
    other_id = bytes(b ^ 0xFF for b in KEY.verifier.key_id)
    stranger = signature_line(KEY.name, other_id + bytes(64))
    assert checkpoint.open_note(f"{text}\n{stranger}{line}", KEY.verifier) == text
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{stranger}", KEY.verifier)  # and alone it is no signature by the key


def test_a_note_needs_a_signature_line() -> None:
    text, _ = signed()
    for note in (f"{text}\n", f"{text}\n\n", text):
        with pytest.raises(checkpoint.CheckpointError):
            checkpoint.open_note(note, KEY.verifier)


# ---------------------------------------------------------------------------
# Characters: C0 controls but the newline, and lone surrogates, are refused; the rest of Unicode is text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "char",
    [chr(0xD800), chr(0xDBFF), chr(0xDC00), chr(0xDFFF), "\x00", "\x09", "\x1f", "\r"],
    ids=lambda char: f"U+{ord(char):04X}",
)
def test_a_note_refuses_controls_and_lone_surrogates(char: str) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.sign_note(f"{ORIGIN}{char}\n", KEY)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.Checkpoint(f"{ORIGIN}{char}", 1, ROOT)
    text, line = signed()
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{line}".replace(ORIGIN, ORIGIN + char), KEY.verifier)


@pytest.mark.parametrize(
    "char",
    ["\ue000", "\ud7ff", "\uffff", "\U0010ffff", " ", "\x7f", "\u2014", "预"],
    ids=lambda char: f"U+{ord(char):04X}",
)
def test_a_note_accepts_the_characters_around_them(char: str) -> None:
    origin = f"{ORIGIN}{char}"
    body = checkpoint.Checkpoint(origin, 1, ROOT).body()
    note = checkpoint.sign_note(body, KEY)
    assert checkpoint.verify_checkpoint(note, KEY.verifier, origin).origin == origin


def test_a_key_name_may_hold_a_private_use_character() -> None:
    key = checkpoint.SigningKey("log\ue000name", SEED)
    assert checkpoint.VerifierKey.from_string(key.verifier.to_string()) == key.verifier


# ---------------------------------------------------------------------------
# Tree sizes: 0 to 2**64 - 1
# ---------------------------------------------------------------------------


def test_a_tree_of_size_2_to_the_64_minus_1_is_accepted() -> None:
    largest = 2**64 - 1
    assert largest == checkpoint.MAX_TREE_SIZE
    made = checkpoint.Checkpoint(ORIGIN, largest, ROOT)
    assert made.body().split("\n")[1] == "18446744073709551615"
    assert checkpoint.Checkpoint.parse_body(made.body()) == made
    assert checkpoint.verify_checkpoint(checkpoint.sign_checkpoint(made, KEY), KEY.verifier).size == largest


@pytest.mark.parametrize("size", [2**64, -1, True, 1.0, "1"])
def test_other_tree_sizes_are_refused(size: Any) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.Checkpoint(ORIGIN, size, ROOT)


def test_a_tree_of_size_0_is_accepted() -> None:
    assert checkpoint.Checkpoint.parse_body(checkpoint.Checkpoint(ORIGIN, 0, ROOT).body()).size == 0


# ---------------------------------------------------------------------------
# Signer names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a+b", "+", "a\u3000b", "a\tb", "a\x1fb", "a\udfffb"])
def test_a_signature_line_with_a_malformed_signer_name_is_refused(name: str) -> None:
    text, line = signed()
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.open_note(f"{text}\n{signature_line(name, bytes(68))}{line}", KEY.verifier)


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\u3000b", "a\nb", "a\x1fb", "a\udfffb", None, b"name"])
def test_keys_with_a_malformed_name_are_refused(name: Any) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.SigningKey(name, SEED)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey(name, KEY.verifier.key_id, KEY.verifier.public_key)


# ---------------------------------------------------------------------------
# Key lengths: a 4-byte key ID, a 32-byte public key, a 32-byte seed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [bytes(31), bytes(33), b"", bytearray(32), "0" * 32, None])
def test_a_signing_key_with_a_seed_of_the_wrong_length_or_type_is_refused(seed: Any) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.SigningKey("jixiao-test", seed)


@pytest.mark.parametrize("public_key", [bytes(31), bytes(33), b"", bytearray(32), None])
def test_a_verifier_key_with_a_public_key_of_the_wrong_length_or_type_is_refused(public_key: Any) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey(KEY.name, KEY.verifier.key_id, public_key)


@pytest.mark.parametrize("cut", [slice(0, 3), slice(0, 0)])
def test_a_verifier_key_with_a_short_key_id_is_refused(cut: slice) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey(KEY.name, KEY.verifier.key_id[cut], KEY.verifier.public_key)


@pytest.mark.parametrize("key_id", [b"\x00" * 5, bytearray(4), None])
def test_a_verifier_key_with_a_key_id_of_the_wrong_length_or_type_is_refused(key_id: Any) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey(KEY.name, key_id, KEY.verifier.public_key)


def test_a_verifier_key_of_the_right_lengths_is_built() -> None:
    verifier = checkpoint.VerifierKey(KEY.name, KEY.verifier.key_id, KEY.verifier.public_key)
    assert verifier == KEY.verifier
    assert len(verifier.key_id) == 4
    assert len(verifier.public_key) == 32


@pytest.mark.parametrize("length", [0, 31, 33])
def test_key_strings_with_a_key_of_the_wrong_length_are_refused(length: int) -> None:
    name, hex_id, _ = KEY.verifier.to_string().split("+", 2)
    encoded = base64.b64encode(bytes([checkpoint.ALG_ED25519]) + bytes(length)).decode()
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey.from_string(f"{name}+{hex_id}+{encoded}")
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.SigningKey.from_string(f"PRIVATE+KEY+{name}+{hex_id}+{encoded}")


def test_key_strings_with_no_key_bytes_are_refused() -> None:
    name, hex_id, _ = KEY.verifier.to_string().split("+", 2)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.VerifierKey.from_string(f"{name}+{hex_id}+")
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.SigningKey.from_string(f"PRIVATE+KEY+{name}+{hex_id}+")


# ---------------------------------------------------------------------------
# A note's text may be as short as one newline
# ---------------------------------------------------------------------------


def test_a_note_whose_text_is_one_newline_opens() -> None:
    note = checkpoint.sign_note("\n", KEY)
    assert note.startswith("\n\n")
    assert checkpoint.open_note(note, KEY.verifier) == "\n"


# ---------------------------------------------------------------------------
# The signing time a checkpoint carries
# ---------------------------------------------------------------------------


def test_the_signing_time_is_read_from_its_extension_line() -> None:
    made = checkpoint.Checkpoint(ORIGIN, 7, ROOT, ("other extension", "time 2021-06-01T09:00:00+08:00"))
    assert checkpoint.signed_time(made) == datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


def test_a_checkpoint_without_a_time_line_has_no_signing_time() -> None:
    assert checkpoint.signed_time(checkpoint.Checkpoint(ORIGIN, 7, ROOT, ("timestamp 2021",))) is None
    assert checkpoint.signed_time(checkpoint.Checkpoint(ORIGIN, 7, ROOT)) is None


def test_a_time_line_that_is_no_time_is_refused() -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.signed_time(checkpoint.Checkpoint(ORIGIN, 7, ROOT, ("time yesterday",)))


# ---------------------------------------------------------------------------
# The key file: its folder private, written beside the key and linked into place
# ---------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_key_files_new_folder_is_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.key"
    checkpoint.load_or_create_signing_key(path, ORIGIN)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_key_another_process_wrote_first_is_the_one_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes create the key at once: the one whose link fails reads the winner's key, and leaves no
    temporary file (written hidden beside the key, so that the link stays on one file system)."""
    path = tmp_path / "checkpoint.key"
    winner = checkpoint.SigningKey(ORIGIN, SEED)
    linked: list[Path] = []

    def link_after_the_winner(source: str, target: str) -> None:
        linked.append(Path(source))
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(winner.to_string() + "\n")
        raise FileExistsError(target)

    monkeypatch.setattr(os, "link", link_after_the_winner)
    assert checkpoint.load_or_create_signing_key(path, ORIGIN) == winner
    assert [source.parent for source in linked] == [tmp_path]
    assert linked[0].name.startswith(".checkpoint.key.")
    assert linked[0].name.endswith(".tmp")
    assert sorted(item.name for item in tmp_path.iterdir()) == ["checkpoint.key"]


# ---------------------------------------------------------------------------
# A stored checkpoint's row: the note parsed, the columns kept as stored
# ---------------------------------------------------------------------------

ROOT = hashlib.sha256(b"root").digest()
WHEN = datetime(2021, 3, 19, 9, 30, tzinfo=UTC)


def test_a_stored_row_parses_its_note_and_keeps_its_columns_as_stored() -> None:
    key = checkpoint.SigningKey.generate("czj.example.gov.cn-log")
    note = checkpoint.sign_note(checkpoint.Checkpoint("czj.example.gov.cn/log", 7, ROOT).body(), key)
    other_root = hashlib.sha256(b"other").digest()
    row = checkpoint.StoredCheckpoint.from_columns(note, key.name, WHEN, 8, other_root, "ignored/origin")
    # The checkpoint is the note's; the columns stay what the row says, so a verifier can compare the two.
    assert row.checkpoint == checkpoint.Checkpoint("czj.example.gov.cn/log", 7, ROOT)
    assert (row.key_name, row.note, row.signed_at, row.column_size, row.column_root) == (
        key.name,
        note,
        WHEN,
        8,
        other_root,
    )
    assert type(row.column_size) is int
    assert type(row.column_root) is bytes


def test_a_damaged_note_still_gives_a_row_its_checkpoint_from_the_columns() -> None:
    # The root as a driver may hand a bytea column back (a memoryview): the row keeps it as bytes.
    root: Any = memoryview(ROOT)
    row = checkpoint.StoredCheckpoint.from_columns("not a note", "k", WHEN, 5, root, "czj.example.gov.cn/log")
    assert row.checkpoint == checkpoint.Checkpoint("czj.example.gov.cn/log", 5, ROOT)
    assert (row.key_name, row.note, row.column_size, row.column_root) == ("k", "not a note", 5, ROOT)
    assert type(row.column_root) is bytes


def test_a_stored_note_is_cut_at_its_first_blank_line() -> None:
    # A note with a second blank line after its signatures: the checkpoint is the body before the first one (the
    # note's, not the columns'), whatever follows.
    key = checkpoint.SigningKey.generate("czj.example.gov.cn-log")
    note = checkpoint.sign_note(checkpoint.Checkpoint("czj.example.gov.cn/log", 7, ROOT).body(), key) + "\nappended\n"
    other_root = hashlib.sha256(b"other").digest()
    row = checkpoint.StoredCheckpoint.from_columns(note, key.name, WHEN, 8, other_root, "other/origin")
    assert row.checkpoint == checkpoint.Checkpoint("czj.example.gov.cn/log", 7, ROOT)
    assert (row.note, row.column_size, row.column_root) == (note, 8, other_root)
