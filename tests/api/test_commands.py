"""Safe retries and concurrency: Idempotency-Key, If-Match, and conflicting writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import Service, settings_for
from tests.api.world import build, expect

pytestmark = pytest.mark.db

REPORT = {"month": 4, "executed": "250000.00", "indicator_progress": {"I1": 30}, "effective_on": "2021-05-10"}


def test_the_same_key_and_request_return_the_original_result_and_record_nothing(service: Service) -> None:
    world = build(service)
    path = f"/projects/{world.implementing}/monitoring-reports"
    first = service.post("education", path, REPORT, **{"Idempotency-Key": "jy01-2021-04"})
    assert first.status_code == 201
    head = service.ledger.head()
    again = service.post("education", path, {**REPORT}, **{"Idempotency-Key": "jy01-2021-04"})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert {**again.json(), "replayed": False} == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert service.ledger.head() == head
    # The same key from another principal is another command (keys are per principal): refused on its merits.
    other = service.post("health", path, REPORT, **{"Idempotency-Key": "jy01-2021-04"})
    assert expect(other, 403)["code"] == "not-own-department"


def test_the_same_key_with_a_different_request_is_refused(service: Service) -> None:
    world = build(service)
    path = f"/projects/{world.implementing}/monitoring-reports"
    expect(service.post("education", path, REPORT, **{"Idempotency-Key": "k-1"}), 201)
    head = service.ledger.head()
    changed = service.post("education", path, {**REPORT, "executed": "260000.00"}, **{"Idempotency-Key": "k-1"})
    problem = expect(changed, 422)
    assert (problem["code"], problem["field"]) == ("idempotency-key-reused", "Idempotency-Key")
    elsewhere = service.post(
        "education", f"/projects/{world.declared}/goals", {"indicators": []}, **{"Idempotency-Key": "k-1"}
    )
    assert expect(elsewhere, 422)["code"] in ("idempotency-key-reused", "validation-failed")
    assert service.ledger.head() == head


@pytest.mark.parametrize("key", ["k" * 256, "", "key\x01"])
def test_an_idempotency_key_too_long_empty_or_with_control_characters_is_refused(service: Service, key: str) -> None:
    world = build(service)
    head = service.ledger.head()
    refused = service.post(
        "education", f"/projects/{world.implementing}/monitoring-reports", REPORT, **{"Idempotency-Key": key}
    )
    problem = expect(refused, 422)
    assert problem["field"] == "Idempotency-Key", problem
    assert refused.headers["content-type"] == "application/problem+json"
    assert service.ledger.head() == head


def test_a_retry_after_the_rules_changed_still_gets_the_original_answer(service: Service) -> None:
    """The first attempt succeeded but its response was lost; the retry would now be refused (already reviewed)."""
    world = build(service)
    path = f"/projects/{world.implementing}/monitoring-reports"
    expect(service.post("education", path, REPORT), 201)
    review = {"opinion": "执行正常", "effective_on": "2021-05-20"}
    first = expect(service.post("finance", f"{path}/4/review", review, **{"Idempotency-Key": "rv"}), 200)
    plain_retry = service.post("finance", f"{path}/4/review", review)
    assert expect(plain_retry, 409)["code"] == "already-decided"
    keyed_retry = expect(service.post("finance", f"{path}/4/review", review, **{"Idempotency-Key": "rv"}), 200)
    assert keyed_retry["positions"] == first["positions"]


def test_concurrent_retries_under_one_key_record_once(service: Service) -> None:
    world = build(service)
    path = f"/projects/{world.implementing}/monitoring-reports"
    head = service.ledger.head()
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda _: service.post("education", path, REPORT, **{"Idempotency-Key": "race"}), range(8))
        )
    assert {response.status_code for response in responses} == {201}
    assert len({tuple(response.json()["positions"]) for response in responses}) == 1
    assert service.ledger.head() == head + 1


def test_if_match_applies_a_command_only_at_the_version_seen(service: Service) -> None:
    world = build(service)
    seen = service.client.get(f"/projects/{world.implementing}", headers=service.headers("education"))
    etag = seen.headers["etag"]
    assert etag == f'"{seen.json()["version"]}"'
    path = f"/projects/{world.implementing}/monitoring-reports"
    applied = service.post("education", path, REPORT, **{"If-Match": etag})
    assert applied.status_code == 201
    assert applied.headers["etag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    head = service.ledger.head()
    stale = service.post("education", path, {**REPORT, "month": 5}, **{"If-Match": etag})
    assert expect(stale, 412)["code"] == "stale-version"
    malformed = service.post("education", path, {**REPORT, "month": 5}, **{"If-Match": "7"})
    assert expect(malformed, 400)["code"] == "precondition-malformed"
    assert service.ledger.head() == head
    assert service.post("education", path, {**REPORT, "month": 5}, **{"If-Match": "*"}).status_code == 201


def test_a_write_that_loses_a_race_with_another_replica_is_refused_with_409(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    world = build(service)
    path = f"/projects/{world.implementing}/monitoring-reports"
    with TestClient(create_app(settings_for(database_url, tmp_path, service.key))) as replica:
        ledger = replica.app.state.ledger  # type: ignore[attr-defined]
        save = ledger.save
        decided, proceed = threading.Event(), threading.Event()

        def save_after_the_other_replica(*args: Any, **kwargs: Any) -> Any:
            decided.set()  # the replica has loaded version N and decided; now the other replica writes N+1
            proceed.wait(10)
            return save(*args, **kwargs)

        ledger.save = save_after_the_other_replica
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(replica.post, path, json={**REPORT, "month": 5}, headers=service.headers("education"))
            assert decided.wait(10)
            expect(service.post("education", path, REPORT), 201)
            head = service.ledger.head()
            proceed.set()
            lost = pending.result(timeout=30)
        assert expect(lost, 409)["code"] == "version-conflict"
        assert service.ledger.head() == head
        ledger.save = save
        retried = replica.post(path, json={**REPORT, "month": 5}, headers=service.headers("education"))
        assert retried.status_code == 201, retried.text  # nothing of the lost attempt stayed in the replica's cache
