"""Running a command over HTTP: who, when, why, on which version, under which idempotency key.

- ``Idempotency-Key``: the same key with the same request returns the original result (``replayed: true``) and
  records nothing; with a different request it is refused (422 ``idempotency-key-reused``). The ledger records the
  key in the same transaction as the command's events (every use case is recorded once per key:
  :func:`ledger.application.core.use_case`), so this holds across retries, crashes and replicas. A refused
  command records nothing, not even its key: retrying it asks the ledger again.
- ``If-Match: "N"``: the command applies only if the object is still at version N (412 ``stale-version``).
  A write that loses a race with another is refused with 409 ``version-conflict``.
- Every result carries ``ETag: "<version>"`` and the log position to wait for (``min_position``) before reading.

Commands run on one thread per process, :class:`CommandWriter`, while the event loop goes on parsing, validating
and answering requests; those that arrive together are recorded together (group commit). The ledger's appends are
serialised by the log's lock anyway: one writer thread saves the hand-off of every request to a pool of threads
that then contend for one interpreter lock (on two cores a sync route served about a third of the requests an
async one did), and a group saves a commit, a round trip and a turn of the lock per command.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import ACTORS, admit, authenticate
from api.problems import COMMAND_PROBLEMS, EdgeProblem
from api.schemas.common import CommandBody, CommandResult, WrittenEventOut
from ledger.application import Act, CommandKey, Ledger, Outcome, Written
from ledger.domain.values import Principal

_IF_MATCH = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')
logger = logging.getLogger(__name__)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class CommandWriter:
    """One thread that runs the process's commands in arrival order, in groups recorded together.

    Whatever has queued up while a group was being recorded forms the next group (up to ``group_size``), which
    :meth:`Ledger.run_together` decides command by command and appends in one transaction (group commit): under
    load, one commit and one turn of the log's lock serve many commands, and alone a command waits for nothing.
    The outcomes go back to the event loop in one hand-off per group.
    """

    def __init__(self, ledger: Ledger, *, group_size: int = 64, name: str = "jixiao-commands") -> None:
        self._ledger = ledger
        self._group_size = group_size
        self._name = name
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the commands already queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    async def submit(self, command: Callable[[], T]) -> T:
        """Run ``command`` on the writer thread; its result, or its exception raised here."""
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError("the command writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(loop, future, command))
        return await future

    def _work(self) -> None:
        try:
            self._serve()
        finally:  # stopped, or died: whoever is still queued hears so rather than waiting for ever
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    _answer([item], [Outcome(error=RuntimeError("the command writer stopped before running this"))])

    def _serve(self) -> None:
        running = True
        while running:
            jobs: list[_Job] = []
            item = self._queue.get()
            while item is not None:
                jobs.append(item)
                if len(jobs) >= self._group_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            running = item is not None
            if not jobs:
                continue
            try:
                outcomes = self._ledger.run_together([job.command for job in jobs])
            except Exception as error:  # run_together hands each command its own failure; this is a bug's
                logger.exception("a group of commands failed")
                outcomes = [Outcome(error=error) for _ in jobs]
            except BaseException:  # the thread is going down: the group's callers are told, then it goes
                stopped = Outcome[Any](error=RuntimeError("the command writer stopped while running this"))
                _answer(jobs, [stopped] * len(jobs))
                raise
            _answer(jobs, outcomes)


def _answer(jobs: list[_Job], outcomes: list[Outcome[Any]]) -> None:
    """Hand the outcomes back to the jobs' event loops, one hand-off per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome[Any]]]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        by_loop.setdefault(job.loop, []).append((job.future, outcome))
    for loop, results in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_hand_back, results)


@dataclass(frozen=True)
class _Job:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    command: Callable[[], Any]


def _hand_back(results: list[tuple[asyncio.Future[Any], Outcome[Any]]]) -> None:
    for future, outcome in results:
        if future.done():  # cancelled: the client went away; the command ran (a retry under its key is safe)
            continue
        error = outcome.error
        if isinstance(error, StopIteration):  # a future refuses it (it would end the coroutine awaiting it)
            error = RuntimeError(f"a command raised StopIteration: {error!r}")
        try:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(outcome.value)
        except Exception:  # one future's trouble must not keep the others waiting
            logger.exception("handing a command's outcome back failed")


@dataclass
class CommandContext:
    request: Request
    response: Response
    principal: Principal
    idempotency_key: str | None
    if_match: str | None

    @property
    def ledger(self) -> Ledger:
        ledger: Ledger = self.request.app.state.ledger
        return ledger

    @property
    def writer(self) -> CommandWriter:
        writer: CommandWriter = self.request.app.state.commands
        return writer

    def expected_version(self) -> int | None:
        if self.if_match is None or self.if_match.strip() == "*":
            return None
        found = _IF_MATCH.match(self.if_match)
        if found is None:
            raise EdgeProblem("precondition-malformed", f"If-Match: {self.if_match!r}")
        return int(found.group(1))

    def fingerprint(self, body: CommandBody | None) -> bytes:
        """The request as the ledger would act on it: method, path and the validated body, canonically."""
        canonical = json.dumps(
            None if body is None else body.model_dump(mode="json"),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(f"{self.request.method} {self.request.url.path}\n{canonical}".encode()).digest()

    def act(self, body: CommandBody | None) -> Act:
        key = None
        if self.idempotency_key is not None:
            key = CommandKey(self.idempotency_key, self.fingerprint(body))
        return Act(
            self.principal,
            (body.effective_on if body and body.effective_on else None) or self.ledger.today(),
            body.reason if body else "",
            [item if isinstance(item, str) else item.model_dump() for item in body.evidence] if body else [],
            self.expected_version(),
            key,
        )


async def command_context(request: Request, response: Response) -> CommandContext:
    """Who sends the command, under which idempotency key and at which version — read from the request's headers
    here rather than through FastAPI's header parameters and its bearer dependency: solving those for every
    command cost the event loop about a fifth of its time per command (cProfile of an in-process request loop).
    The routes declare the same headers and security in OpenAPI (:data:`COMMAND_OPENAPI`)."""
    headers = request.headers
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip()) if token.strip() else None
    principal = admit(await authenticate(request, credentials), ACTORS)
    return CommandContext(request, response, principal, headers.get("idempotency-key"), headers.get("if-match"))


# What command_context reads, as FastAPI would have documented it: the bearer token and the two optional headers.
COMMAND_OPENAPI: dict[str, Any] = {
    "security": [{"HTTPBearer": []}],
    "parameters": [
        {
            "in": "header",
            "name": "idempotency-key",
            "required": False,
            "description": "Makes a retry safe: the same key and request return the original result and record nothing",
            "schema": {"type": "string", "maxLength": 255, "title": "Idempotency-Key"},
        },
        {
            "in": "header",
            "name": "if-match",
            "required": False,
            "description": 'Apply only at this version, e.g. "7" (the ETag of the object)',
            "schema": {"type": "string", "title": "If-Match"},
        },
    ],
}


CommandDep = Annotated[CommandContext, Depends(command_context)]


def command(router: APIRouter, path: str, *, created: bool = False) -> Callable[[F], F]:
    """Declare a command route: ``POST path`` on ``router``, answering 201 when it ``created`` something (else 200),
    with the command's problems and headers (:data:`COMMAND_OPENAPI`) in its OpenAPI description."""
    return router.post(
        path, status_code=201 if created else 200, responses=COMMAND_PROBLEMS, openapi_extra=COMMAND_OPENAPI
    )


def result(written: Written) -> CommandResult:
    return CommandResult(
        id=written.aggregate_id,
        version=written.version,
        position=written.position,
        positions=written.positions,
        events=[
            WrittenEventOut(
                position=event.position,
                aggregate_id=event.aggregate_id,
                version=event.version,
                type=event.type,
                references=event.references,
            )
            for event in written.events
        ],
        replayed=written.replayed,
    )


async def run(
    ctx: CommandContext,
    body: CommandBody | None,
    command: Callable[[Act], Written],
    *,
    location: Callable[[Written], str] | None = None,
) -> CommandResult:
    """Run ``command`` (on the writer thread) and answer with what it recorded — or, under an idempotency key the
    ledger has recorded before, with what that recorded."""
    act = ctx.act(body)
    written = await ctx.writer.submit(lambda: command(act))
    if location is not None:
        ctx.response.headers["Location"] = location(written)
        ctx.response.status_code = 201  # a replay answers as the original did
    if written.replayed:
        ctx.response.headers["Idempotent-Replayed"] = "true"
    ctx.response.headers["ETag"] = f'"{written.version}"'
    return result(written)
