"""The soak under faults, for a minute (``make soak`` runs it for ten): the deployment on loopback under load while
an API worker, the read-model worker, the dispatcher and the relay are SIGKILLed and PostgreSQL restarts — nothing
acknowledged is lost, no 500, the log verifies, every read model equals its rebuild, every subscriber got every event
once in order, and no process needed a restart. See bench/soak.py.

The load is lighter than ``make soak``'s (fewer commands a second, 20 streams rather than 50), to keep the suite's
cost bounded; the relay
takes part where a NATS server answers (``JIXIAO_REQUIRE_NATS=1``, as ``.ci/run`` sets, makes that a requirement).
"""

from __future__ import annotations

import os

import pytest

from bench.soak import Options, _nats_answers, describe, soak

pytestmark = [pytest.mark.db, pytest.mark.soak, pytest.mark.timeout(600)]


def test_a_minute_of_faults_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    nats = os.environ.get("JIXIAO_NATS_URL", "nats://127.0.0.1:4222")
    if not _nats_answers(nats):
        if os.environ.get("JIXIAO_REQUIRE_NATS") == "1":
            pytest.fail(f"JIXIAO_REQUIRE_NATS=1 but no NATS server answers at {nats}")
        nats = ""
    report = soak(
        Options(
            duration=60, baseline=10, rate=30, clients=16, streams=20, receivers=2, fault_interval=10, nats=nats or None
        ),
        say=lambda _: None,
    )
    text = describe(report)
    with capsys.disabled():
        print(text)
    assert report.lost == 0, text
    assert report.internal_errors == 0, text
    assert report.verify.startswith("OK"), text
    assert all(report.digests.values()), text
    assert all(state == "ok" for state in report.subscribers.values()), text
    assert report.exits == {}, text
    assert {r.fault for r in report.recoveries} >= {"api-worker", "read-models", "dispatcher", "postgres"}, text
    assert all(r.seconds is not None for r in report.recoveries), text
    assert report.passed, text
