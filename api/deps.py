"""The dependencies routes share: the ledger, the transparency log, a read-model connection, the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Query, Request
from psycopg_pool import ConnectionPool

from api.auth import PrincipalDep
from api.config.settings import Settings
from api.problems import EdgeProblem
from api.replica import Pool, primary_log_size, primary_of
from ledger.application.ledger import Ledger
from ledger.domain.errors import InvalidInput
from ledger.store.tlog import TransparencyLog
from projections.base import Conn
from projections.positions import log_size, positions, wait_for
from projections.registry import read_models

READ_MODELS = tuple(model.name for model in read_models())
MIN_POSITION_WAIT = 2.0  # seconds a query waits for the read models to reach min_position


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_log(request: Request) -> TransparencyLog:
    log: TransparencyLog = request.app.state.log
    return log


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=2**62,
        description="Read your writes: wait (up to 2 s) until the read models include this log "
        "position (a command's `position`); 503 projection-lagging if they do not",
    ),
]


def read_connection(
    request: Request,
    _caller: PrincipalDep,
    min_position: MinPosition = None,
) -> Iterator[Conn]:
    """A connection for a query, taken only once the caller is known (FastAPI resolves the principal once a request
    and gives the route the same one): on one server the token store shares this pool, and a token looked up while
    holding a connection would wait for a second one."""
    pool: ConnectionPool[psycopg.Connection[Any]] = request.app.state.read_pool
    with pool.connection() as conn:
        if min_position is not None:
            wait_for_position(conn, min_position, primary_of(request.app.state))
        yield conn


def wait_for_position(conn: Conn, min_position: int, primary: Pool | None = None) -> None:
    """Read your writes: return once the read models include ``min_position`` (waiting up to 2 s), else refuse.

    ``primary``: the primary's pool when ``conn`` reads a replica. A position the primary's log has and the replica
    has not replayed yet is waited for like one the read models have not applied; only one beyond the primary's log
    is refused."""
    if positions(conn, READ_MODELS) > min_position:
        return
    if min_position >= (log_size(conn) if primary is None else primary_log_size(primary)):
        raise InvalidInput(
            f"the log has no position {min_position} yet; pass a position a command returned", field="min_position"
        )
    if not wait_for(conn, READ_MODELS, min_position, MIN_POSITION_WAIT):
        raise EdgeProblem(
            "projection-lagging",
            f"the read models have not reached position {min_position}",
            headers={"Retry-After": "1"},
        )


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
LogDep = Annotated[TransparencyLog, Depends(get_log)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadConn = Annotated[Conn, Depends(read_connection)]
