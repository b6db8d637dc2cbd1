"""The in-browser verifier's primitives (``api/console/static/verify.js``, run in Node) give the Python verifier's
verdict on every input: leaf hashes, inclusion proofs, keys, signed notes, cosignatures, Ed25519 signatures however
crafted (against OpenSSL, through ``cryptography``), base64 and times. The whole bundles are compared in
``tests/api/console/test_verify_js_bundles.py``.

Over 500 lines: one case per primitive of the in-browser verifier against the Python verifier's verdict; the cases
share the Node harness.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.log import merkle
from ledger.log.audit import _canonical_base64
from ledger.log.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    VerifierKey,
    open_note,
    sign_checkpoint,
    signed_time,
)
from ledger.log.integrity import leaf_hash
from ledger.log.witness import WitnessError, WitnessKey, WitnessSigningKey, cosignatures
from tests.browsers import STATIC, call, hexed, run_node, unhex, values
from tests.ledger.log.test_merkle import naive_mth, naive_path

ORIGIN = "czj.example.gov.cn/jixiao"
LOG_KEY = SigningKey.generate("czj.example.gov.cn-jixiao")
WITNESS_KEYS = [WitnessSigningKey.generate(name) for name in ("sjj.example.gov.cn/witness", "rd.example.gov.cn/w")]


def python_verdict(function: Callable[[], Any], *errors: type[Exception]) -> tuple[bool, Any]:
    """(True, result) or (False, None) where Python raises one of ``errors``."""
    try:
        return True, function()
    except errors:
        return False, None


def js_verdict(result: dict[str, Any]) -> tuple[bool, Any]:
    return ("error" not in result), unhex(result.get("value"))


# ------------------------------------------------------------------------------------------------ hashing


def test_leaf_hashes_are_the_pythons() -> None:
    rng = random.Random(7)
    topics = ["ledger.domain.project:Project.Declared", "项目.绩效目标已批复", "emoji 🙂 topic", "", "a" * 300]
    cases = []
    for i in range(60):
        object_id = uuid.UUID(int=rng.getrandbits(128))
        version = rng.choice([1, 2, 999, 2**31, 2**53 + 1, 2**63 - 1])
        topic = topics[i % len(topics)]
        state = rng.randbytes(rng.choice([0, 1, 55, 56, 64, 700, 5000]))
        cases.append(
            (
                (object_id, version, topic, state),
                call("leafHash", hexed(object_id.bytes), {"$int": str(version)}, topic, hexed(state)),
            )
        )
    got = values(run_node([js for _, js in cases]))
    assert got == [leaf_hash(*args) for args, _ in cases]


def test_inclusion_proofs_are_checked_as_python_checks_them() -> None:
    rng = random.Random(11)
    calls = []
    expected = []
    for size in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100, 257]:
        leaves = [hashlib.sha256(rng.randbytes(8)).digest() for _ in range(size)]
        root = naive_mth(leaves)
        for index in sorted({0, size - 1, rng.randrange(size)}):
            proof = naive_path(index, leaves)
            variants: list[tuple[bytes, int, int, list[bytes], bytes]] = [
                (leaves[index], index, size, proof, root),
                (leaves[index], index + 1, size, proof, root),
                (leaves[index], index, size + 1, proof, root),
                (leaves[index], index, size, proof[:-1], root),
                (leaves[index], index, size, [*proof, root], root),
                (leaves[index], index, size, [bytes(32), *proof[1:]] if proof else [], root),
                (leaves[index], index, size, proof, bytes(32)),
                (leaves[(index + 1) % size], index, size, proof, root),
                (leaves[index], size, size, proof, root),
                (leaves[index], index, 2**64 - 1, proof, root),
            ]
            for leaf, i, n, path, top in variants:
                expected.append(merkle.verify_inclusion(leaf, i, n, path, top))
                calls.append(
                    call(
                        "verifyInclusion",
                        hexed(leaf),
                        {"$int": str(i)},
                        {"$int": str(n)},
                        [hexed(node) for node in path],
                        hexed(top),
                    )
                )
    got = values(run_node(calls))
    assert got == expected
    assert sum(expected) > 20  # both verdicts were exercised
    assert not all(expected)


def test_base64_has_one_spelling_as_in_python() -> None:
    rng = random.Random(3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    texts = [base64.b64encode(rng.randbytes(n)).decode() for n in range(12)]
    texts += [
        "",
        "=",
        "==",
        "A===",
        "AA==",
        "AB==",
        "AAA=",
        "AAB=",
        "AAAA",
        "AA=A",
        "A A=",
        "AA\n==",
        "YQ",
        "YQ=",
        "YQ===",
        "-_==",
        "ＡＡ==",
        "AA==AA==",
    ]
    texts += ["".join(rng.choice(alphabet + "=") for _ in range(rng.randrange(1, 13))) for _ in range(200)]
    got = run_node([call("decodeBase64Canonical", text) for text in texts])
    for text, result in zip(texts, got, strict=True):
        _, data = python_verdict(partial(_canonical_base64, text), ValueError)
        assert unhex(result["value"]) == data, text


# ---------------------------------------------------------------------------------------------- Ed25519
# Crafted signatures need the curve's arithmetic: RFC 8032's reference code, in extended coordinates.

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
Point = tuple[int, int, int, int]
IDENTITY: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % P, g * h % P, f * g % P, e * h % P


def _mul(s: int, p: Point) -> Point:
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _encode(p: Point) -> bytes:
    zinv = pow(p[2], P - 2, P)
    x, y = p[0] * zinv % P, p[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(data: bytes) -> Point | None:
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    sign = data[31] >> 7
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x & 1 != sign:
        x = P - x if x else 0
    return x, y % P, 1, x * y % P


_base = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))
assert _base is not None
BASE: Point = _base


def _torsion(order: int) -> Point:
    """A point of exactly ``order`` (2, 4 or 8) in the curve's small subgroup."""
    rng = random.Random(order)
    while True:
        candidate = _decode(rng.randbytes(32))
        if candidate is None:
            continue
        t = _mul(L, candidate)  # kills the prime-order part
        if _encode(_mul(order, t)) == _encode(IDENTITY) and _encode(_mul(order // 2, t)) != _encode(IDENTITY):
            return t


def _challenge(r: bytes, a: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + a + message).digest(), "little") % L


def _sign(scalar: int, a: bytes, message: bytes, nonce: int, r_torsion: Point = IDENTITY) -> bytes:
    r = _encode(_add(_mul(nonce, BASE), r_torsion))
    s = (nonce + _challenge(r, a, message) * scalar) % L
    return r + s.to_bytes(32, "little")


def _edge_vectors() -> list[tuple[str, bytes, bytes, bytes]]:
    """(what, public key, message, signature): the cases where Ed25519 implementations disagree."""
    rng = random.Random(25519)
    vectors = []
    t8, t4 = _torsion(8), _torsion(4)
    scalar = rng.randrange(1, L)
    a = _encode(_mul(scalar, BASE))
    for i in range(4):
        message = rng.randbytes(i * 40)
        vectors.append(("valid", a, message, _sign(scalar, a, message, rng.randrange(1, L))))
    message = b"cosignature/v1\ntime 1\n"
    good = _sign(scalar, a, message, rng.randrange(1, L))
    s = int.from_bytes(good[32:], "little")
    vectors += [
        ("S + L: malleated, non-canonical S", a, message, good[:32] + (s + L).to_bytes(32, "little")),
        ("S = L", a, message, good[:32] + L.to_bytes(32, "little")),
        ("S with the top bits set", a, message, good[:32] + (s | (7 << 253)).to_bytes(32, "little")),
        ("one bit of R flipped", a, message, bytes([good[0] ^ 1]) + good[1:]),
        ("another message", a, message + b"x", good),
        ("A not on the curve", bytes([2]) + bytes(31), message, good),
    ]
    # A of mixed order (prime-order part plus an 8-torsion point): the cofactored equation accepts every signature,
    # the cofactorless one (OpenSSL's) only those whose challenge k is a multiple of 8.
    mixed = _encode(_add(_mul(scalar, BASE), t8))
    found = {True: 0, False: 0}
    while min(found.values()) < 2:
        message = rng.randbytes(16)
        signature = _sign(scalar, mixed, message, rng.randrange(1, L))
        multiple = _challenge(signature[:32], mixed, message) % 8 == 0
        if found[multiple] < 2:
            found[multiple] += 1
            vectors.append((f"mixed-order A, k {'≡' if multiple else '≢'} 0 mod 8", mixed, message, signature))
    # R of mixed order: cofactored accepts, cofactorless refuses.
    message = rng.randbytes(20)
    vectors.append(("mixed-order R", a, message, _sign(scalar, a, message, rng.randrange(1, L), t4)))
    # Small-order keys and R with S = 0: [0]B - [k]A = R holds for some messages.
    identity = _encode(IDENTITY)
    non_canonical_identity = (1 + P).to_bytes(32, "little")  # y = 1 + p: the identity, spelled another way
    signed_identity = bytes(identity[:31]) + bytes([identity[31] | 0x80])  # x = 0 with the sign bit set
    zero = bytes(32)
    vectors += [
        ("A and R the identity, S = 0", identity, b"m", identity + zero),
        ("A the identity spelled y = 1 + p", non_canonical_identity, b"m", identity + zero),
        ("R the identity spelled y = 1 + p", identity, b"m", non_canonical_identity + zero),
        ("A the identity with the sign bit set", signed_identity, b"m", identity + zero),
        ("R the identity with the sign bit set", identity, b"m", signed_identity + zero),
    ]
    t8_encoded = _encode(t8)
    for _ in range(64):  # a small-order A whose challenge makes [0]B - [k]A equal to R
        message = rng.randbytes(8)
        for j in range(8):
            r = _encode(_mul(j, t8))
            if _encode(_mul(-_challenge(r, t8_encoded, message) % 8, t8)) == r:
                vectors.append(("small-order A and R, S = 0", t8_encoded, message, r + zero))
                break
        if vectors[-1][0].startswith("small-order A"):
            break
    for length in (0, 63, 65):
        vectors.append((f"a signature of {length} bytes", a, message, rng.randbytes(length)))
    return vectors


def _openssl(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def test_ed25519_gives_openssls_verdict_on_crafted_signatures() -> None:
    vectors = _edge_vectors()
    got = values(run_node([call("verifyEd25519", hexed(a), hexed(m), hexed(s)) for _, a, m, s in vectors]))
    expected = [_openssl(a, m, s) for _, a, m, s in vectors]
    disagreements = [what for (what, *_), js, py in zip(vectors, got, expected, strict=True) if js != py]
    assert not disagreements
    verdicts = dict(zip((what for what, *_ in vectors), expected, strict=True))
    # What makes these cases worth having: OpenSSL refuses what a cofactored or lax verifier accepts …
    assert not verdicts["S + L: malleated, non-canonical S"]
    assert not verdicts["mixed-order R"]
    assert not verdicts["mixed-order A, k ≢ 0 mod 8"]
    assert not verdicts["R the identity spelled y = 1 + p"]
    # … and accepts what a strict RFC 8032 decoder (or @noble/ed25519's zip215: false) refuses.
    assert verdicts["A the identity spelled y = 1 + p"]
    assert verdicts["small-order A and R, S = 0"]


# ------------------------------------------------------------------------------------- keys and notes


def _key_texts() -> list[str]:
    key = LOG_KEY.verifier
    text = key.to_string()
    name, hex_id, key64 = text.split("+", 2)
    witness = WITNESS_KEYS[0].verifier.to_string()
    w_name, w_id, w_key = witness.split("+", 2)
    other = base64.b64encode(bytes([1]) + bytes(32)).decode()
    return [
        text,
        f"{name}+{hex_id.upper()}+{key64}",
        f"{name}+{hex_id[:-1]}+{key64}",
        f"{name}x+{hex_id}+{key64}",
        f"{name}+{hex_id}+{key64[:-1]}",
        f"{name}+{hex_id}+{other}",
        f"{name}+{hex_id}",
        f" {text}",
        f"{text} ",
        f"{name}\u3000+{hex_id}+{key64}",
        f"{name}\u00a0x+{hex_id}+{key64}",
        f"{name}\ufeff+{hex_id}+{key64}",
        f"+{hex_id}+{key64}",
        witness,
        f"{w_name}+{w_id.upper()}+{w_key}",
        f" {witness}\n",
        f"{w_name}\x1c+{w_id}+{w_key}",
        f"{w_name}+{w_id}+{w_key.replace('=', '')}",
        "",
        "+++",
    ]


def test_keys_are_read_as_python_reads_them() -> None:
    texts = _key_texts()
    results = run_node([call(fn, text) for text in texts for fn in ("parseVerifierKey", "parseWitnessKey")])
    for i, text in enumerate(texts):
        for result, parse, errors in (
            (results[2 * i], VerifierKey.from_string, CheckpointError),
            (results[2 * i + 1], WitnessKey.from_string, WitnessError),
        ):
            ok, key = python_verdict(lambda p=parse, t=text: p(t), errors)  # type: ignore[misc]
            js_ok, js_key = js_verdict(result)
            assert js_ok == ok, (text, parse, result)
            if ok:
                assert (js_key["name"], js_key["keyId"], js_key["publicKey"]) == (key.name, key.key_id, key.public_key)


def _signed_note() -> str:
    checkpoint = Checkpoint(ORIGIN, 562, hashlib.sha256(b"root").digest(), ("time 2026-12-04T20:39:09.581265+00:00",))
    note = sign_checkpoint(checkpoint, LOG_KEY)
    body = checkpoint.body()
    return note + "".join(key.cosign(body, 1_796_416_800 + i) for i, key in enumerate(WITNESS_KEYS))


def _note_variants() -> list[str]:
    note = _signed_note()
    body, _, block = note.partition("\n\n")
    lines = block.splitlines(keepends=True)
    log_line = lines[0]
    impostor = SigningKey.generate(LOG_KEY.name)  # the same name, another key
    raw = base64.b64decode(log_line.split(" ")[-1])
    bad_sig = f"— {LOG_KEY.name} {base64.b64encode(raw[:4] + bytes(64)).decode()}\n"
    other_line = sign_checkpoint(Checkpoint.parse_body(body + "\n"), impostor).split("\n\n")[1]
    variants = [
        note,
        body + "\n\n" + log_line,
        body + "\n\n" + other_line + log_line,
        body + "\n\n" + other_line,
        body + "\n\n" + log_line + bad_sig,
        body + "\n\n" + bad_sig,
        note[:-1],
        note.replace("\n\n", "\n"),
        note.replace("562", "563", 1),
        note.replace("562", "0562", 1),
        note.replace(ORIGIN, "", 1),
        note.replace("\n\n", "\n\n\n"),
        body + "\n\n" + log_line.replace("— ", "-- "),
        body + "\n\n" + log_line.replace("— ", "—  "),
        body + "\n\n" + log_line.replace("\n", "=\n"),
        body + "\n\n" + log_line + "— someone AAAA\n",
        body + "\n\n" + log_line + "— some\u2003one AAAAAA==\n",
        body + "\n\n" + log_line * 101,
        note.replace("time ", "\x01time ", 1),
        note.replace("time ", "\ud800", 1),
        note.replace("\n\n", "\n\n\n", 1).replace("time", "\ntime", 1),
        "",
        "\n\n",
        note + "\n",
        body + "\nextension\n\n" + log_line,
        body + "\n\n\n" + log_line,
    ]
    signed = []
    for text in (
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n" + str(2**64) + "\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\nx\n",
        "o\n1\n",
    ):
        signed.append(
            text
            + "\n"
            + f"— {LOG_KEY.name} "
            + base64.b64encode(LOG_KEY.verifier.key_id + LOG_KEY.sign(text.encode())).decode()
            + "\n"
        )
    return variants + signed


def _opened_checkpoint(note: str) -> Checkpoint:
    return Checkpoint.parse_body(open_note(note, LOG_KEY.verifier))


def test_signed_notes_and_checkpoints_open_as_in_python() -> None:
    variants = _note_variants()
    key = {"$key": LOG_KEY.verifier.to_string()}
    results = run_node([call(fn, note, key) for note in variants for fn in ("openNote", "verifyCheckpoint")])
    outcomes = []
    for i, note in enumerate(variants):
        ok, text = python_verdict(partial(open_note, note, LOG_KEY.verifier), CheckpointError)
        js_ok, js_text = js_verdict(results[2 * i])
        assert (js_ok, js_text) == (ok, text), (i, note, results[2 * i])
        ok, checkpoint = python_verdict(partial(_opened_checkpoint, note), CheckpointError)
        js_ok, js_checkpoint = js_verdict(results[2 * i + 1])
        assert js_ok == ok, (i, note, results[2 * i + 1])
        if ok:
            assert (
                js_checkpoint["origin"],
                js_checkpoint["size"],
                js_checkpoint["rootHash"],
                tuple(js_checkpoint["extensions"]),
            ) == (checkpoint.origin, checkpoint.size, checkpoint.root_hash, checkpoint.extensions)
        outcomes.append(ok)
    assert 3 < sum(outcomes) < len(outcomes) - 10


def test_cosignatures_are_counted_as_in_python() -> None:
    note = _signed_note()
    body, _, block = note.partition("\n\n")
    log_line, first, second = block.splitlines(keepends=True)
    raw = base64.b64decode(first.split(" ")[-1][:-1])
    forged = first.replace(first.split(" ")[-1][:-1], base64.b64encode(raw[:12] + bytes(64)).decode())
    later = first.replace(
        first.split(" ")[-1][:-1], base64.b64encode(raw[:4] + (2**63).to_bytes(8, "big") + raw[12:]).decode()
    )
    short = first.replace(first.split(" ")[-1][:-1], base64.b64encode(raw[:20]).decode())
    stranger = WitnessSigningKey.generate("stranger").cosign(body + "\n", 5)
    notes = [
        note,
        body + "\n\n" + log_line,
        body + "\n\n" + log_line + second,
        body + "\n\n" + log_line + forged,
        body + "\n\n" + log_line + later,
        body + "\n\n" + log_line + short + second,
        body + "\n\n" + log_line + stranger + first + first,
        body + "\n\n" + log_line + second + first,
    ]
    pins = [[], [WITNESS_KEYS[0].verifier], [key.verifier for key in WITNESS_KEYS]]
    calls = [call("cosignatures", n, [{"$witness": key.to_string()} for key in pin]) for n in notes for pin in pins]
    results = iter(run_node(calls))
    for n in notes:
        for pin in pins:
            ok, found = python_verdict(partial(cosignatures, n, pin), WitnessError)
            js_ok, js_found = js_verdict(next(results))
            assert js_ok == ok, (n, pin)
            if ok:
                assert [(c["witness"]["name"], c["timestamp"]) for c in js_found] == [
                    (c.witness.name, c.timestamp) for c in found
                ]


# ------------------------------------------------------------------------------------------------- times


def test_times_read_by_javascript_are_the_instants_python_reads() -> None:
    rng = random.Random(5)
    texts = []
    for _ in range(200):  # what the service writes: datetime.isoformat() of times with and without an offset
        moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(10**17))
        zone = timezone(timedelta(minutes=rng.choice([0, 480, -300, 345, 60 * 14 - 1])))
        moment = moment.astimezone(zone).replace(microsecond=rng.choice([0, moment.microsecond]))
        texts.append(moment.isoformat())
        texts.append(moment.replace(tzinfo=None).isoformat())
    texts += [
        "2026-12-04T20:39:09.581265+00:00",
        "2026-12-04 20:39:09.5+08:00",
        "2026-12-04T20:39:09Z",
        "2026-12-04",
        "2026-12-04T20:39",
        "2024-02-29T00:00:00",
        "2023-02-29T00:00:00",
        "2026-12-04T24:00:00",
        "2026-12-04T20:39:60",
        "2026-12-04T20:39:09+24:00",
        "2026-12-04T20:39:09+23:59:59.999999",
        "0000-01-01",
        "9999-12-31T23:59:59.999999-23:59",
        "2026-12-04T20:39:09.1234567+00:00",
        "20261204T203909",
        "2026-12-04T20",
        "2026-12-04T20:39:09,5+00:00",
        "2026-12-04X20:39:09",
        " 2026-12-04",
        "2026-12-04T20:39:09+00:75",
        "2026-13-01",
        "2026-12-04T20:39:09.+00:00",
        "tomorrow",
    ]
    results = values(run_node([call("parseIsoTime", text) for text in texts]))
    for text, parsed in zip(texts, results, strict=True):
        if parsed is None:
            continue  # JavaScript reads a subset of the spellings Python reads; a refusal is a failure, never a pass
        moment = datetime.fromisoformat(text)
        aware = moment.tzinfo is not None
        since = moment - datetime(1970, 1, 1, tzinfo=UTC if aware else None)
        assert (parsed["micros"], parsed["aware"]) == (since // timedelta(microseconds=1), aware), text
    assert all(parsed is not None for parsed in results[:400])  # every spelling the service writes is read


def test_the_checkpoints_signed_time_is_read() -> None:
    checkpoint = Checkpoint(ORIGIN, 1, bytes(32), ("time 2026-12-04T20:39:09.581265+08:00",))
    note = sign_checkpoint(checkpoint, LOG_KEY)
    (parsed,) = values(run_node([call("signedTime", {"extensions": list(checkpoint.extensions)})]))
    moment = signed_time(Checkpoint.parse_body(open_note(note, LOG_KEY.verifier)))
    assert moment is not None
    assert parsed["micros"] == (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_the_verifier_needs_no_webcrypto() -> None:
    """An intranet page over plain http is not a secure context: it has no ``crypto.subtle``. Everything the verifier
    computes is pure JavaScript."""
    calls = [
        call("sha256", hexed(b"abc")),
        call("verifyEd25519", hexed(LOG_KEY.verifier.public_key), hexed(b"m"), hexed(LOG_KEY.sign(b"m"))),
    ]
    assert values(run_node(calls, without_webcrypto=True)) == [hashlib.sha256(b"abc").digest(), True]


# ------------------------------------------------------------------------------------------ the vendored files


def test_the_vendored_files_are_the_ones_recorded() -> None:
    """Each file under vendor/ is listed in its README with its SHA-256, and nothing else is there."""
    vendor = STATIC / "vendor"
    listed = dict(
        line.split()[::-1]
        for line in re.findall(r"^[0-9a-f]{64}  \S+$", (vendor / "README.md").read_text(encoding="utf-8"), re.M)
    )
    present = {
        str(path.relative_to(vendor)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in vendor.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    assert present == listed


def test_every_module_is_served_from_the_static_folder() -> None:
    """No CDN, no bare package names a browser could not resolve: every import is a relative path, inside the
    folder."""
    for path in STATIC.rglob("*.js"):
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)  # examples in comments
        found = re.findall(r"^\s*(?:import|export)\b[^;'\"]*?from\s*['\"]([^'\"]+)['\"]", code, re.M)
        found += re.findall(r"\bimport\s*\(\s*['\"]([^'\"]+)['\"]", code)
        assert "verify.js" not in path.name or found, "the imports were not found"
        for specifier in found:
            assert specifier.startswith(("./", "../")), (path, specifier)
            assert (path.parent / specifier).resolve().is_relative_to(STATIC), (path, specifier)
