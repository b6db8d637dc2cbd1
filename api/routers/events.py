"""Subscriptions, pull and push: the event feed and its Server-Sent Events stream.

Both read the log itself in position order. A consumer keeps the last position it processed (``next`` of the
feed, the SSE ``id``) and resumes after it: nothing is missed, nothing repeats. Finance and auditors see every
event; a department the events of its own projects and record; anyone else the public ones (disclosures and
the published blacklist).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.auth import PrincipalDep
from api.body import LedgerRoute
from api.deps import ReadConn
from api.problems import QUERY_PROBLEMS, documented
from api.schemas import EventPageOut
from api.watch import LogWatcher
from ledger.errors import Forbidden, InvalidInput
from projections import feed

router = APIRouter(prefix="/events", tags=["subscriptions"], route_class=LedgerRoute)

HEARTBEAT_SECONDS = 15.0
STREAM_PAGE = 500
After = Annotated[int | None, Query(ge=-1, le=2**62, description="The last position you have; -1 or omitted: "
                                    "from the first event")]
Types = Annotated[str | None, Query(max_length=2000, description="Comma-separated event types "
                                    "(Project.BudgetApproved) or aggregates (Project.*); omitted: all",
                                    examples=["Project.*,Agency.Blacklisted"])]


def parse_types(topics: str | None) -> tuple[str, ...]:
    if not topics:
        return ()
    items = tuple(item.strip() for item in topics.split(",") if item.strip())
    for item in items:
        if not all(part.isidentifier() or part == "*" for part in item.split(".")) or item.count(".") != 1:
            raise InvalidInput(f"not an event type or Aggregate.*: {item!r}", field="topics")
    return items


@router.get("", response_model=EventPageOut, responses=QUERY_PROBLEMS)
def read_feed(conn: ReadConn, principal: PrincipalDep, after: After = None, topics: Types = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              with_state: Annotated[bool, Query(description="Also the topic and stored bytes (base64) the leaf "
                                                "hash commits to, to recompute it")] = False) -> Response:
    """The log in position order after a cursor, each event with its type, payload, principal, times and hash (for
    the public and agencies: without the staff id of who acted, and without the stored bytes)."""
    visible = feed.visible_to(conn, principal, parse_types(topics))
    if with_state and visible.public_only:
        raise Forbidden("the stored bytes name the staff who acted; the public follows events without them",
                        code="role-not-allowed", field="with_state")
    return Response(feed.read_json(conn, after, limit, visible, with_state=with_state), media_type="application/json")


def _sse(event: feed.FeedEvent) -> str:
    return f"id: {event.position}\nevent: {event.type}\ndata: {event.json}\n\n"


@router.get("/stream", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "Server-Sent Events: `id` is the position, `event` the type, `data` the event as JSON"},
    **documented(401, 403, 422)})
async def stream(request: Request, principal: PrincipalDep, after: After = None, topics: Types = None,
                 last_event_id: Annotated[str | None, Header(max_length=20, description=(
                     "Resume after this position (browsers send it when they reconnect)"))] = None,
                 heartbeat: Annotated[float, Query(gt=0, le=300, description="Seconds between heartbeat "
                                                   "comments while nothing happens")] = HEARTBEAT_SECONDS,
                 ) -> StreamingResponse:
    """Live events as Server-Sent Events: catch up from a position, then follow as they are recorded."""
    types = parse_types(topics)
    if last_event_id is not None and last_event_id.strip():
        if not last_event_id.strip().lstrip("-").isdigit():
            raise InvalidInput("Last-Event-ID must be a log position", field="Last-Event-ID")
        after = int(last_event_id)
    pool: ConnectionPool[psycopg.Connection[Any]] = request.app.state.read_pool
    watcher: LogWatcher = request.app.state.watcher

    def page(cursor: int | None) -> feed.FeedPage:
        with pool.connection() as conn:
            return feed.read(conn, cursor, STREAM_PAGE, feed.visible_to(conn, principal, types))

    async def events() -> AsyncIterator[str]:
        cursor = after
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            seen = watcher.generation  # before reading: an append during the read still wakes the wait below
            batch = await run_in_threadpool(page, cursor)
            for event in batch.events:
                yield _sse(event)
            cursor = batch.next
            if len(batch.events) == STREAM_PAGE or batch.next < batch.head - 1:
                continue  # more to catch up on
            if not await watcher.wait(seen, heartbeat):
                yield ": heartbeat\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
