"""The in-browser verifier and the Python verifier agree on every case of a tamper corpus.

A real signed ledger, cosigned by two witnesses over HTTP, exports a project's bundle; each case changes it the way
an attacker (or a careless copy) would — one byte of an event, a proof, the checkpoint, a cosignature; events
dropped, repeated or reordered; another spelling of the same bytes; shown fields that disagree with the hashed ones;
another key pinned — and ``ledger.audit.verify_bundle`` and ``verifyBundle`` of ``api/console/static/verify.js``
must give the same verdict: ok or not, and the same first failing event wherever Python names one. Every case runs
in Node; a subset runs in headless Chromium too, served from a plain-http page.

Where Python reads the bundle as malformed (a value of the wrong kind or spelling) it names no event; JavaScript
names the event it was reading, which the corpus states.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.roles.witness import WitnessHome, WitnessServer
from ledger.application import Ledger
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import Checkpoint, SigningKey, VerifierKey, open_note, sign_note
from ledger.log.witness import TrustPolicy, WitnessEndpoint, WitnessKey, WitnessSigningKey
from ledger.store.tlog import TransparencyLog
from tests.browsers import call, chromium, intranet_address, run_browser, run_node, secure_context, static_server
from tests.conftest import EDUCATION, FINANCE, TEST_KEY, act
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db

ORIGIN = "czj.example.gov.cn/jixiao-js"
WITNESS_NAMES = ("sjj.example.gov.cn/witness", "rd.example.gov.cn/witness")
Bundle = dict[str, Any]
Verdict = tuple[bool, int | None]


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: Verdict  # ok, and the first failing event as the JavaScript verifier names it
    key: str | None = TEST_KEY.verifier.to_string()
    witnesses: tuple[WitnessKey, ...] | None = None  # None: the two witnesses that cosign
    min_witnesses: int | None = None  # None: all the pinned witnesses


@dataclass(frozen=True)
class Exported:
    bundle: Bundle
    witnesses: tuple[WitnessKey, ...]


@pytest.fixture
def exported(ledger: Ledger, database_url: str, tmp_path: Path) -> Iterator[Exported]:
    """A project's 8 events, interleaved with others in the log, in a bundle cosigned by two witnesses."""
    servers = []
    endpoints = []
    for name in WITNESS_NAMES:
        home = WitnessHome(tmp_path / name.split(".")[0])
        key = home.init(name)
        home.add_log(ORIGIN, TEST_KEY.verifier)
        server = WitnessServer(("127.0.0.1", 0), home.witness())
        server.start()
        servers.append(server)
        endpoints.append(WitnessEndpoint(key.verifier, f"http://127.0.0.1:{server.server_address[1]}"))
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=TEST_KEY, witnesses=endpoints)
    try:
        log.create_tables()
        pid = approved_project(ledger, goals_disclosed=False)  # the corpus names the 8 events by their place
        for month in (4, 5, 6):
            ledger.register_department(act(FINANCE, date(2021, month, 1)), f"部门{month}")  # other leaves between
            ledger.report_monitoring(
                act(EDUCATION, date(2021, month + 1, 10)),
                pid,
                month=month,
                executed=f"{month}00000.00",
                indicator_progress={},
            )
        bundle = log.export_bundle(TEST_KEY.verifier, pid)
        yield Exported(bundle, tuple(endpoint.key for endpoint in endpoints))
    finally:
        log.close()
        for server in servers:
            server.shutdown()
            server.server_close()


# ---------------------------------------------------------------------------------------------- the corpus


def other_char(text: str, at: int, alphabet: str) -> str:
    """``text`` with the character at ``at`` replaced by another of ``alphabet``."""
    replacement = alphabet[(alphabet.index(text[at]) + 1) % len(alphabet)]
    return text[:at] + replacement + text[at + 1 :]


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HEX = "0123456789abcdef"


def note_parts(note: str) -> tuple[str, list[str]]:
    body, _, block = note.partition("\n\n")
    return body + "\n", block.splitlines(keepends=True)


def with_signature(line: str, change: Callable[[bytes], bytes]) -> str:
    """A signature line whose decoded bytes are changed."""
    head, _, encoded = line.rstrip("\n").rpartition(" ")
    return f"{head} {base64.b64encode(change(base64.b64decode(encoded))).decode()}\n"


def corpus(exported: Exported) -> list[Case]:
    original = exported.bundle
    assert len(original["events"]) == 8
    body, lines = note_parts(original["checkpoint"])
    log_line, *cosignature_lines = lines
    assert len(cosignature_lines) == 2

    def variant(change: Callable[[Bundle], object]) -> str:
        bundle = copy.deepcopy(original)
        change(bundle)
        return dumps_bundle(bundle)

    def event(i: int, name: str, value: object) -> Callable[[Bundle], None]:
        return lambda bundle: bundle["events"][i].__setitem__(name, value)

    def state_byte(i: int) -> Callable[[Bundle], None]:
        state = bytearray(base64.b64decode(original["events"][i]["state"]))
        state[len(state) // 2] ^= 0x01
        return event(i, "state", base64.b64encode(bytes(state)).decode())

    def resigned(checkpoint_body: str, *, keep_cosignatures: bool = False) -> Callable[[Bundle], None]:
        note = sign_note(checkpoint_body, TEST_KEY)
        if keep_cosignatures:
            note += "".join(cosignature_lines)
        return lambda bundle: bundle.__setitem__("checkpoint", note)

    def checkpoint(new_body: str | None = None, new_lines: list[str] | None = None) -> Callable[[Bundle], None]:
        note = (new_body or body) + "\n" + "".join(lines if new_lines is None else new_lines)
        return lambda bundle: bundle.__setitem__("checkpoint", note)

    events = original["events"]
    parsed = Checkpoint.parse_body(body)
    root64 = base64.b64encode(parsed.root_hash).decode()
    padded = next(i for i, e in enumerate(events) if len(base64.b64decode(e["state"])) % 3)
    state64 = events[padded]["state"]
    slack = state64.rstrip("=")
    non_canonical = slack[:-1] + B64[B64.index(slack[-1]) + 1] + state64[len(slack) :]  # a padding bit set
    impostor = SigningKey.generate(TEST_KEY.name)
    third = WitnessSigningKey.generate("third.example.gov.cn/witness").verifier
    name, hex_id, key64 = TEST_KEY.verifier.to_string().split("+", 2)

    def impostor_bundle(bundle: Bundle) -> None:
        bundle["checkpoint"] = sign_note(body, impostor)
        bundle["verifier_key"] = impostor.verifier.to_string()

    def swap(bundle: Bundle) -> None:
        bundle["events"][2], bundle["events"][3] = bundle["events"][3], bundle["events"][2]

    recorded = events[4]["recorded_at"]
    return [
        Case("intact", variant(lambda b: None), (True, None)),
        Case("intact, no witness pinned", variant(lambda b: None), (True, None), witnesses=()),
        Case(
            "intact, nothing pinned: the bundle's own key",
            variant(lambda b: None),
            (True, None),
            key=None,
            witnesses=(),
        ),
        Case(
            "intact, the key pinned with its ID in upper case",
            variant(lambda b: None),
            (True, None),
            key=f"{name}+{hex_id.upper()}+{key64}",
        ),
        Case("intact, one witness of two required", variant(lambda b: None), (True, None), min_witnesses=1),
        Case("one byte of event 3's state", variant(state_byte(3)), (False, 3)),
        Case(
            "one base64 character of event 5's state",
            variant(event(5, "state", other_char(events[5]["state"], 20, B64))),
            (False, 5),
        ),
        Case(
            "one character of event 2's topic",
            variant(event(2, "topic", other_char(events[2]["topic"], 3, B64))),
            (False, 2),
        ),
        Case(
            "one digit of the object id",
            variant(lambda b: b.__setitem__("object_id", other_char(b["object_id"], 1, HEX))),
            (False, 0),
        ),
        Case("event 4's version", variant(event(4, "originator_version", 6)), (False, 4)),
        Case("event 1's leaf index", variant(event(1, "leaf_index", events[1]["leaf_index"] + 1)), (False, 1)),
        Case(
            "one digit of event 6's leaf hash",
            variant(event(6, "leaf_hash", other_char(events[6]["leaf_hash"], 9, HEX))),
            (False, 6),
        ),
        Case(
            "one digit of a node of event 1's proof",
            variant(
                event(
                    1,
                    "inclusion_proof",
                    [other_char(events[1]["inclusion_proof"][0], 0, HEX), *events[1]["inclusion_proof"][1:]],
                )
            ),
            (False, 1),
        ),
        Case(
            "event 7's proof one node short",
            variant(event(7, "inclusion_proof", events[7]["inclusion_proof"][:-1])),
            (False, 7),
        ),
        Case(
            "event 2's proof one node too long",
            variant(event(2, "inclusion_proof", [*events[2]["inclusion_proof"], "00" * 32])),
            (False, 2),
        ),
        Case("event 4 missing", variant(lambda b: b["events"].pop(4)), (False, 4)),
        Case("events 2 and 3 swapped", variant(swap), (False, 2)),
        Case("event 3 twice", variant(lambda b: b["events"].insert(4, copy.deepcopy(b["events"][3]))), (False, 4)),
        Case(
            "no events at all (a bundle proves only what it holds)",
            variant(lambda b: b["events"].clear()),
            (True, None),
        ),
        Case(
            "one character of the checkpoint's root",
            variant(checkpoint(body.replace(root64, other_char(root64, 10, B64)))),
            (False, None),
        ),
        Case(
            "the checkpoint's size",
            variant(checkpoint(body.replace(f"\n{parsed.size}\n", f"\n{parsed.size + 1}\n"))),
            (False, None),
        ),
        Case(
            "one character of the log's signature",
            variant(checkpoint(new_lines=[log_line[:-10] + other_char(log_line[-10:], 2, B64), *cosignature_lines])),
            (False, None),
        ),
        Case(
            "the log's signature bytes",
            variant(
                checkpoint(new_lines=[with_signature(log_line, lambda raw: raw[:4] + bytes(64)), *cosignature_lines])
            ),
            (False, None),
        ),
        Case(
            "re-signed by the log's key over another root",
            variant(resigned(body.replace(root64, base64.b64encode(bytes(32)).decode()))),
            (False, 0),
            witnesses=(),
        ),
        Case(
            "re-signed by the log's key over another root, the cosignatures kept",
            variant(resigned(body.replace(root64, base64.b64encode(bytes(32)).decode()), keep_cosignatures=True)),
            (False, None),
        ),
        Case(
            "re-signed by the log's key over a root spelled another way",
            variant(resigned(body.replace(root64, root64[:-2] + B64[B64.index(root64[-2]) + 1] + "="))),
            (False, None),
            witnesses=(),
        ),
        Case(
            "an impostor's key in the bundle, signing its checkpoint",
            variant(impostor_bundle),
            (False, None),
            witnesses=(),
        ),
        Case(
            "an impostor's key in the bundle, nothing pinned (consistent with itself)",
            variant(impostor_bundle),
            (True, None),
            key=None,
            witnesses=(),
        ),
        Case(
            "another key pinned",
            variant(lambda b: None),
            (False, None),
            key=SigningKey.generate(TEST_KEY.name).verifier.to_string(),
        ),
        Case("a cosignature removed", variant(checkpoint(new_lines=[log_line, cosignature_lines[1]])), (False, None)),
        Case(
            "a cosignature removed, one witness required",
            variant(checkpoint(new_lines=[log_line, cosignature_lines[1]])),
            (True, None),
            min_witnesses=1,
        ),
        Case(
            "a cosignature forged",
            variant(
                checkpoint(
                    new_lines=[
                        log_line,
                        with_signature(cosignature_lines[0], lambda raw: raw[:12] + bytes(64)),
                        cosignature_lines[1],
                    ]
                )
            ),
            (False, None),
            min_witnesses=1,
        ),
        Case(
            "a cosignature's timestamp changed",
            variant(
                checkpoint(
                    new_lines=[
                        log_line,
                        cosignature_lines[0],
                        with_signature(
                            cosignature_lines[1],
                            lambda raw: raw[:4] + (int.from_bytes(raw[4:12], "big") + 1).to_bytes(8, "big") + raw[12:],
                        ),
                    ]
                )
            ),
            (False, None),
        ),
        Case("a witness that never saw the log required", variant(lambda b: None), (False, None), witnesses=(third,)),
        Case(
            f"event {padded}'s state in non-canonical base64",
            variant(event(padded, "state", non_canonical)),
            (False, padded),
        ),
        Case(
            "event 5's leaf hash in upper-case hex",
            variant(event(5, "leaf_hash", events[5]["leaf_hash"].upper())),
            (False, 5),
        ),
        Case(
            "event 0's proof in upper-case hex",
            variant(event(0, "inclusion_proof", [node.upper() for node in events[0]["inclusion_proof"]])),
            (False, 0),
        ),
        Case(
            "event 3's principal shown as another",
            variant(event(3, "principal", {**events[3]["principal"], "id": "someone-else"})),
            (False, 3),
        ),
        Case("event 1's effective_on shown as another", variant(event(1, "effective_on", "2020-01-01")), (False, 1)),
        Case(
            "event 7 recorded after the checkpoint was signed",
            variant(event(7, "recorded_at", "2999-01-01T00:00:00+00:00")),
            (False, 7),
        ),
        Case("event 5 recorded before event 4", variant(event(5, "recorded_at", events[0]["recorded_at"])), (False, 5)),
        Case(
            "event 2's recorded_at without an offset",
            variant(event(2, "recorded_at", events[2]["recorded_at"][:-6])),
            (False, 2),
        ),
        Case(
            "event 4's recorded_at, the same instant spelled with Z",
            variant(event(4, "recorded_at", recorded.replace("+00:00", "Z"))),
            (True, None),
        ),
        Case("an unknown format", variant(lambda b: b.__setitem__("format", "jixiao-audit-bundle/2")), (False, None)),
        Case("another origin", variant(lambda b: b.__setitem__("origin", ORIGIN + "x")), (False, None)),
        Case("not JSON", dumps_bundle(original)[:-30], (False, None)),
        Case("the bundle's verifier key garbled", variant(lambda b: b.__setitem__("verifier_key", "x")), (False, None)),
    ]


# ------------------------------------------------------------------------------------------------ verdicts


def python_verdict(case: Case, exported: Exported) -> Verdict:
    witnesses = exported.witnesses if case.witnesses is None else case.witnesses
    required = len(witnesses) if case.min_witnesses is None else case.min_witnesses
    pinned = None if case.key is None else VerifierKey.from_string(case.key)
    try:
        key = pinned or VerifierKey.from_string(json.loads(case.text)["verifier_key"])
        report = verify_bundle(case.text, pinned, TrustPolicy(key, witnesses, required))
    except Exception:  # a bundle that crashes the Python verifier is not verified either
        return False, None
    named = (re.match(r"event (\d+) \(", failure) for failure in report.failures)
    first = next((int(match.group(1)) for match in named if match), None)
    return report.ok, first


def js_call(case: Case, exported: Exported) -> dict[str, Any]:
    witnesses = exported.witnesses if case.witnesses is None else case.witnesses
    options = {
        "logKey": case.key,
        "witnesses": [key.to_string() for key in witnesses],
        "minWitnesses": case.min_witnesses,
    }
    return call("verifyBundle", case.text, options)


def js_verdict(result: dict[str, Any]) -> Verdict:
    assert "error" not in result, result["error"]  # a bundle never makes it throw
    report = result["value"]
    assert report["ok"] == (not report["failures"])
    first = report["firstBadEvent"]
    return report["ok"], None if first is None else first["index"]


def agree(cases: list[Case], results: list[dict[str, Any]], exported: Exported) -> None:
    disagreements = []
    for case, result in zip(cases, results, strict=True):
        python = python_verdict(case, exported)
        javascript = js_verdict(result)
        if javascript != case.expected or python[0] != javascript[0] or python[1] not in (None, javascript[1]):
            disagreements.append(
                f"{case.name}: expected {case.expected}, Python {python}, JavaScript {javascript} "
                f"{result['value']['failures']}"
            )
    assert not disagreements, "\n".join(disagreements)


def test_both_verifiers_agree_on_every_case_of_the_tamper_corpus(exported: Exported) -> None:
    cases = corpus(exported)
    assert len(cases) >= 25
    assert len({case.name for case in cases}) == len(cases)
    agree(cases, run_node([js_call(case, exported) for case in cases]), exported)
    named = [case for case in cases if case.expected[1] is not None]
    assert len(named) >= 15  # most tampering is pinned to the event it touched


def test_the_javascript_report_says_what_python_says(exported: Exported) -> None:
    text = dumps_bundle(exported.bundle)
    options = {"logKey": TEST_KEY.verifier.to_string(), "witnesses": [key.to_string() for key in exported.witnesses]}
    (result,) = run_node([call("verifyBundle", text, options)])
    report = result["value"]
    python = verify_bundle(text, TEST_KEY.verifier, TrustPolicy(TEST_KEY.verifier, exported.witnesses, 2))
    assert python.ok
    assert report["ok"]
    assert (
        report["events"],
        report["checkpointSize"],
        report["witnesses"],
        report["objectId"],
        report["keyName"],
        report["keyPinned"],
        report["summary"],
    ) == (
        python.events,
        python.checkpoint_size,
        python.witnesses,
        python.object_id,
        python.key_name,
        python.key_pinned,
        python.summary,
    )
    assert open_note(exported.bundle["checkpoint"], TEST_KEY.verifier)  # the fixture's note is the real one


BROWSER_CASES = (
    "intact",
    "one byte of event 3's state",
    "one digit of a node of event 1's proof",
    "event 4 missing",
    "one character of the log's signature",
    "a cosignature removed",
    "a cosignature forged",
    "event 0's proof in upper-case hex",
    "event 3's principal shown as another",
    "event 7 recorded after the checkpoint was signed",
    "another key pinned",
)


def test_headless_chromium_agrees_on_a_subset_served_over_plain_http(exported: Exported) -> None:
    """In a real browser, from a page served over plain http: on an address other than loopback where the machine
    has one, which is not a secure context (no WebCrypto), as an intranet page over http is not."""
    cases = [case for case in corpus(exported) if case.name in BROWSER_CASES]
    assert len(cases) == len(BROWSER_CASES)
    host = intranet_address() or "127.0.0.1"
    with static_server(host) as base, chromium() as driver:
        results = run_browser(driver, base, [js_call(case, exported) for case in cases])
        if host != "127.0.0.1":
            assert not secure_context(driver)
    agree(cases, results, exported)
