"""An inclusion proof of an event recorded a moment ago: a proof once a signed checkpoint covers it, and before that a
plain answer saying when one will and how to have one signed now (never "leaf N is not in a tree of size N")."""

from __future__ import annotations

import pytest

from ledger.log import merkle
from tests.api.conftest import Service
from tests.api.world import expect

pytestmark = pytest.mark.db


def department(service: Service, name: str) -> int:
    recorded = expect(service.post("finance", "/departments", {"name": name, "effective_on": "2020-08-01"}), 201)
    return int(recorded["position"])


def test_a_leaf_after_the_newest_checkpoint_is_not_yet_checkpointed_then_proved(service: Service) -> None:
    department(service, "民政局")
    assert service.app.state.log.sign_checkpoint() is not None
    fresh = department(service, "教育局")
    response = service.get(None, "/log/proofs/inclusion", leaf_index=fresh)
    problem = expect(response, 409)
    assert problem["type"] == "urn:jixiao:problem:not-yet-checkpointed"
    assert problem["title_zh"] == "尚无已签名的检查点覆盖该叶"
    assert f"Leaf {fresh} was recorded after the newest signed checkpoint (tree size {fresh})" in problem["detail"]
    assert "only on demand here (JIXIAO_CHECKPOINT_INTERVAL=0)" in problem["detail"]  # the test service signs none
    assert "`jixiao checkpoint`" in problem["detail"]
    assert "Retry-After" not in response.headers  # no checkpoint is coming by itself

    signed = service.app.state.log.sign_checkpoint()
    assert signed is not None
    proof = expect(service.get(None, "/log/proofs/inclusion", leaf_index=fresh), 200)
    assert proof["tree_size"] == signed.column_size == fresh + 1
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        fresh,
        proof["tree_size"],
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(proof["root_hash"]),
    )


def test_where_checkpoints_are_signed_on_a_schedule_the_answer_says_when(service: Service) -> None:
    department(service, "民政局")
    assert service.app.state.log.sign_checkpoint() is not None
    fresh = department(service, "教育局")
    settings = service.app.state.settings
    service.app.state.settings = settings.model_copy(update={"checkpoint_interval": 59.5})
    response = service.get(None, "/log/proofs/inclusion", leaf_index=fresh)
    problem = expect(response, 409)
    assert response.headers["Retry-After"] == "60"
    assert "one covering it is signed within 60 s (Retry-After)" in problem["detail"]
    assert "60 秒内将自动签署覆盖它的检查点" in problem["detail"]


def test_a_leaf_the_log_does_not_have_is_invalid_and_a_stated_size_is_served_as_before(service: Service) -> None:
    department(service, "民政局")
    assert service.app.state.log.sign_checkpoint() is not None
    fresh = department(service, "教育局")
    problem = expect(service.get(None, "/log/proofs/inclusion", leaf_index=fresh + 1), 422)
    assert problem["field"] == "leaf_index"
    assert f"the log has no leaf {fresh + 1}: it holds {fresh + 1} leaves" in problem["detail"]
    stated = expect(service.get(None, "/log/proofs/inclusion", leaf_index=fresh, tree_size=fresh + 1), 200)
    assert stated["tree_size"] == fresh + 1  # the client chose the size: proved against that tree's root
