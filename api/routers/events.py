"""Subscriptions, pull and push: the event feed and its Server-Sent Events stream.

Both follow the log in position order. A consumer keeps the last position it processed (``next`` of the feed, the
SSE ``id``) and resumes after it: nothing is missed, nothing repeats. The feed reads the log per request; the streams
are served by the process's one reader of the log (:mod:`api.watch`), capped per principal and in total. Finance
and auditors see every event; a department the events of its own projects and record; anyone else the public ones
(disclosures and the published blacklist).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import Field, TypeAdapter, ValidationError
from starlette.types import Message, Receive, Scope, Send

from api.auth import PrincipalDep
from api.body import LedgerRoute
from api.deps import ReadConn
from api.problems import QUERY_PROBLEMS, EdgeProblem, documented
from api.roles.watch import LogFanout, StreamRefused, Subscription
from api.schemas.events import EventPageOut
from ledger.domain.errors import Forbidden, InvalidInput
from ledger.domain.values import Principal, Role
from projections import feed

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/events", tags=["subscriptions"], route_class=LedgerRoute)

HEARTBEAT_SECONDS = 15.0
FIRST, LAST = -1, 2**62  # the positions a cursor may name: -1 (nothing yet) up to far beyond any log
After = Annotated[
    int | None, Query(ge=FIRST, le=LAST, description="The last position you have; -1 or omitted: from the first event")
]
Types = Annotated[
    str | None,
    Query(
        max_length=2000,
        description="Comma-separated event types (Project.BudgetApproved) or aggregates (Project.*); omitted: all",
        examples=["Project.*,Agency.Blacklisted"],
    ),
]
# Last-Event-ID is validated as `after` is: the same bounds, the same parsing, the same problem.
POSITION = TypeAdapter(Annotated[int, Field(ge=FIRST, le=LAST)])
# The last frame of a stream the service ends as it stops: a comment, so clients simply reconnect.
STOPPING = ": 服务正在停止，请稍后重连 (the service is stopping: reconnect)\n\n".encode()


def parse_types(topics: str | None) -> tuple[str, ...]:
    if not topics:
        return ()
    items = tuple(item.strip() for item in topics.split(",") if item.strip())
    for item in items:
        if not all(part.isidentifier() or part == "*" for part in item.split(".")) or item.count(".") != 1:
            raise InvalidInput(f"not an event type or Aggregate.*: {item!r}", field="topics")
    return items


def resume_position(last_event_id: str | None) -> int | None:
    """The position a ``Last-Event-ID`` names, validated as ``after`` is; None when it is absent or empty (an
    EventSource whose last event had no id sends none)."""
    if last_event_id is None or not last_event_id.strip():
        return None
    try:
        return POSITION.validate_python(last_event_id)
    except ValidationError as error:
        raise RequestValidationError(
            [{**issue, "loc": ("header", "last-event-id")} for issue in error.errors(include_url=False)]
        ) from None


def stream_key(principal: Principal, request: Request) -> tuple[str, str]:
    """Whom a stream counts against: its principal, or without a token the client's address."""
    if principal.role == Role.PUBLIC:
        return "address", request.client.host if request.client else ""
    return "principal", principal.id


@router.get("", response_model=EventPageOut, responses=QUERY_PROBLEMS)
def read_feed(
    conn: ReadConn,
    principal: PrincipalDep,
    after: After = None,
    topics: Types = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    with_state: Annotated[
        bool, Query(description="Also the topic and stored bytes (base64) the leaf hash commits to, to recompute it")
    ] = False,
) -> Response:
    """The log in position order after a cursor, each event with its type, payload, principal, times and hash (for
    the public and agencies: without the staff id of who acted, and without the stored bytes)."""
    visible = feed.visible_to(conn, principal, parse_types(topics))
    if with_state and visible.public_only:
        raise Forbidden(
            "the stored bytes name the staff who acted; the public follows events without them",
            code="role-not-allowed",
            field="with_state",
        )
    return Response(feed.read_json(conn, after, limit, visible, with_state=with_state), media_type="application/json")


class EventStream(Response):
    """A stream served by the process's fan-out: it ends when the client goes, or when the service stops."""

    media_type = "text/event-stream"

    def __init__(self, fanout: LogFanout, subscription: Subscription, heartbeat: float) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self.fanout = fanout
        self.subscription = subscription
        self.heartbeat = heartbeat

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_chunk(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            serving = asyncio.ensure_future(self.fanout.serve(self.subscription, send_chunk, self.heartbeat))
            gone = asyncio.ensure_future(disconnected())
            stopping = asyncio.ensure_future(self.fanout.closed.wait())
            done, pending = await asyncio.wait((serving, gone, stopping), return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if serving in done and serving.exception() is not None:
                logger.error("an event stream failed", exc_info=serving.exception())
            if gone not in done:  # end the response; a client that reads nothing any more is simply cut
                last: Message = {
                    "type": "http.response.body",
                    "more_body": False,
                    "body": STOPPING if self.fanout.closed.is_set() else b"",
                }
                with contextlib.suppress(TimeoutError, OSError):
                    async with asyncio.timeout(1.0):
                        await send(last)
        finally:
            self.fanout.release(self.subscription)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: `id` is the position, `event` the type, `data` the event as JSON",
        },
        **documented(401, 403, 422, 429),
    },
)
async def stream(
    request: Request,
    principal: PrincipalDep,
    after: After = None,
    topics: Types = None,
    last_event_id: Annotated[
        str | None,
        Header(
            max_length=64,
            description=(
                "Resume after this position (browsers send it when they reconnect); validated as `after`, "
                "which it overrides"
            ),
        ),
    ] = None,
    heartbeat: Annotated[
        float, Query(gt=0, le=300, description="Seconds between heartbeat comments while nothing happens")
    ] = HEARTBEAT_SECONDS,
) -> Response:
    """Live events as Server-Sent Events: catch up from a position, then follow as they are recorded."""
    types = parse_types(topics)
    resume = resume_position(last_event_id)
    start = resume if resume is not None else FIRST if after is None else after
    fanout: LogFanout = request.app.state.fanout
    try:
        subscription = fanout.open(principal, stream_key(principal, request), types, start)
    except StreamRefused as refused:
        raise EdgeProblem(
            "too-many-streams", refused.detail, headers={"Retry-After": str(refused.retry_after)}
        ) from None
    return EventStream(fanout, subscription, heartbeat)
