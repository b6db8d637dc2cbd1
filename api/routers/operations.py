"""Liveness, readiness, metrics, and the catalogue of problem types clients may branch on."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.body import LedgerRoute
from api.deps import READ_MODELS, LedgerDep, ReadConn
from api.metrics import CONTENT_TYPE, Metrics
from api.problems import TYPE_PREFIX, problem_codes
from api.schemas import Health, ProblemType, Readiness
from projections import queries

router = APIRouter(tags=["operations"], route_class=LedgerRoute)


@router.get("/healthz")
def healthz() -> Health:
    """Liveness: the process is up."""
    return Health(status="ok")


@router.get("/readyz")
def readyz(ledger: LedgerDep, conn: ReadConn) -> Readiness:
    """Readiness: the database answers; reports the log size and how far the read models have come."""
    return Readiness(status="ready", log_size=ledger.head(), projections_position=queries.positions(conn, READ_MODELS))


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, log size, read-model lag, latest checkpoint."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


@router.get("/problems")
def problem_types() -> list[ProblemType]:
    """Every problem ``type`` this service answers with, its HTTP status and titles (English, Chinese)."""
    return [ProblemType(type=f"{TYPE_PREFIX}{code}", code=code, status=status, title=title, title_zh=title_zh)
            for code, (status, title, title_zh) in sorted(problem_codes().items())]
