"""A request the shutdown cuts short (uvicorn cancels it once ``JIXIAO_SHUTDOWN_TIMEOUT`` has passed) is answered 503
``service-stopping`` rather than uvicorn's 500, and its cancellation ends with it. The whole path, signal to exit, is
tested on ``jixiao serve`` in tests/reliability/test_sse_shutdown.py."""

from __future__ import annotations

import asyncio
import json

from starlette.types import Message, Receive, Scope, Send

from api.problems import PROBLEM_JSON, CutAtShutdown

SCOPE: Scope = {
    "type": "http",
    "method": "POST",
    "path": "/projects",
    "raw_path": b"/projects",
    "root_path": "",
    "query_string": b"",
    "headers": [],
}


async def cut(start_first: bool) -> tuple[list[Message], asyncio.Task[None]]:
    """Run an app that waits for a body that never comes (having begun its answer, or not), and cancel it there."""
    waiting = asyncio.Event()
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if start_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        waiting.set()
        await asyncio.Event().wait()

    async def receive() -> Message:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    task = asyncio.create_task(CutAtShutdown(app)(SCOPE, receive, send))
    await waiting.wait()
    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")  # as uvicorn does
    await asyncio.wait({task})
    return sent, task


def test_a_cut_request_is_answered_503_service_stopping() -> None:
    sent, task = asyncio.run(cut(start_first=False))
    assert not task.cancelled()
    assert task.exception() is None
    start, body = sent
    assert start["status"] == 503
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers["content-type"] == PROBLEM_JSON
    assert headers["retry-after"] == "1"
    problem = json.loads(body["body"])
    assert problem["code"] == "service-stopping"
    assert problem["status"] == 503
    assert problem["title_zh"]
    assert problem["instance"] == "/projects"


def test_a_cut_response_already_begun_gets_nothing_more() -> None:
    sent, task = asyncio.run(cut(start_first=True))
    assert not task.cancelled()
    assert [message["type"] for message in sent] == ["http.response.start"]


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {"type": "lifespan.startup"}

    async def ignore(message: Message) -> None:
        return None

    asyncio.run(CutAtShutdown(app)({"type": "lifespan"}, nothing, ignore))
    assert seen == ["lifespan"]
