"""How request bodies are read: bounded in size, strict UTF-8 JSON, numbers as exact decimals.

Python's ``json`` turns ``0.1`` into a float and accepts ``NaN`` and ``Infinity``; a ledger of money must do
neither. Every route uses :class:`LedgerRoute`, whose requests parse numbers with a fraction or exponent as
``Decimal`` (so ``4800000.10`` stays exactly that), refuse the non-standard constants, duplicate keys, invalid
UTF-8 and absurd nesting, each as a 400 ``malformed-body`` problem naming what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.openapi import operation_id_for
from api.params import check_parameters
from api.problems import problem_response

MAX_BODY_BYTES = 1_048_576  # a goal tree of a few hundred indicators is well under 100 KB
MAX_DIGITS = 100  # no amount, score or count needs more; int() of 10,000 digits costs real CPU


def _malformed(message: str, document: str = "", position: int = 0) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, document, position)


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not a JSON number; amounts and scores must be finite")


def _decimal(text: str) -> Decimal:
    if len(text) > MAX_DIGITS:
        raise _malformed(f"a number of {len(text)} characters is too long")
    return Decimal(text)


def _integer(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise _malformed(f"a number of {len(text)} characters is too long")
    return int(text)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _malformed(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def parse_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _malformed(f"the body is not valid UTF-8 (byte {error.start})") from None
    try:
        return json.loads(
            text,
            parse_float=_decimal,
            parse_int=_integer,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except RecursionError:
        raise _malformed("the body is nested too deeply") from None


class LedgerRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class LedgerRoute(APIRoute):
    """Every route of the service: JSON bodies read as above, parameters checked (:mod:`api.params`), and a short
    operation id from the endpoint's name unless the route names its own (:func:`api.openapi.operation_id_for`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["operation_id"] = kwargs.get("operation_id") or operation_id_for(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            check_parameters(request)
            if request.method in ("POST", "PUT", "PATCH") and _has_body(request) and not _is_json(request):
                raise HTTPException(415, "send the body as JSON with Content-Type: application/json")
            return await handler(LedgerRequest(request.scope, request.receive))

        return handle


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class BodyLimit:
    """Refuse a body over ``limit`` bytes with 413 — by its Content-Length, or while it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:  # a chunked body: the route answers with the problem
                    raise HTTPException(413, f"the limit is {self.limit:,} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(Request(scope), "body-too-large", f"the limit is {self.limit:,} bytes")
        await response(scope, receive, send)
