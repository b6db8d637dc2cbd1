"""The offline verifier of audit bundles: one project's events, each with its inclusion proof, against a signed
(and, where witnesses are pinned, cosigned) checkpoint.

``TransparencyLog.export_bundle`` writes a bundle from the live log; ``verify_bundle`` needs nothing but the file,
SHA-256 and Ed25519. An auditor pins the bureau's published verifier key (``key``) rather than trust the one inside
the bundle, and the witnesses it trusts (``policy``). After key rotations, the bundle carries the log's rotation
events, each with its inclusion proof in the bundle's tree: the pinned key may be any of the log's keys (the first
one published, say), and the checkpoint must be signed by the key in force at its size, followed from it.

This module, like everything it imports (:mod:`ledger.merkle`, :mod:`ledger.checkpoint`, :mod:`ledger.integrity`,
:mod:`ledger.rotation`, :mod:`ledger.witness`), needs only the standard library and ``cryptography``: no database
driver, no web framework (a test runs it with those refused).

What a bundle proves: each event in it is in the signed log, unaltered, at the stated position; the events are
versions 1..N of one object with none missing and in log order. Events recorded after the checkpoint are, by
construction, not covered: a later bundle (or a consistency proof between checkpoints) extends the proof.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, CheckpointError, VerifierKey, signed_time
from ledger.log.integrity import leaf_hash
from ledger.log.rotation import RecordedRotation, RotationError, follow_chain
from ledger.log.witness import TrustPolicy, WitnessError

BUNDLE_FORMAT = "jixiao-audit-bundle/1"
_DIGEST_HEX = re.compile(r"[0-9a-f]{64}")


class BundleError(Exception):
    """A bundle that cannot be read at all."""


@dataclass
class BundleReport:
    object_id: str = ""
    events: int = 0
    checkpoint_size: int = 0
    key_name: str = ""
    key_pinned: bool = False
    witnesses: list[str] = field(default_factory=list)  # the pinned witnesses that cosigned its checkpoint
    failures: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def dumps_bundle(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def verify_bundle(text: str | bytes, key: VerifierKey | None = None, policy: TrustPolicy | None = None) -> BundleReport:
    """Check a bundle offline. ``key``: the published verifier key to pin (recommended); ``policy``: the pinned
    witnesses and how many of them must have cosigned the bundle's checkpoint (its log key is ``key``'s)."""
    report = BundleReport()
    try:
        bundle = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        report.failures.append(f"the bundle is not valid JSON ({error})")
        return report
    try:
        _verify(bundle, key, policy, report)
    except (KeyError, TypeError, ValueError, binascii.Error, CheckpointError, WitnessError) as error:
        report.failures.append(f"the bundle is malformed: {type(error).__name__}: {error}")
    return report


def _verify(
    bundle: dict[str, Any], pinned: VerifierKey | None, policy: TrustPolicy | None, report: BundleReport
) -> None:
    if bundle.get("format") != BUNDLE_FORMAT:
        report.failures.append(f"unknown bundle format {bundle.get('format')!r}")
        return
    embedded = VerifierKey.from_string(bundle["verifier_key"])
    rotations = [RecordedRotation.from_json(item) for item in bundle.get("key_rotations", [])]
    key = embedded
    if pinned is not None:  # the key in force at the checkpoint's size, followed from the pinned one
        try:
            keys = follow_chain(pinned, rotations, bundle["origin"])
        except RotationError as error:
            report.failures.append(f"key rotations: {error}")
            return
        key = keys.key_at(Checkpoint.parse_body(bundle["checkpoint"].partition("\n\n")[0] + "\n").size)
        if embedded.to_string() != key.to_string():
            report.failures.append(
                "the bundle names a different verifier key than the one pinned"
                if key == pinned
                else f"the bundle names a different verifier key than the one in force ({key.to_string()}, "
                "followed from the pinned key through the log's key rotations)"
            )
    report.key_pinned = pinned is not None
    report.key_name = key.name
    trust = TrustPolicy(
        key, policy.witnesses if policy else (), policy.min_witnesses if policy else 0, origin=bundle["origin"]
    )
    try:
        checkpoint: Checkpoint
        checkpoint, cosigned = trust.check(bundle["checkpoint"])
    except (CheckpointError, WitnessError) as error:
        report.failures.append(f"checkpoint: {error}")
        return
    report.witnesses = sorted(c.witness.name for c in cosigned)
    report.checkpoint_size = checkpoint.size
    for number, (item, rotation) in enumerate(zip(bundle.get("key_rotations", []), rotations, strict=True), 1):
        proof = [_digest(node) for node in item["inclusion_proof"]]
        if rotation.leaf_index >= checkpoint.size or not merkle.verify_inclusion(
            rotation.leaf_hash(), rotation.leaf_index, checkpoint.size, proof, checkpoint.root_hash
        ):
            report.failures.append(f"key rotation {number}: not in the signed tree at leaf {rotation.leaf_index}")
            return
    object_id = UUID(bundle["object_id"])
    report.object_id = str(object_id)
    previous_leaf = -1
    signed_at = signed_time(checkpoint)
    previous_time: datetime | None = None
    for position, event in enumerate(bundle["events"]):
        version = _integer(event["originator_version"], "originator_version")
        where = f"event {position} (version {version}, leaf {event['leaf_index']})"
        if version != position + 1:
            report.failures.append(f"{where}: versions must run 1..N without gaps; expected {position + 1}")
            return
        index = _integer(event["leaf_index"], "leaf_index")
        if index <= previous_leaf:
            report.failures.append(f"{where}: not in log order")
            return
        previous_leaf = index
        state = _canonical_base64(event["state"])
        digest = leaf_hash(object_id, version, event["topic"], state)
        if _digest(event["leaf_hash"]) != digest:
            report.failures.append(f"{where}: the leaf hash does not match the event's contents (altered)")
            return
        proof = [_digest(node) for node in event["inclusion_proof"]]
        if not merkle.verify_inclusion(digest, index, checkpoint.size, proof, checkpoint.root_hash):
            report.failures.append(f"{where}: the inclusion proof does not lead to the signed root")
            return
        shown = _shown_fields_disagree(event, json.loads(state), signed_at, previous_time)
        if shown:
            report.failures.append(f"{where}: {shown}")
            return
        previous_time = datetime.fromisoformat(event["recorded_at"])
        report.events += 1
    if report.events and bundle["events"]:
        first = json.loads(base64.b64decode(bundle["events"][0]["state"]))
        report.summary = {key_: first[key_] for key_ in ("code", "name", "department", "fiscal_year") if key_ in first}


def _integer(value: object, what: str) -> int:
    """A JSON integer exactly (one spelling per value: not "5", 5.0 or true)."""
    if type(value) is not int:
        raise ValueError(f"{what} must be a JSON integer, not {value!r}")
    return value


def _digest(value: str) -> bytes:
    """A SHA-256 digest as the bundle writes it: exactly 64 lower-case hex digits (one spelling per value)."""
    if not isinstance(value, str) or not _DIGEST_HEX.fullmatch(value):
        raise ValueError(f"not a lower-case hex SHA-256 digest: {value!r}")
    return bytes.fromhex(value)


def _canonical_base64(value: str) -> bytes:
    """Base64 as the bundle writes it; any other spelling of the same bytes is refused, so no byte is slack."""
    data = base64.b64decode(value, validate=True)
    if base64.b64encode(data).decode("ascii") != value:
        raise ValueError("the event state is not canonical base64")
    return data


def _shown_fields_disagree(
    event: dict[str, Any], state: dict[str, Any], signed_at: datetime | None, previous_time: datetime | None
) -> str | None:
    """The fields a reader sees beside the state must say what the hashed state says.

    ``effective_on`` and the principal are copies of the hashed state; ``recorded_at`` is not hashed, but it
    cannot be later than the signed checkpoint nor run backwards in log order.
    """
    effective_on = (state.get("effective_on") or {}).get("_data_")
    if event["effective_on"] != effective_on:
        return f"effective_on {event['effective_on']!r} is not the event's own ({effective_on!r})"
    principal = (state.get("principal") or {}).get("_data_") or {}
    shown = event["principal"]
    if (shown["id"], shown["role"], shown["organisation"]) != (
        principal.get("id"),
        principal.get("role"),
        principal.get("organisation"),
    ):
        return "the principal shown is not the one recorded in the event"
    recorded_at = datetime.fromisoformat(event["recorded_at"])
    if signed_at is not None and recorded_at > signed_at:
        return f"recorded_at {recorded_at.isoformat()} is after the checkpoint was signed"
    if previous_time is not None and recorded_at < previous_time:
        return "recorded_at runs backwards in log order"
    return None
