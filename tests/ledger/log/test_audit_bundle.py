"""The offline bundle verifier on bundles made in memory: one spelling per value, and never a crash."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

import pytest

from ledger.log import merkle
from ledger.log.audit import BUNDLE_FORMAT, verify_bundle
from ledger.log.checkpoint import Checkpoint, SigningKey, sign_checkpoint
from ledger.log.integrity import leaf_hash
from tests.ledger.log.test_merkle import build_store, fetch

ORIGIN = "test.example/jixiao"
KEY = SigningKey.generate("test.example-jixiao")
OBJECT = uuid.UUID("5f0d2c1e-0000-4000-8000-0000000000e1")


def bundle() -> dict[str, Any]:
    """Three events of OBJECT at leaves 1, 3 and 4 of a five-leaf log, proved against its signed checkpoint."""
    leaves: list[bytes] = []
    events: list[dict[str, Any]] = []
    for index in range(5):
        if index in (1, 3, 4):
            version = len(events) + 1
            state = json.dumps(
                {
                    "effective_on": {"_type_": "date_iso", "_data_": "2021-01-04"},
                    "principal": {
                        "_type_": "principal",
                        "_data_": {"id": "fin-01", "role": "finance", "organisation": "市财政局"},
                    },
                    "n": version,
                }
            ).encode()
            leaves.append(leaf_hash(OBJECT, version, "ledger.project:Project.Declared", state))
            events.append(
                {
                    "leaf_index": index,
                    "originator_version": version,
                    "topic": "ledger.project:Project.Declared",
                    "state": base64.b64encode(state).decode(),
                    "leaf_hash": leaves[-1].hex(),
                    "recorded_at": f"2026-12-04T10:00:0{index}+00:00",
                    "effective_on": "2021-01-04",
                    "principal": {"id": "fin-01", "role": "finance", "organisation": "市财政局"},
                }
            )
        else:
            leaves.append(merkle.hash_leaf(bytes([index])))
    store = build_store(leaves)
    root = merkle.root_hash(5, fetch(store, merkle.root_nodes(5)))
    for event in events:
        nodes = fetch(store, merkle.inclusion_proof_nodes(event["leaf_index"], 5))
        event["inclusion_proof"] = [node.hex() for node in merkle.inclusion_proof(event["leaf_index"], 5, nodes)]
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, root, ("time 2026-12-04T10:01:00+00:00",)), KEY)
    return {
        "format": BUNDLE_FORMAT,
        "origin": ORIGIN,
        "object_id": str(OBJECT),
        "verifier_key": KEY.verifier.to_string(),
        "checkpoint": note,
        "events": events,
    }


def test_an_intact_bundle_verifies() -> None:
    report = verify_bundle(json.dumps(bundle()), KEY.verifier)
    assert report.ok, report.failures
    assert report.events == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("originator_version", "1"),
        ("originator_version", 1.0),
        ("originator_version", True),
        ("leaf_index", "1"),
        ("leaf_index", 1.0),
        ("leaf_index", True),
    ],
)
def test_numbers_have_one_spelling(field: str, value: object) -> None:
    changed = bundle()
    changed["events"][0][field] = value
    report = verify_bundle(json.dumps(changed), KEY.verifier)
    assert not report.ok
    assert "must be a JSON integer" in report.failures[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b.update(verifier_key="not a key"),
        lambda b: b.update(checkpoint=b["checkpoint"].replace("time 2026-12-04T10:01:00+00:00", "time yesterday")),
        lambda b: b.update(object_id="not-a-uuid"),
        lambda b: b["events"][0].update(state="%%%"),
        lambda b: b["events"][1].pop("inclusion_proof"),
        lambda b: b.update(events="none"),
    ],
)
def test_a_garbled_bundle_is_reported_never_raised(damage: Any) -> None:
    changed = copy.deepcopy(bundle())
    damage(changed)
    report = verify_bundle(json.dumps(changed), KEY.verifier)
    assert not report.ok
