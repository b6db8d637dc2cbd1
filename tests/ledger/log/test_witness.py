"""Witnesses (c2sp.org/tlog-witness) and cosignatures (c2sp.org/tlog-cosignature): formats, every answer of the
protocol, durability, and the forks a witness exists to refuse."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import pytest

from api.roles.witness import WitnessHome, WitnessServer
from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, SigningKey, sign_checkpoint
from ledger.log.witness import (
    SIZE_CONTENT_TYPE,
    Conflict,
    TrustPolicy,
    WitnessEndpoint,
    WitnessError,
    WitnessKey,
    WitnessSigningKey,
    add_checkpoint_body,
    add_signatures,
    cosignature_message,
    cosignatures,
    parse_endpoints,
    submit,
)
from ledger.log.witness_core import LogEntry, Witness, WitnessState, parse_add_checkpoint
from tests.ledger.log.test_merkle import build_store, fetch

ORIGIN = "czj.example.gov.cn/jixiao"
LOG_KEY = SigningKey.generate("czj.example.gov.cn/jixiao")
OTHER_LOG_KEY = SigningKey.generate("czj.example.gov.cn/jixiao")  # same name, another key: a forger's


def leaves(count: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.hash_leaf(salt + i.to_bytes(8, "big")) for i in range(count)]


class Log:
    """A log kept in memory: its leaves, signed checkpoints of any size and proofs between them."""

    def __init__(self, items: list[bytes], key: SigningKey = LOG_KEY) -> None:
        self.items = items
        self.key = key

    def note(self, size: int) -> str:
        store = build_store(self.items[:size])
        root = merkle.root_hash(size, fetch(store, merkle.root_nodes(size))) if size else merkle.EMPTY_ROOT
        return sign_checkpoint(Checkpoint(ORIGIN, size, root), self.key)

    def proof(self, old: int, new: int) -> list[bytes]:
        store = build_store(self.items[:new])
        return merkle.consistency_proof(old, new, fetch(store, merkle.consistency_proof_nodes(old, new)))


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(
        WitnessSigningKey.generate("sjj.example.gov.cn/witness"),
        [LogEntry(ORIGIN, (LOG_KEY.verifier,))],
        WitnessState(tmp_path / "state"),
        clock=lambda: 1_700_000_000,
    )


def add(witness: Witness, log: Log, old: int, new: int) -> tuple[int, str]:
    answer = witness.add_checkpoint(add_checkpoint_body(old, log.proof(old, new) if old else [], log.note(new)))
    return answer.status, answer.body


# ------------------------------------------------------------------------------------------------ formats


def test_keys_round_trip_and_their_ids_follow_the_spec() -> None:
    key = WitnessSigningKey.generate("sjj.example.gov.cn/witness")
    again = WitnessSigningKey.from_string(key.to_string())
    assert again == key
    verifier = WitnessKey.from_string(key.verifier.to_string())
    assert verifier == key.verifier
    expected = hashlib.sha256(b"sjj.example.gov.cn/witness\n\x04" + verifier.public_key).digest()[:4]
    assert verifier.key_id == expected
    encoded = key.verifier.to_string().split("+", 2)[2]
    assert base64.b64decode(encoded)[0] == 0x04  # a C2SP vkey of signature type 0x04


@pytest.mark.parametrize(
    "text",
    [
        "name+00000000+BAAA",
        "name+zzzzzzzz+" + base64.b64encode(bytes([4]) + bytes(32)).decode(),
        "na me+00000000+" + base64.b64encode(bytes([4]) + bytes(32)).decode(),
        "name+00000000+" + base64.b64encode(bytes([1]) + bytes(32)).decode(),  # a note key, not a cosigner key
        "name+00000000+" + base64.b64encode(bytes([4]) + bytes(31)).decode(),
        "nameonly",
    ],
)
def test_malformed_witness_keys_are_refused(text: str) -> None:
    with pytest.raises(WitnessError):
        WitnessKey.from_string(text)


def test_a_witness_key_of_the_wrong_id_is_refused() -> None:
    verifier = WitnessSigningKey.generate("w").verifier
    with pytest.raises(WitnessError):
        WitnessKey("w", bytes(4), verifier.public_key)
    with pytest.raises(WitnessError):
        WitnessKey("w", verifier.key_id, bytes(31))


def test_a_cosignature_signs_the_header_the_time_and_the_whole_body() -> None:
    key = WitnessSigningKey.generate("w1")
    body = Checkpoint(ORIGIN, 5, bytes(32), ("time 2026-12-04T00:00:00+00:00",)).body()
    line = key.cosign(body, 1_679_315_147)
    raw = base64.b64decode(line.split(" ")[2])
    assert line.startswith("\u2014 w1 ")
    assert line.endswith("\n")
    assert raw[:4] == key.verifier.key_id
    assert int.from_bytes(raw[4:12], "big") == 1_679_315_147
    assert cosignature_message(body, 1_679_315_147) == b"cosignature/v1\ntime 1679315147\n" + body.encode()
    assert key.verifier.verify(body, 1_679_315_147, raw[12:])
    assert not key.verifier.verify(body, 1_679_315_148, raw[12:])  # the time is signed
    assert not key.verifier.verify(body.replace("5", "6", 1), 1_679_315_147, raw[12:])


def test_cosignatures_count_only_pinned_witnesses_and_a_forged_one_is_named() -> None:
    log = Log(leaves(5))
    note = log.note(5)
    body = note.split("\n\n")[0] + "\n"
    w1, w2, stranger = (WitnessSigningKey.generate(name) for name in ("w1", "w2", "stranger"))
    cosigned = add_signatures(note, [w1.cosign(body, 10), w2.cosign(body, 11), stranger.cosign(body, 12)])
    found = cosignatures(cosigned, [w1.verifier, w2.verifier])
    assert sorted(c.witness.name for c in found) == ["w1", "w2"]
    policy = TrustPolicy(LOG_KEY.verifier, (w1.verifier, w2.verifier), 2, origin=ORIGIN)
    assert policy.check(cosigned)[0].size == 5
    with pytest.raises(WitnessError, match="1 of the pinned witnesses"):
        policy.check(add_signatures(note, [w1.cosign(body, 10)]))
    # w2's name and key ID on a signature over another checkpoint: a forgery, never silently skipped.
    other_body = Log(leaves(6)).note(6).split("\n\n")[0] + "\n"
    forged = add_signatures(note, [w1.cosign(body, 10), w2.cosign(other_body, 11)])
    with pytest.raises(WitnessError, match=r"w2.*does not verify"):
        policy.check(forged)


def test_a_policy_no_checkpoint_could_meet_is_refused() -> None:
    with pytest.raises(WitnessError):
        TrustPolicy(LOG_KEY.verifier, (WitnessSigningKey.generate("w1").verifier,), 2)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"old 01\n\nx", "leading zeros"),
        (b"old -1\n\nx", "decimal"),
        (b"old 1\n" + b"AAAA\n" + b"\nx", "32-byte"),
        (b"old 1\nnot base64!\n\nx", "base64"),
        (b"old 1\n" + b"".join(base64.b64encode(bytes(32)) + b"\n" for _ in range(64)) + b"\nx", "63"),
        (b"old 1\nx", "empty line"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_malformed_requests_are_refused(body: bytes, error: str) -> None:
    with pytest.raises(WitnessError, match=error):
        parse_add_checkpoint(body)


def test_endpoints_parse_in_either_order_and_refuse_a_repeated_name() -> None:
    key = WitnessSigningKey.generate("w1").verifier.to_string()
    other = WitnessSigningKey.generate("w2").verifier.to_string()
    endpoints = parse_endpoints(f"http://10.0.0.5:7380 {key};\n{other} https://w2.example/")
    assert [e.url for e in endpoints] == ["http://10.0.0.5:7380", "https://w2.example"]
    with pytest.raises(WitnessError):
        parse_endpoints(f"http://a {key}; http://b {key}")
    with pytest.raises(WitnessError):
        parse_endpoints(f"ftp://a {key}")


# ------------------------------------------------------------------------------------------ the protocol


def test_the_first_checkpoint_is_cosigned_then_only_extensions_proved_from_it(witness: Witness) -> None:
    log = Log(leaves(40))
    status, line = add(witness, log, 0, 10)
    assert status == 200
    assert cosignatures(add_signatures(log.note(10), [line]), [witness.key.verifier])[0].timestamp == 1_700_000_000
    assert add(witness, log, 10, 25)[0] == 200
    assert add(witness, log, 25, 25)[0] == 200  # the same tree again: cosigned again
    status, body = add(witness, log, 10, 40)  # an old size that is not the witness's
    assert (status, body) == (409, "25\n")
    assert (
        witness.add_checkpoint(add_checkpoint_body(10, log.proof(10, 40), log.note(40))).content_type
        == SIZE_CONTENT_TYPE
    )
    assert add(witness, log, 25, 40)[0] == 200


def test_a_fork_is_refused_and_kept_as_evidence(witness: Witness, tmp_path: Path) -> None:
    honest, fork = Log(leaves(30)), Log(leaves(20) + leaves(10, b"rewritten"))
    assert add(witness, honest, 0, 20)[0] == 200
    # The forged tree of size 30 shares the first 20 leaves' root, but not the honest one's leaves beyond: a proof
    # from 20 made on the fork proves the fork, which the witness accepts; shown the honest 30 after, it must refuse.
    assert add(witness, fork, 20, 30)[0] == 200
    status, _ = add(witness, honest, 30, 30)
    assert status == 409  # a different tree of a size it cosigned
    rewritten = Log(leaves(5) + leaves(35, b"x"))
    status, _ = add(witness, rewritten, 30, 40)  # a proof made on another history does not verify
    assert status == 422
    evidence = (tmp_path / "state" / "evidence.jsonl").read_text(encoding="utf-8")
    assert "a different root" in evidence
    assert "consistency proof does not verify" in evidence


def test_a_smaller_checkpoint_is_a_conflict_never_a_rollback(witness: Witness) -> None:
    log = Log(leaves(20))
    assert add(witness, log, 0, 20)[0] == 200
    answer = witness.add_checkpoint(add_checkpoint_body(20, [], log.note(10)))
    assert (answer.status, answer.body) == (400, "the old size is larger than the checkpoint's\n")
    assert add(witness, log, 0, 10)[0] == 409


def test_unknown_logs_and_bad_signatures_are_refused(witness: Witness) -> None:
    log = Log(leaves(10))
    other_origin = sign_checkpoint(Checkpoint("other.example/log", 10, bytes(32)), LOG_KEY)
    assert witness.add_checkpoint(add_checkpoint_body(0, [], other_origin)).status == 404
    forged = Log(leaves(10), OTHER_LOG_KEY)
    assert add(witness, forged, 0, 10)[0] == 403
    assert witness.add_checkpoint(b"old 0\n\nnot a note").status == 400
    assert witness.add_checkpoint(add_checkpoint_body(0, [bytes(32)], log.note(10))).status == 400


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    key = WitnessSigningKey.generate("w")
    log, fork = Log(leaves(20)), Log(leaves(20, b"fork"))
    first = Witness(key, [LogEntry(ORIGIN, (LOG_KEY.verifier,))], WitnessState(tmp_path))
    assert add(first, log, 0, 20)[0] == 200
    again = Witness(key, [LogEntry(ORIGIN, (LOG_KEY.verifier,))], WitnessState(tmp_path))
    assert add(again, fork, 0, 20) == (409, "20\n")
    assert add(again, fork, 20, 20)[0] == 409


def test_concurrent_submissions_never_roll_the_state_back(witness: Witness) -> None:
    """The race of the spec: a check of size N and an update to N+K must not interleave."""
    log = Log(leaves(64))
    assert add(witness, log, 0, 1)[0] == 200
    outcomes: list[int] = []
    barrier = threading.Barrier(8)

    def racer(size: int) -> None:
        barrier.wait()
        outcomes.append(add(witness, log, 1, size)[0])

    threads = [threading.Thread(target=racer, args=(size,)) for size in range(2, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(200) == 1
    assert outcomes.count(409) == 7
    seen = witness.state.get(ORIGIN)
    assert seen is not None
    assert seen.size in range(2, 10)


def test_split_view_two_witnesses_each_shown_another_tree(tmp_path: Path) -> None:
    """The log shows tree A to one witness and tree B, of the same size, to the other: each cosigns what it saw,
    so no checkpoint carries both, and a client requiring both refuses either."""
    logs = [LogEntry(ORIGIN, (LOG_KEY.verifier,))]
    w1 = Witness(WitnessSigningKey.generate("w1"), logs, WitnessState(tmp_path / "1"))
    w2 = Witness(WitnessSigningKey.generate("w2"), logs, WitnessState(tmp_path / "2"))
    a, b = Log(leaves(12)), Log(leaves(12, b"B"))
    _, line_a = add(w1, a, 0, 12)
    _, line_b = add(w2, b, 0, 12)
    policy = TrustPolicy(LOG_KEY.verifier, (w1.key.verifier, w2.key.verifier), 2, origin=ORIGIN)
    for note, line in ((a.note(12), line_a), (b.note(12), line_b)):
        with pytest.raises(WitnessError, match="cosigned by 1"):
            policy.check(add_signatures(note, [line]))
    assert add(w1, b, 12, 12)[0] == 409  # and a witness shown the other tree refuses it


# ------------------------------------------------------------------------------------ the server and client


def test_the_server_cosigns_for_a_log_over_http(tmp_path: Path) -> None:
    home = WitnessHome(tmp_path / "witness")
    key = home.init("sjj.example.gov.cn/witness")
    home.add_log(ORIGIN, LOG_KEY.verifier)
    assert (home.key_file.stat().st_mode & 0o777) == 0o600
    with pytest.raises(WitnessError):
        home.init("again")  # a witness with a new key would be a new witness
    server = WitnessServer(("127.0.0.1", 0), home.witness())
    server.start()
    try:
        endpoint = WitnessEndpoint(key.verifier, f"http://127.0.0.1:{server.server_address[1]}")
        log = Log(leaves(30))
        assert submit(endpoint, 0, [], log.note(10)).witness == key.verifier
        with pytest.raises(Conflict) as conflict:
            submit(endpoint, 0, [], log.note(30))
        assert conflict.value.size == 10
        assert submit(endpoint, 10, log.proof(10, 30), log.note(30)).timestamp > 0
        with pytest.raises(WitnessError, match="HTTP 403"):
            submit(endpoint, 30, [], Log(leaves(30), OTHER_LOG_KEY).note(30))
    finally:
        server.shutdown()
        server.server_close()
    unreachable = WitnessEndpoint(key.verifier, "http://127.0.0.1:9")
    with pytest.raises(WitnessError, match="unreachable"):
        submit(unreachable, 0, [], Log(leaves(3)).note(3), timeout=2)
