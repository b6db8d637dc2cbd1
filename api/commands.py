"""Running a command over HTTP: who, when, why, on which version, under which idempotency key.

- ``Idempotency-Key``: the same key with the same request returns the original result (``replayed: true``) and
  records nothing; with a different request it is refused (422 ``idempotency-key-reused``). The key is recorded
  in the same transaction as the command's events, so this holds across retries, crashes and replicas. A refused
  command records nothing, not even its key: retrying it asks the ledger again.
- ``If-Match: "N"``: the command applies only if the object is still at version N (412 ``stale-version``).
  A write that loses a race with another is refused with 409 ``version-conflict``.
- Every result carries ``ETag: "<version>"`` and the log position to wait for (``min_position``) before reading.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from api.auth import Actor
from api.problems import EdgeProblem
from api.schemas import CommandBody, CommandResult, WrittenEventOut
from ledger.application import Act, CommandAlreadyRecorded, CommandKey, Ledger, Written
from ledger.errors import DomainError, InvalidInput
from ledger.values import Principal

_IF_MATCH = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


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

    def expected_version(self) -> int | None:
        if self.if_match is None or self.if_match.strip() == "*":
            return None
        found = _IF_MATCH.match(self.if_match)
        if found is None:
            raise EdgeProblem("precondition-malformed", f"If-Match: {self.if_match!r}")
        return int(found.group(1))

    def fingerprint(self, body: CommandBody | None) -> bytes:
        """The request as the ledger would act on it: method, path and the validated body, canonically."""
        canonical = json.dumps(None if body is None else body.model_dump(mode="json"), sort_keys=True,
                               ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(f"{self.request.method} {self.request.url.path}\n{canonical}".encode()).digest()

    def act(self, body: CommandBody | None) -> Act:
        key = None
        if self.idempotency_key is not None:
            key = CommandKey(self.idempotency_key, self.fingerprint(body))
        return Act(self.principal, (body.effective_on if body and body.effective_on else None) or self.ledger.today(),
                   body.reason if body else "", list(body.evidence) if body else [], self.expected_version(), key)


async def command_context(request: Request, response: Response, principal: Actor,
                    idempotency_key: Annotated[str | None, Header(
                        max_length=255, description="Makes a retry safe: the same key and request return the "
                        "original result and record nothing")] = None,
                    if_match: Annotated[str | None, Header(
                        description='Apply only at this version, e.g. "7" (the ETag of the object)')] = None,
                    ) -> CommandContext:
    return CommandContext(request, response, principal, idempotency_key, if_match)


CommandDep = Annotated[CommandContext, Depends(command_context)]


def result(written: Written) -> CommandResult:
    return CommandResult(
        id=written.aggregate_id, version=written.version, position=written.position, positions=written.positions,
        events=[WrittenEventOut(position=event.position, aggregate_id=event.aggregate_id, version=event.version,
                                type=event.type, references=event.references) for event in written.events],
        replayed=written.replayed)


def run(ctx: CommandContext, body: CommandBody | None, command: Callable[[Act], Written], *,
        location: Callable[[Written], str] | None = None) -> CommandResult:
    """Run ``command`` once per idempotency key and answer with what it recorded."""
    act = ctx.act(body)
    ledger = ctx.ledger
    written = _recorded(ledger, act)
    if written is None:
        try:
            written = command(act)
        except CommandAlreadyRecorded:  # a concurrent retry under the same key won
            written = _recorded(ledger, act)
            if written is None:
                raise
        except DomainError:
            # The first attempt may have been recorded while this one was deciding: answer as it did.
            written = _recorded(ledger, act)
            if written is None:
                raise
    if location is not None:
        ctx.response.headers["Location"] = location(written)
        ctx.response.status_code = 201  # a replay answers as the original did
    if written.replayed:
        ctx.response.headers["Idempotent-Replayed"] = "true"
    ctx.response.headers["ETag"] = f'"{written.version}"'
    return result(written)


def _recorded(ledger: Ledger, act: Act) -> Written | None:
    """What an earlier command under this key wrote; refused if that command was a different request."""
    if act.command is None:
        return None
    found = ledger.recorded_command(act.principal.id, act.command.key)
    if found is None:
        return None
    fingerprint, written = found
    if fingerprint != act.command.fingerprint:
        raise InvalidInput(f"Idempotency-Key {act.command.key!r} was used for a different request",
                           code="idempotency-key-reused", field="Idempotency-Key")
    return written
