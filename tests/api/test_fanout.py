"""The SSE fan-out itself (api.watch.LogFanout): its filter in memory decides as the pull feed's SQL does, its
frames are the feed's events byte for byte, and a stream that falls behind the window catches up from the database
and rejoins without losing or repeating an event."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from api.roles.watch import LogFanout
from ledger.application import Act, Ledger
from ledger.domain.values import Principal
from projections import feed
from tests.api.conftest import ROLES, Service
from tests.api.test_event_stream import write_more
from tests.api.world import build

pytestmark = pytest.mark.db

TYPES = [
    (),
    ("Project.*",),
    ("Agency.Blacklisted", "Project.Disclosed"),
    ("Pro_ect.*",),
    ("Agency.*", "Project.Declared"),
]


def test_the_fanout_filters_and_renders_as_the_feed_does(service: Service) -> None:
    world = build(service)
    write_more(_Http(service), "F")  # type: ignore[arg-type]
    subjects = (("agency", "某咨询评估有限公司"), ("agency", "另一评估公司"), ("project", world.implementing))
    for kind, subject in subjects:
        body = {"subject_kind": kind, "subject": subject, "reference": "德审报〔2022〕5号", "findings": ["底稿不全"]}
        assert service.post("auditor", "/audit-findings", {**body, "effective_on": "2022-06-15"}).status_code == 201
    head = service.ledger.head()
    assert service.get("finance", "/audit-findings", min_position=head - 1).status_code == 200  # read models caught up
    with psycopg.connect(service.ledger.database_url, autocommit=True) as conn:
        tail = [feed.TailEvent(*row) for row in conn.execute(feed.TAIL, (-1, head), binary=True).fetchall()]
        assert len(feed.visible_to(conn, Principal(*ROLES["agency"])).own) == 1
        assert [event.position for event in tail] == list(range(head))
        declared = {event.originator: event.declared_by for event in tail if event.type == "Project.Declared"}
        [unit] = [(event.declared_by, event.declared_for) for event in tail if event.type == "Unit.Registered"]
        assert unit == ("教育局", ROLES["school"][2])
        assert set(declared.values()) == {"教育局", "卫生健康委员会"}
        units = {event.declared_for for event in tail if event.type == "Project.Declared"}
        assert units == {None, ROLES["school"][2]}
        found = [(event.finding_of, event.declared_by) for event in tail if event.type == "AuditFinding.Recorded"]
        assert found == [("某咨询评估有限公司", None), ("另一评估公司", None), (None, "教育局")]
        for who in [*ROLES, None]:
            principal = Principal(*ROLES[who]) if who else Principal("public", "public", "")
            for types in TYPES:
                where = feed.visible_to(conn, principal, types)
                expected: list[feed.FeedEvent] = []
                after = -1
                while True:
                    page = feed.read(conn, after, 7, where)
                    expected.extend(page.events)
                    if page.next == after:
                        break
                    after = page.next
                objects = None if where.objects is None else set(where.objects)
                own = set(where.own)
                admitted = [event for event in tail if event.admitted(where.types, where.public_only, objects, own)]
                frames = [event.frame_for(where.public_only) for event in admitted]
                assert frames == [feed.sse_frame(event) for event in expected], (who, types)
        assert not [event for event in tail if event.admitted(("Pro_ect.*",), False, None)], "_ is no wildcard"


class _Http:
    def __init__(self, service: Service) -> None:
        self.service = service

    def post(self, who: str | None, path: str, body: object = None) -> object:
        return self.service.post(who, path, body)


FINANCE = Principal("fin-01", "finance", "市财政局")


def test_a_stream_behind_the_window_catches_up_from_the_database_and_rejoins(ledger: Ledger, database_url: str) -> None:
    total = ledger.head() + 300  # bootstrap's events, and 300 more while the stream follows

    def append() -> None:
        for n in range(300):
            ledger.register_department(Act(FINANCE, date(2020, 8, 1), reason="测试"), f"部门{n:03}")

    async def scenario() -> tuple[list[int], int]:
        pool: ConnectionPool[psycopg.Connection[object]] = ConnectionPool(
            database_url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True
        )
        fanout = LogFanout(database_url, pool, window=8, interval=0.0)  # a tiny window: the stream falls behind
        fanout.start()
        received: list[int] = []
        widest = 0
        try:
            deadline = time.monotonic() + 30
            while not fanout.connected:
                assert time.monotonic() < deadline, "the reader connects"
                await asyncio.sleep(0.02)
            subscription = fanout.open(FINANCE, ("principal", FINANCE.id), (), -1)
            writer = threading.Thread(target=append)
            writer.start()
            done = asyncio.Event()

            async def send(chunk: bytes) -> None:  # a slow client, which at one point stops reading for a while
                nonlocal widest
                received.extend(int(line[4:]) for line in chunk.decode().split("\n") if line.startswith("id: "))
                if len(received) >= total:
                    done.set()
                elif len(received) > 20 and not widest:
                    while fanout.position - received[-1] <= 40:
                        await asyncio.sleep(0.01)
                    widest = fanout.position - received[-1]

            serving = asyncio.ensure_future(fanout.serve(subscription, send, heartbeat=0.2))
            try:
                await asyncio.wait_for(done.wait(), 90)
            finally:
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
                fanout.release(subscription)
                await asyncio.to_thread(writer.join)
        finally:
            await fanout.stop()
            pool.close()
        return received, widest

    received, widest = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert received == list(range(total)), "in order, nothing lost, nothing twice"
    assert widest > 8, "the stream did fall behind the window"
