"""The SSE stream under load and abuse: ``Last-Event-ID`` is validated like ``after``; streams are capped per
principal and in total (429); and one reader per process fans the log out to every stream — each gets exactly what
its principal may see, in order, once, even when the reader's database connection is cut."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.config.database import drop_database, ensure_database
from ledger.domain.organisations import department_id
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, ROLES, LiveServer, settings_for
from tests.api.world import build, expect
from tests.credit_codes import code_of

pytestmark = pytest.mark.db

READER = "jixiao-sse-reader"  # the application_name of each process's one reader of the log


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


@dataclass
class Live:
    app: FastAPI
    base: str
    tokens: dict[str, str]
    url: str

    def headers(self, who: str | None, **extra: str | bytes) -> dict[str, Any]:
        return {**({} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}), **extra}

    @property
    def open_streams(self) -> int:
        return int(self.app.state.fanout.streams)

    def post(self, who: str | None, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self.headers(who), timeout=60)

    def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.base + path, params=params, headers=self.headers(who), timeout=60)


@contextmanager
def live_service(pg_admin_url: str, data_dir: Path, **overrides: Any) -> Iterator[Live]:
    name = f"jixiao_test_{uuid.uuid4().hex[:12]}"
    url = ensure_database(pg_admin_url, name)
    key = SigningKey.generate(ORIGIN)
    app = create_app(settings_for(url, data_dir, key, run_dispatcher=False, **overrides))
    try:
        with LiveServer(app) as base:
            tokens = {who: app.state.tokens.issue(*principal, created_by="test")[0] for who, principal in ROLES.items()}
            yield Live(app, base, tokens, url)
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def capped(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(
        pg_admin_url, tmp_path_factory.mktemp("capped"), sse_max_streams=3, sse_max_streams_per_principal=2
    ) as live:
        yield live


@contextmanager
def opened(live: Live, who: str | None, **headers: str | bytes) -> Iterator[httpx.Response]:
    """A stream, open until the block ends (its first frame read, so the server holds it)."""
    with (
        httpx.Client(base_url=live.base, timeout=30) as client,
        client.stream(
            "GET", "/events/stream", headers=live.headers(who, **headers), params={"heartbeat": 0.5}
        ) as response,
    ):
        lines = response.iter_lines()  # held until the block ends: dropping it closes the response
        if response.status_code == 200:
            next(lines)
        else:
            response.read()
        yield response


# Last-Event-ID as a client (or an attacker) may send it; bytes are sent as they are (latin-1, as HTTP carries them).
BAD_IDS: list[tuple[str, str | bytes, str]] = [
    ("far below zero", "-9999999999", "-9999999999"),  # was a million empty pages scanned, seconds of CPU
    ("below -1", "-2", "-2"),
    ("two minus signs", "--5", "--5"),  # was a 500
    ("superscript two", "²".encode("latin-1"), "²"),  # str.isdigit() says yes; int() says no: was a 500
    ("superscripts", "¹³".encode("latin-1"), "¹³"),
    ("above the largest position", "4611686018427387905", "4611686018427387905"),
    ("twenty nines", "9" * 20, "9" * 20),
    ("a fraction", "1.5", "1.5"),
    ("a word", "abc", "abc"),
]


@pytest.mark.parametrize(
    ("header", "after"), [(header, after) for _, header, after in BAD_IDS], ids=[name for name, _, _ in BAD_IDS]
)
def test_a_bad_last_event_id_is_refused_as_after_is(capped: Live, header: str | bytes, after: str) -> None:
    started = time.monotonic()
    with opened(capped, "finance", **{"Last-Event-ID": header}) as response:
        assert response.status_code == 422, f"answered {response.status_code}"
        problem = response.json()
    assert time.monotonic() - started < 5, "answered promptly"
    assert response.headers["content-type"] == "application/problem+json"
    pulled = capped.get("finance", "/events", after=after)
    assert pulled.status_code == 422, pulled.text
    assert problem["type"] == pulled.json()["type"] == "urn:jixiao:problem:validation-failed"
    assert problem["field"] == "header.last-event-id"
    assert problem["errors"][0]["message"] == pulled.json()["errors"][0]["message"]


def test_an_empty_last_event_id_means_none_and_a_good_one_resumes(capped: Live) -> None:
    for n in range(3):
        expect(
            capped.post(
                "finance",
                "/agencies",
                {
                    "name": f"机构{n}",
                    "credentials": "甲级",
                    "credit_code": code_of(f"机构{n}"),
                    "effective_on": "2020-08-01",
                },
            ),
            201,
        )
    for header, after, first in (("", "0", 1), ("", "1", 2), ("0", "1", 1), ("1", "-1", 2)):
        with (
            httpx.Client(base_url=capped.base, timeout=30) as client,
            client.stream(
                "GET",
                "/events/stream",
                params={"after": after},
                headers=capped.headers("finance", **{"Last-Event-ID": header}),
            ) as response,
        ):
            assert response.status_code == 200
            ids = (line for line in response.iter_lines() if line.startswith("id: "))
            assert next(ids) == f"id: {first}", (header, after)
    wait_until(lambda: capped.open_streams == 0, "every stream is released")


def test_streams_are_capped_per_principal_and_in_total(capped: Live) -> None:
    wait_until(lambda: capped.open_streams == 0, "the other tests' streams are released")
    with opened(capped, "finance") as first, opened(capped, "finance") as second:
        assert first.status_code == second.status_code == 200
        with opened(capped, "finance") as third:
            assert third.status_code == 429
            problem = third.json()
            assert problem["type"] == "urn:jixiao:problem:too-many-streams"
            assert third.headers["content-type"] == "application/problem+json"
            assert int(third.headers["Retry-After"]) > 0
            assert "2" in problem["detail"]
        with opened(capped, "auditor") as auditor:
            assert auditor.status_code == 200  # another principal: its own allowance, within the total of 3
            with opened(capped, None) as public:
                assert public.status_code == 429  # the total
                assert public.json()["type"] == "urn:jixiao:problem:too-many-streams"
    wait_until(lambda: capped.open_streams == 0, "closed streams are released")
    with opened(capped, "finance") as again:
        assert again.status_code == 200


# ----------------------------------------------------------------------------------------------- fan-out


@dataclass
class Follower:
    """A subscriber in a thread of its own: every event it receives, in the order it receives them."""

    live: Live
    who: str | None
    topics: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    error: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        params: dict[str, Any] = {"heartbeat": 0.3, "after": -1}
        if self.topics:
            params["topics"] = self.topics
        try:
            with (
                httpx.Client(base_url=self.live.base, timeout=60) as client,
                client.stream("GET", "/events/stream", params=params, headers=self.live.headers(self.who)) as response,
            ):
                assert response.status_code == 200, response.read()
                event: dict[str, Any] = {}
                for line in response.iter_lines():
                    if self.stop.is_set():
                        return
                    if not line:
                        if "data" in event:
                            assert event["data"]["position"] == int(event["id"])
                            assert event["data"]["type"] == event["event"]
                            self.events.append(event["data"])
                        event = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(": ")
                        event[name] = json.loads(value) if name == "data" else value
        except BaseException as error:  # reported by the test
            self.error.append(error)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def pulled(live: Live, who: str | None, topics: str | None) -> list[dict[str, Any]]:
    """Everything ``who`` may see, through the pull feed."""
    events: list[dict[str, Any]] = []
    after = -1
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if topics:
            params["topics"] = topics
        page = expect(live.get(who, "/events", **params), 200)
        events.extend(page["events"])
        if page["next"] == after:
            return events
        after = page["next"]


AUDIENCES: list[tuple[str | None, str | None]] = [
    ("finance", None),
    ("finance", "Project.*,Agency.Blacklisted"),
    ("auditor", None),
    ("education", None),
    ("health", None),
    ("school", None),
    ("education", "Project.Declared"),
    ("agency", None),
    (None, None),
    (None, "Agency.*"),
]


def write_more(live: Live, tag: str) -> None:
    """Events for every audience: departments' and a budget unit's new projects, a disclosure, blacklistings public
    and not."""
    unit = live.post(
        "finance",
        f"/departments/{department_id('教育局')}/units",
        {"name": ROLES["school"][2], "effective_on": "2020-08-03"},
    )
    assert unit.status_code in (201, 409), unit.text  # registered by the first call
    for department, who, of_unit in (
        ("教育局", "education", None),
        ("卫生健康委员会", "health", None),
        ("教育局", "school", ROLES["school"][2]),
    ):
        for n in range(3):
            pid = expect(
                live.post(
                    who,
                    "/projects",
                    {
                        "code": f"{tag}-{who[:2].upper()}-{n}",
                        "name": f"项目{tag}{n}",
                        "department": department,
                        "unit": of_unit,
                        "fiscal_year": 2021,
                        "budget_book": "general_public",
                        "requested": "100000.00",
                        "effective_on": "2020-09-01",
                    },
                ),
                201,
            )["id"]
            expect(live.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-30"}), 200)
    for public in (True, False):
        agency = expect(
            live.post(
                "finance",
                "/agencies",
                {
                    "name": f"机构{tag}{public}",
                    "credentials": "乙级",
                    "credit_code": code_of(f"机构{tag}{public}"),
                    "effective_on": "2020-08-01",
                },
            ),
            201,
        )["id"]
        expect(
            live.post(
                "finance",
                f"/agencies/{agency}/misconduct",
                {"kind": "untrue_results", "description": "评价结果不实", "effective_on": "2022-03-10"},
            ),
            201,
        )
        # A blacklisting is always public (信用青海): one asked to be kept private is refused, its agency's
        # misconduct stays on record unblacklisted.
        expect(
            live.post(
                "finance",
                f"/agencies/{agency}/blacklisting",
                {"reason": "评价结果不实", "public": public, "effective_on": "2022-03-18"},
            ),
            201 if public else 409,
        )


def test_every_stream_gets_exactly_what_its_principal_may_see_across_a_cut_reader(
    pg_admin_url: str, tmp_path: Path
) -> None:
    with live_service(pg_admin_url, tmp_path) as live:
        early = [Follower(live, who, topics) for who, topics in AUDIENCES]
        build(_Service(live))  # type: ignore[arg-type]
        late = [Follower(live, who, topics) for who, topics in AUDIENCES]  # these catch up from the database
        write_more(live, "A")
        with psycopg.connect(live.url, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = current_database()",
                (READER,),
            ).fetchall()
        assert cut == [(True,)], "one reader per process, and it was cut"
        write_more(live, "B")
        followers = early + late
        try:
            head = live.app.state.ledger.head()
            expect(live.get("finance", "/readyz", min_position=head - 1), 200)  # the department filter is current

            def done() -> bool:
                return all(
                    f.error
                    or [e["position"] for e in f.events] == [e["position"] for e in pulled(live, f.who, f.topics)]
                    for f in followers
                )

            wait_until(done, "every stream has what the pull feed has")
            for follower in followers:
                assert not follower.error, follower.error
                expected = pulled(live, follower.who, follower.topics)
                assert follower.events == expected, (follower.who, follower.topics)
                positions = [event["position"] for event in follower.events]
                assert positions == sorted(set(positions))
            by_audience = {(f.who, f.topics): {e["type"] for e in f.events} for f in early}
            assert "Project.Declared" in by_audience[("education", None)]
            assert "Project.Declared" in by_audience[("school", None)]  # its unit's, declared after it began
            assert by_audience[(None, None)] >= {"Project.Disclosed", "Agency.Blacklisted"}
            assert len(early[0].events) == head
        finally:
            for follower in followers:
                follower.close()


class _Service:
    """tests.api.world.build's client, over real HTTP."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def post(self, who: str | None, path: str, body: Any = None) -> httpx.Response:
        return self.live.post(who, path, body)

    def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        return self.live.get(who, path, **params)
