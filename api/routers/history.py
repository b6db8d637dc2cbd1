"""History and time travel for any object of the ledger (for auditors): every event, and state as of then.

These are the only reads that replay events (snapshots keep them fast); everything else reads projections.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.auth import Overseer
from api.body import LedgerRoute
from api.deps import LedgerDep
from api.problems import documented
from api.schemas.log import HistoryEntryOut, StateOut
from ledger.application import Ledger
from ledger.domain.errors import InvalidInput, NotFound

router = APIRouter(prefix="/objects", tags=["audit"], route_class=LedgerRoute)


_LEAVES = frozenset({str, int, bool, type(None)})  # JSON as they are: most of a state's values


def plain(value: Any) -> Any:
    """A JSON-ready copy: exact decimals as strings, dates ISO, dataclasses as objects (never floats). The common
    shapes first (a state of a thousand events is tens of thousands of values: ``is_dataclass`` on each was most of
    an as-of query's time)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {str(key): plain(item) for key, item in value.items()}
    if kind is list:
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return value


def history_of(ledger: Ledger, aggregate_id: UUID, *, missing: str = "object-not-found") -> list[HistoryEntryOut]:
    return [
        HistoryEntryOut.model_validate(dataclasses.replace(entry, payload=plain(entry.payload)))
        for entry in ledger.history(aggregate_id, missing=missing)
    ]


def state_of(
    ledger: Ledger, aggregate_id: UUID, as_of: datetime | None, version: int | None, response: Response
) -> StateOut:
    if as_of is not None and version is not None:
        raise InvalidInput("ask for as_of or version, not both", field="as_of")
    if as_of is not None:
        if as_of.tzinfo is None:
            raise InvalidInput(
                "as_of needs a time zone offset, e.g. 2021-03-01T00:00:00+08:00", code="invalid-date", field="as_of"
            )
        version = ledger.version_as_of(aggregate_id, as_of)
        if version == 0:
            ledger.object(aggregate_id)  # 404 if it never existed
            raise NotFound(
                f"{aggregate_id} did not exist yet at {as_of.isoformat()}: nothing was recorded for it by then",
                code="not-yet-existing",
                field="as_of",
            )
    aggregate = ledger.object(aggregate_id, version)
    state = {
        key.lstrip("_") if key in ("_created_on", "_modified_on") else key: value
        for key, value in vars(aggregate).items()
        if not key.startswith("_") or key in ("_created_on", "_modified_on")
    }
    response.headers["ETag"] = f'"{aggregate.version}"'
    return StateOut(
        id=aggregate.id, type=type(aggregate).__name__, version=aggregate.version, as_of=as_of, state=plain(state)
    )


@router.get("/{object_id}/history", responses=documented(401, 403, 404, 422))
def object_history(object_id: UUID, principal: Overseer, ledger: LedgerDep) -> list[HistoryEntryOut]:
    """Every event of any object (department, agency, ruleset, sample, …) with its leaf index and hashes."""
    return history_of(ledger, object_id)


@router.get("/{object_id}/state", responses=documented(401, 403, 404, 422))
def object_state(
    object_id: UUID,
    principal: Overseer,
    ledger: LedgerDep,
    response: Response,
    as_of: Annotated[datetime | None, Query(description="An instant with offset (transaction time)")] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> StateOut:
    """Any object as it was at a version, or as recorded at an instant."""
    return state_of(ledger, object_id, as_of, version, response)
