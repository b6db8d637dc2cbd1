"""Subscribers follow the log without missing or double-counting: the pull feed and the SSE stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from api.app import create_app
from ledger.domain.values import Principal
from ledger.log import merkle
from ledger.store.transcodings import untyped
from projections import feed
from tests.api.conftest import ROLES, LiveServer, Service, settings_for
from tests.api.world import World, build, expect
from tests.credit_codes import code_of

pytestmark = pytest.mark.db


def feed_all(service: Service, who: str | None, limit: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    after = -1
    while True:
        page = expect(service.get(who, "/events", after=after, limit=limit, **params), 200)
        events.extend(page["events"])
        if page["next"] == after:
            return events, after
        after = page["next"]


def test_the_feed_is_the_whole_log_in_order_with_no_gaps_across_pages(service: Service) -> None:
    build(service)
    head = service.ledger.head()
    events, cursor = feed_all(service, "auditor", limit=7)
    assert [event["position"] for event in events] == list(range(head))
    assert cursor == head - 1
    history = expect(service.get("auditor", f"/projects/{events[-1]['aggregate_id']}/history"), 200)
    assert history[-1]["leaf_hash"] == events[-1]["leaf_hash"]
    approved = next(event for event in events if event["type"] == "Project.BudgetApproved")
    assert approved["payload"]["amount"] == {"_type_": "decimal_str", "_data_": "1000000.00"}  # as stored: exact
    assert untyped(approved["payload"])["amount"] == Decimal("1000000.00")
    assert approved["principal"] == {"id": "fin-wang", "role": "finance", "organisation": "市财政局"}
    assert approved["effective_on"] == "2021-01-15"
    proof = expect(service.get(None, "/log/proofs/inclusion", leaf_index=approved["position"]), 200)
    assert merkle.verify_inclusion(
        bytes.fromhex(approved["leaf_hash"]),
        approved["position"],
        proof["tree_size"],
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(proof["root_hash"]),
    )
    # Nothing new: the cursor stays where it is.
    assert expect(service.get("auditor", "/events", after=cursor), 200) == {"events": [], "next": cursor, "head": head}


def test_the_feed_filters_by_type_and_by_what_the_role_may_see(service: Service) -> None:
    world: World = build(service)
    head = service.ledger.head()
    projects, cursor = feed_all(service, "finance", limit=3, topics="Project.*")
    assert {event["type"].split(".")[0] for event in projects} == {"Project"}
    assert cursor == head - 1
    declared, _ = feed_all(service, "finance", limit=50, topics="Project.Declared,Agency.Registered")
    assert [event["type"] for event in declared] == ["Agency.Registered"] * 2 + ["Project.Declared"] * 2
    public, _ = feed_all(service, None, limit=50)
    assert [(event["type"], event["payload"]["what"]) for event in public] == [("Project.Disclosed", "goals")]
    health, _ = feed_all(service, "health", limit=50)
    assert {event["aggregate_id"] for event in health} == {world.declared, world.health}
    refused = service.get("finance", "/events", topics="Project;DROP")
    assert expect(refused, 422)["field"] == "topics"


def sse(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse a text/event-stream into its events (id, event, data)."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value


def test_the_stream_catches_up_goes_live_and_resumes_after_a_dropped_connection(
    database_url: str, tmp_path: Path
) -> None:
    from ledger.log.checkpoint import SigningKey

    key = SigningKey.generate("stream-test")
    app = create_app(settings_for(database_url, tmp_path, key))
    with LiveServer(app) as base:
        tokens = {who: app.state.tokens.issue(*principal, created_by="test")[0] for who, principal in ROLES.items()}
        finance = {"Authorization": f"Bearer {tokens['finance']}"}
        writer = httpx.Client(base_url=base, headers=finance, timeout=30)
        stop = threading.Event()

        def write_departments() -> None:
            n = 0
            while not stop.is_set():
                writer.post("/departments", json={"name": f"部门{n:03}", "effective_on": "2020-08-01"})
                n += 1
                time.sleep(0.01)

        for n in range(5):
            writer.post(
                "/agencies",
                json={
                    "name": f"机构{n}",
                    "credentials": "甲级",
                    "credit_code": code_of(f"机构{n}"),
                    "effective_on": "2020-08-01",
                },
            )
        thread = threading.Thread(target=write_departments)
        thread.start()
        received: list[int] = []
        try:
            with httpx.Client(base_url=base, headers=finance, timeout=30) as reader:
                with reader.stream("GET", "/events/stream", params={"heartbeat": 0.5}) as response:
                    assert response.headers["content-type"].startswith("text/event-stream")
                    for event in sse(response):
                        received.append(int(event["id"]))
                        assert event["data"]["position"] == int(event["id"])
                        if len(received) == 40:
                            break  # drop the connection mid-stream
                last = received[-1]
                with reader.stream("GET", "/events/stream", headers={"Last-Event-ID": str(last)}) as response:
                    for event in sse(response):
                        received.append(int(event["id"]))
                        if len(received) == 80:
                            break
        finally:
            stop.set()
            thread.join()
            writer.close()
    assert received == list(range(80)), received  # in order, nothing lost, nothing twice across the reconnect


def test_the_feed_page_is_the_events_as_each_is_rendered(service: Service) -> None:
    """The route's page (one value joined by PostgreSQL, as bytes) is byte for byte the events rendered one by one."""
    world: World = build(service)
    with psycopg.connect(service.ledger.database_url) as conn:
        department = feed.visible_to(conn, Principal("edu", "department", "教育局"))
        for where in (
            feed.FeedFilter(),
            feed.FeedFilter(("Project.*", "Agency.Blacklisted")),
            department,
            feed.FeedFilter(public_only=True),
            feed.FeedFilter(objects=(UUID(world.implementing),)),
        ):
            for after, limit in ((None, 1000), (-1, 3), (5, 7), (service.ledger.head(), 10)):
                for with_state in (False, True):
                    one_by_one = feed.read(conn, after, limit, where, with_state=with_state)
                    page = feed.read_json(conn, after, limit, where, with_state=with_state)
                    assert page == one_by_one.json().encode(), (where, after, limit, with_state)
                    json.loads(page)
