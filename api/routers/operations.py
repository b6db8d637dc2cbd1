"""Liveness, readiness, metrics, and the catalogue of problem types clients may branch on."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg
from fastapi import APIRouter, Request, Response
from psycopg_pool import ConnectionPool

from api.body import LedgerRoute
from api.config.settings import Settings
from api.deps import READ_MODELS, MinPosition, wait_for_position
from api.labels import VOCABULARIES
from api.metrics import CONTENT_TYPE, Metrics
from api.problems import RETRY_AFTER, TYPE_PREFIX, UNAVAILABLE, EdgeProblem, documented, problem_codes
from api.replica import ReplicaStatus, primary_of, replica_status
from api.roles.health import Roles
from api.schemas.operations import Health, ProblemType, Readiness, ReplicaReadiness
from projections.positions import lag_seconds, log_size, positions

router = APIRouter(tags=["operations"], route_class=LedgerRoute)

READY_WAIT = 2.0  # seconds /readyz waits for a connection: a probe answers quickly, whatever the database does


@router.get("/healthz", responses=documented(503))
def healthz(request: Request) -> Health:
    """Liveness: the process is up, and no role it runs has stopped for good (503 role-stopped: restart it)."""
    roles: Roles | None = getattr(request.app.state, "roles", None)
    stopped = [name for name, health in (roles.report() if roles else {}).items() if not health.alive]
    if stopped:
        raise EdgeProblem("role-stopped", f"stopped: {', '.join(stopped)}")
    return Health(status="ok")


@router.get("/readyz", responses=documented(422, 503))
def readyz(
    request: Request,
    min_position: MinPosition = None,
) -> Readiness:
    """Readiness: the database answers (and the read replica, if queries read one), every role this process runs is
    up, and the read models it runs (and the replica) are within JIXIAO_READY_MAX_LAG seconds of the log (503
    not-ready otherwise, saying why)."""
    state = request.app.state
    settings: Settings = state.settings
    pool: ConnectionPool[psycopg.Connection[Any]] = state.primary_pool
    primary = primary_of(state)
    replica: ReplicaStatus | None = None
    try:
        if min_position is not None:  # as a query would: on the replica, if there is one
            with state.read_pool.connection(timeout=READY_WAIT) as conn:
                wait_for_position(conn, min_position, primary)
        with pool.connection(timeout=READY_WAIT) as conn:
            size = log_size(conn)
            position = positions(conn, READ_MODELS)
            lag = lag_seconds(conn, READ_MODELS)
        if primary is not None:
            replica = replica_status(state.read_pool, primary, READY_WAIT)
    except UNAVAILABLE as error:
        raise EdgeProblem(
            "not-ready",
            f"the database does not answer ({type(error).__name__}: {error})".strip(),
            headers={"Retry-After": RETRY_AFTER},
        ) from None
    roles: Roles = state.roles
    report = roles.report()
    reasons = [f"{name}: {health.detail or 'down'}" for name, health in report.items() if not health.up]
    if settings.run_projections and lag > settings.ready_max_lag:
        reasons.append(f"read-models: {lag:.1f} s behind the log (at most {settings.ready_max_lag:g} s)")
    if replica is not None and replica.lag_seconds > settings.ready_max_lag:
        reasons.append(
            f"replica: {replica.lag_seconds:.1f} s ({replica.behind} events) behind the primary "
            f"(at most {settings.ready_max_lag:g} s)"
        )
    if reasons:
        raise EdgeProblem("not-ready", "; ".join(reasons), headers={"Retry-After": RETRY_AFTER})
    return Readiness(
        status="ready",
        log_size=size,
        projections_position=position,
        lag_seconds=round(lag, 3),
        roles=dict.fromkeys(report, "up"),
        replica=None if replica is None else ReplicaReadiness(**asdict(replica)),
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Prometheus text format"}
    },
)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, log size, read-model lag, latest checkpoint."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


@router.get("/problems")
def problem_types() -> list[ProblemType]:
    """Every problem ``type`` this service answers with, its HTTP status and titles (English, Chinese)."""
    return [
        ProblemType(type=f"{TYPE_PREFIX}{code}", code=code, status=status, title=title, title_zh=title_zh)
        for code, (status, title, title_zh) in sorted(problem_codes().items())
    ]


@router.get("/labels")
def list_labels() -> dict[str, dict[str, str]]:
    """Every vocabulary of codes the answers use, each code with its Chinese label: what an answer's ``<field>_zh``
    says beside ``<field>`` (``stage`` → ``stage_zh``), for labelling codes elsewhere (an event's payload, say)."""
    return VOCABULARIES
