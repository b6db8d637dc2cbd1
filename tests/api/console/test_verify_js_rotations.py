"""The in-browser verifier follows the log's key rotations as the Python verifier does, case for case.

A real ledger signs with key A, records a rotation to B (signed by both, `jixiao key rotate`'s statement), signs the
handover checkpoint with both keys, grows and signs again with B alone. Two witnesses cosign the latest checkpoint.
Each case changes a bundle of that log the way an attacker would — the rotation's proof, its stored statement, its
place, its number, a rotation back to a key used before or from a key not in force, a checkpoint signed by the
retired key — or pins another key of the chain (or none of it), and ``ledger.log.audit.verify_bundle`` and
``verifyBundle`` of ``api/console/static/verify.js`` must give the same verdict (see test_verify_js_bundles.py).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.domain.values import Principal
from ledger.log.audit import BundleReport, dumps_bundle, verify_bundle
from ledger.log.checkpoint import CheckpointError, SigningKey, VerifierKey, sign_note
from ledger.log.rotation import KeyRotation, sign_rotation
from ledger.log.witness import TrustPolicy, WitnessSigningKey, add_signatures
from ledger.store.tlog import TransparencyLog
from tests.api.console.test_verify_js_bundles import Bundle, Case, Exported, agree, js_call
from tests.browsers import call, chromium, run_browser, run_node, static_server
from tests.conftest import EDUCATION, TEST_KEY, act
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db

ORIGIN = "czj.example.gov.cn/jixiao-rotations"
ADMIN = Principal("it-admin", "admin", "")
A = TEST_KEY  # the key first published (also the ledger fixture's snapshot key)
B = SigningKey.generate(TEST_KEY.name)
C = SigningKey.generate(TEST_KEY.name)
D = SigningKey.generate(TEST_KEY.name)
WITNESSES = tuple(WitnessSigningKey.generate(name) for name in ("sjj.example.gov.cn/witness", "rd.example.gov.cn/w"))


@dataclass(frozen=True)
class Rotated:
    handover: Bundle  # the project's 5 events, under the handover checkpoint (signed by B, then A)
    after: Exported  # its 8 events, 3 after the rotation, under B's next checkpoint, cosigned by the two witnesses


def cosigned(note: str) -> str:
    body = note.partition("\n\n")[0] + "\n"
    return add_signatures(note, [witness.cosign(body, int(time.time())) for witness in WITNESSES])


@pytest.fixture
def rotated(ledger: Ledger, database_url: str) -> Iterator[Rotated]:
    logs = {key: TransparencyLog(database_url, origin=ORIGIN, signing_key=key) for key in (A, B)}
    try:
        logs[A].create_tables()
        pid = approved_project(ledger, goals_disclosed=False)
        assert logs[A].sign_checkpoint() is not None
        statement = sign_rotation(KeyRotation(ORIGIN, 1, A.verifier, B.verifier), A, B)
        ledger.record_key_rotation(act(ADMIN, date(2021, 3, 1), "年度轮换"), statement, A.verifier)
        assert logs[B].sign_checkpoint(also=(A,)) is not None  # the handover, by both keys
        handover = logs[B].export_bundle(B.verifier, pid)
        for month in (4, 5, 6):
            ledger.report_monitoring(
                act(EDUCATION, date(2021, month + 1, 10)),
                pid,
                month=month,
                executed=f"{month}00000.00",
                indicator_progress={},
            )
        after = logs[B].export_bundle(B.verifier, pid)
        after["checkpoint"] = cosigned(after["checkpoint"])
        yield Rotated(handover, Exported(after, tuple(witness.verifier for witness in WITNESSES)))
    finally:
        for log in logs.values():
            log.close()


def rotation_state(statement: str, topic_state: dict[str, Any]) -> str:
    """A rotation event's stored state holding ``statement`` instead (the rest of its fields kept)."""
    return base64.b64encode(json.dumps({**topic_state, "statement": statement}).encode()).decode()


def corpus(rotated: Rotated) -> list[Case]:
    original = rotated.after.bundle
    handover = rotated.handover
    assert len(original["events"]) == 8
    assert len(original["key_rotations"]) == 1
    (rotation,) = original["key_rotations"]
    assert [e["leaf_index"] < rotation["leaf_index"] for e in original["events"]] == [True] * 5 + [False] * 3
    body, _, lines = original["checkpoint"].partition("\n\n")
    log_line, *cosignature_lines = lines.splitlines(keepends=True)
    assert len(cosignature_lines) == 2
    size = int(body.split("\n")[1])
    stored = json.loads(base64.b64decode(rotation["state"]))

    def variant(change: Callable[[Bundle], object], of: Bundle = original) -> str:
        bundle = copy.deepcopy(of)
        change(bundle)
        return dumps_bundle(bundle)

    def on_rotation(name: str, value: object) -> Callable[[Bundle], None]:
        return lambda bundle: bundle["key_rotations"][0].__setitem__(name, value)

    def statement(old: SigningKey, new: SigningKey, number: int = 1, *, signers: tuple[SigningKey, ...] = ()) -> str:
        text = KeyRotation(ORIGIN, number, old.verifier, new.verifier).body()
        return sign_note(text, *(signers or (old, new)))

    def second_rotation(text: str) -> Callable[[Bundle], None]:
        """A second rotation after the first, at a leaf of the signed tree (its proof is the first's: wrong)."""

        def change(bundle: Bundle) -> None:
            extra = {**copy.deepcopy(rotation), "state": rotation_state(text, stored)}
            extra["leaf_index"] = rotation["leaf_index"] + 1
            bundle["key_rotations"].append(extra)

        return change

    def resigned_by_retired(bundle: Bundle) -> None:
        bundle["checkpoint"] = sign_note(body + "\n", A) + "".join(cosignature_lines)

    def hidden(bundle: Bundle) -> None:
        resigned_by_retired(bundle)
        bundle["verifier_key"] = A.verifier.to_string()
        del bundle["key_rotations"]

    def state_byte(i: int) -> Callable[[Bundle], None]:
        state = bytearray(base64.b64decode(original["events"][i]["state"]))
        state[len(state) // 2] ^= 0x01
        return lambda bundle: bundle["events"][i].__setitem__("state", base64.b64encode(bytes(state)).decode())

    rotation_byte = bytearray(base64.b64decode(rotation["state"]))
    rotation_byte[len(rotation_byte) // 2] ^= 0x01
    handover_body, _, handover_lines = handover["checkpoint"].partition("\n\n")
    by_b, by_a = handover_lines.splitlines(keepends=True)
    a, b, d = (key.verifier.to_string() for key in (A, B, D))
    return [
        Case("intact, the first key pinned", variant(lambda x: None), (True, None), key=a),
        Case("intact, the new key pinned", variant(lambda x: None), (True, None), key=b),
        Case("intact, nothing pinned", variant(lambda x: None), (True, None), key=None, witnesses=()),
        Case("intact, the first key pinned, no witness", variant(lambda x: None), (True, None), key=a, witnesses=()),
        Case(
            "the handover, the first key pinned", variant(lambda x: None, handover), (True, None), key=a, witnesses=()
        ),
        Case("the handover, the new key pinned", variant(lambda x: None, handover), (True, None), key=b, witnesses=()),
        Case(
            "the handover without the new key's signature",
            variant(lambda x: x.__setitem__("checkpoint", f"{handover_body}\n\n{by_a}"), handover),
            (False, None),
            key=a,
            witnesses=(),
        ),
        Case(
            "the handover without the retired key's signature",
            variant(lambda x: x.__setitem__("checkpoint", f"{handover_body}\n\n{by_b}"), handover),
            (True, None),
            key=a,
            witnesses=(),
        ),
        Case("a key outside the chain pinned", variant(lambda x: None), (False, None), key=d),
        Case(
            "the rotation's proof one node short",
            variant(on_rotation("inclusion_proof", rotation["inclusion_proof"][1:])),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation's proof one node short, nothing pinned",
            variant(on_rotation("inclusion_proof", rotation["inclusion_proof"][1:])),
            (False, None),
            key=None,
            witnesses=(),
        ),
        Case(
            "one digit of the rotation's proof",
            variant(on_rotation("inclusion_proof", ["0" * 64, *rotation["inclusion_proof"][1:]])),
            (False, None),
            key=b,
        ),
        Case(
            "the rotation dropped, the first key pinned",
            variant(lambda x: x.pop("key_rotations")),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation dropped, the new key pinned", variant(lambda x: x.pop("key_rotations")), (True, None), key=b
        ),
        Case(
            "one byte of the rotation's stored statement",
            variant(on_rotation("state", base64.b64encode(bytes(rotation_byte)).decode())),
            (False, None),
            key=a,
        ),
        Case(
            "one byte of the rotation's stored statement, nothing pinned",
            variant(on_rotation("state", base64.b64encode(bytes(rotation_byte)).decode())),
            (False, None),
            key=None,
            witnesses=(),
        ),
        Case(
            "the rotation's topic changed",
            variant(on_rotation("topic", "ledger.log_keys:KeyRotation.Recorded2")),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation's leaf one later",
            variant(on_rotation("leaf_index", rotation["leaf_index"] + 1)),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation placed after the checkpoint", variant(on_rotation("leaf_index", size)), (False, None), key=a
        ),
        Case(
            "the rotation re-stated as rotation 2",
            variant(on_rotation("state", rotation_state(statement(A, B, 2), stored))),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation signed by the retired key alone",
            variant(on_rotation("state", rotation_state(statement(A, B, signers=(A,)), stored))),
            (False, None),
            key=a,
        ),
        Case(
            "the rotation signed by the new key alone",
            variant(on_rotation("state", rotation_state(statement(A, B, signers=(B,)), stored))),
            (False, None),
            key=b,
        ),
        Case(
            "a second rotation back to the first key",
            variant(second_rotation(statement(B, A, 2))),
            (False, None),
            key=a,
        ),
        Case(
            "a second rotation from a key not in force",
            variant(second_rotation(statement(D, C, 2))),
            (False, None),
            key=a,
        ),
        Case(
            "a second rotation, nothing pinned", variant(second_rotation(statement(B, C, 2))), (False, None), key=None
        ),
        Case("the checkpoint re-signed by the retired key", variant(resigned_by_retired), (False, None), key=a),
        Case(
            "the same checkpoint re-signed by the retired key, the rotation hidden (a bundle alone cannot show "
            "a rotation it leaves out; what it shows is still the log's)",
            variant(hidden),
            (True, None),
            key=a,
        ),
        Case("one byte of event 6's state, after the rotation", variant(state_byte(6)), (False, 6), key=a),
        Case("one byte of event 2's state, before the rotation", variant(state_byte(2)), (False, 2), key=a),
        Case(
            "a cosignature removed",
            variant(lambda x: x.__setitem__("checkpoint", f"{body}\n\n{log_line}{cosignature_lines[1]}")),
            (False, None),
            key=a,
        ),
        Case(
            "key_rotations an empty object", variant(lambda x: x.__setitem__("key_rotations", {})), (True, None), key=b
        ),
        Case("key_rotations null", variant(lambda x: x.__setitem__("key_rotations", None)), (False, None), key=b),
        Case(
            "key_rotations holding a number",
            variant(lambda x: x.__setitem__("key_rotations", [5])),
            (False, None),
            key=b,
        ),
    ]


def test_both_verifiers_follow_key_rotations_alike(rotated: Rotated) -> None:
    cases = corpus(rotated)
    assert len({case.name for case in cases}) == len(cases)
    results = run_node([js_call(case, rotated.after) for case in cases])
    agree(cases, results, rotated.after)
    # A verdict for the reason Python gives: the first failure says the same thing in both.
    for case, result in zip(cases, results, strict=True):
        python = python_report(case, rotated.after)
        if python.failures and not python.failures[0].startswith("the bundle is malformed"):
            assert result["value"]["failures"][0].split(":")[0] == python.failures[0].split(":")[0], case.name


def python_report(case: Case, exported: Exported) -> BundleReport:
    witnesses = exported.witnesses if case.witnesses is None else case.witnesses
    required = len(witnesses) if case.min_witnesses is None else case.min_witnesses
    pinned = None if case.key is None else VerifierKey.from_string(case.key)
    key = pinned or VerifierKey.from_string(json.loads(case.text)["verifier_key"])
    return verify_bundle(case.text, pinned, TrustPolicy(key, witnesses, required))


def test_the_report_says_which_key_signs_and_how_many_rotations_were_followed(rotated: Rotated) -> None:
    text = dumps_bundle(rotated.after.bundle)
    results = run_node([call("verifyBundle", text, {"logKey": key.verifier.to_string()}) for key in (A, B)])
    for result in results:
        report = result["value"]
        assert report["ok"], report["failures"]
        assert (report["rotations"], report["keyInForce"]) == (1, B.verifier.to_string())


def parses(text: str) -> bool:
    try:
        KeyRotation.parse_body(text)
    except CheckpointError:
        return False
    return True


def test_rotation_statements_are_read_as_python_reads_them() -> None:
    good = KeyRotation(ORIGIN, 1, A.verifier, B.verifier).body()
    name, hex_id, key64 = A.verifier.to_string().split("+", 2)
    upper = good.replace(A.verifier.to_string(), f"{name}+{hex_id.upper()}+{key64}")
    texts = [
        good,
        good.replace("rotation 1\n", "rotation 01\n"),
        good.replace("rotation 1\n", "rotation 0\n"),
        good.replace("rotation 1\n", "rotation 1234567890\n"),
        good.replace("jixiao-key-rotation/v1", "jixiao-key-rotation/v2"),
        good[:-1],
        good + "\n",
        good.replace("origin ", "origin  "),
        good.replace("origin ", "origin\t"),
        good.replace(B.verifier.to_string(), A.verifier.to_string()),
        upper,
        good.replace(ORIGIN, ORIGIN + "\x01"),
        good.replace("old ", "new ", 1),
        "",
    ]
    python = [parses(text) for text in texts]
    javascript = run_node([call("parseRotation", text) for text in texts])
    assert [("error" not in result) for result in javascript] == python


BROWSER_CASES = (
    "intact, the first key pinned",
    "the rotation dropped, the first key pinned",
    "one byte of the rotation's stored statement",
    "a second rotation back to the first key",
    "the checkpoint re-signed by the retired key",
    "one byte of event 6's state, after the rotation",
)


def test_headless_chromium_follows_rotations_too(rotated: Rotated) -> None:
    cases = [case for case in corpus(rotated) if case.name in BROWSER_CASES]
    assert len(cases) == len(BROWSER_CASES)
    with static_server() as base, chromium() as driver:
        results = run_browser(driver, base, [js_call(case, rotated.after) for case in cases])
    agree(cases, results, rotated.after)


def test_python_verdicts_of_the_corpus_name_rotations(rotated: Rotated) -> None:
    """The rotation cases fail for the rotation, not for something incidental (Python's own words)."""
    failures = {
        case.name: verify_bundle(case.text, VerifierKey.from_string(case.key)).failures
        for case in corpus(rotated)
        if case.key is not None and case.name.startswith(("the rotation", "a second rotation"))
    }
    for name, found in failures.items():
        if name.startswith("the rotation dropped, the new key"):
            assert not found
        else:
            assert found, name
            assert re.match(r"key rotation|the bundle names a different", found[0]), (name, found)
