"""The composition root: ``create_app(settings)`` wires the ledger, the log and the read models into FastAPI.

Nothing is connected at import time; everything is opened when the app starts and closed when it stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from psycopg import sql
from psycopg_pool import ConnectionPool

from api.auth import TokenGuard, TokenStore, keys_for
from api.body import MAX_BODY_BYTES, BodyLimit, LedgerRoute
from api.commands import CommandWriter
from api.config.database import database_url, open_ledger
from api.config.keys import open_log
from api.config.settings import Settings
from api.console import router as console_router
from api.downloads import download_routes
from api.logs import RequestLog
from api.metrics import Metrics, MetricsMiddleware
from api.openapi import document_problems
from api.problems import PROBLEM_JSON, CutAtShutdown, FieldError, Problem, install
from api.replica import open_query_pool
from api.roles.destinations import Destinations
from api.roles.health import RoleHealth, Roles
from api.roles.scheduler import Scheduler
from api.roles.watch import LogFanout
from api.roles.webhooks import Dispatcher, WebhookStore
from api.routers import (
    admin,
    assurance,
    calendar,
    catalogue,
    congress,
    decisions,
    disclosures,
    docs,
    events,
    ex_ante,
    history,
    key_evaluations,
    linkage,
    log,
    operations,
    organisations,
    overall,
    projects,
    reads,
    subscriptions,
)
from ledger.application.ledger import Ledger
from ledger.store.recorder import check_on_checkout
from ledger.store.tables import CHECKPOINTS, COSIGNATURES
from projections.positions import POSITIONS, log_size
from projections.registry import read_models
from projections.runner import FollowerState, Runner

logger = logging.getLogger(__name__)

READ_WAIT = 5.0  # seconds a query waits for a connection (all busy, or the database restarting): then 503

DESCRIPTION = """
An **event-sourced, tamper-evident audit ledger** for comprehensive budget performance management
(全面实施预算绩效管理). Every decision is an immutable event, hash-chained and Merkle-logged under signed checkpoints.

- **Commands** (POST) record events and return the aggregate's new `version` and the log `position` they wrote.
  Send `Idempotency-Key` to make retries safe and `If-Match: "<version>"` to act only on the version you saw.
- **Queries** read projections; pass `min_position` to read your own writes.
- **Auditors** replay history (`/projects/{id}/history`), time-travel (`/projects/{id}/state?as_of=`), and check
  proofs offline against the published verifier key (`/log/...`, `/projects/{id}/bundle`).
- **Errors** are RFC 9457 `application/problem+json` with a stable `type` (`GET /problems` lists them).

Authenticate with `Authorization: Bearer <token>` (`jixiao token create`); without a token you are `public` and
see what was disclosed and the public blacklist.
"""


# What the metrics' gauges read besides the log's size: the read models' positions, the checkpoints, the witnesses.
GAUGE_POSITIONS = sql.SQL("SELECT name, position FROM {}").format(sql.Identifier(POSITIONS))
GAUGE_CHECKPOINT = sql.SQL("SELECT coalesce(max(tree_size), 0) FROM {}").format(sql.Identifier(CHECKPOINTS))
GAUGE_WITNESSED = sql.SQL("SELECT witness, max(tree_size) FROM {} GROUP BY witness").format(
    sql.Identifier(COSIGNATURES)
)


def _gauges(pool: ConnectionPool[psycopg.Connection[Any]]) -> dict[str, Any]:
    with pool.connection() as conn:
        size = log_size(conn)
        positions = dict(conn.execute(GAUGE_POSITIONS).fetchall())
        checkpoint = conn.execute(GAUGE_CHECKPOINT).fetchone()
        witnessed = dict(conn.execute(GAUGE_WITNESSED).fetchall())
    return {
        "log_size": size,
        "positions": positions,
        "checkpoint_size": checkpoint[0] if checkpoint else 0,
        "witnessed": witnessed,
    }


def _follower_health(state: FollowerState, thread: threading.Thread) -> RoleHealth:
    if not thread.is_alive():
        return RoleHealth(alive=False, up=False, detail="stopped")
    return RoleHealth(up=state.up, detail=state.error or ("" if state.up else "starting"))


def dispatcher_for(settings: Settings, url: str) -> Dispatcher:
    return Dispatcher(
        url,
        max_attempts=settings.webhook_max_attempts,
        backoff=settings.webhook_backoff,
        timeout=settings.webhook_timeout,
        guard=TokenGuard(),
        destinations=Destinations(settings.webhook_allow),
    )


def create_app(settings: Settings, *, ledger: Ledger | None = None) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ledger is None
        url = database_url(settings)
        app.state.settings = settings
        app.state.ledger = ledger or open_ledger(settings, url)
        app.state.ledger.bootstrap()
        app.state.commands = CommandWriter(app.state.ledger)
        app.state.commands.start()
        app.state.log = open_log(settings, url)
        app.state.primary_pool = ConnectionPool(
            url,
            min_size=1,
            max_size=settings.read_pool_size,
            timeout=READ_WAIT,
            kwargs={"autocommit": True},
            name="jixiao-read",
            open=True,
        )
        check_on_checkout(app.state.primary_pool)  # sessions ended by a restart are replaced, never used
        # Queries read the replica if there is one (api.replica says what stays on the primary, and why).
        app.state.read_pool = open_query_pool(settings, app.state.primary_pool, timeout=READ_WAIT, metrics=metrics)
        app.state.roles = roles = Roles()
        # Tokens on the primary: a revocation holds from the next request (a replica replays it later, and a standby
        # cannot LISTEN for it).
        app.state.tokens = TokenStore(app.state.primary_pool, keys_for(settings), rejections=metrics.rejections)
        if settings.create_schema:
            app.state.tokens.create_table()
        app.state.tokens.start()
        app.state.projections = Runner(
            url, read_models(), page=settings.projection_page, interval=settings.projection_interval
        )
        if settings.create_schema:
            app.state.projections.setup()
        metrics.gauges(lambda: _gauges(app.state.primary_pool))
        metrics.rejections.source(
            lambda: {
                ("snapshot", reason): count
                for reason, count in app.state.ledger.snapshot_authenticator.rejected.items()
            }
        )
        metrics.witnesses(lambda: {"witness": dict(app.state.log.witness_failures)})
        app.state.fanout = LogFanout(
            url,
            app.state.primary_pool,  # it LISTENs, and reads its catch-up pages up to where it heard: the primary
            max_streams=settings.sse_max_streams,
            max_per_principal=settings.sse_max_streams_per_principal,
        )
        app.state.fanout.start()
        fanout = app.state.fanout
        roles.add(
            "sse",
            lambda: RoleHealth(
                alive=fanout.alive,
                up=fanout.connected and fanout.behind < settings.ready_max_lag,
                detail="" if fanout.connected else "reconnecting to the database",
            ),
        )
        app.state.webhooks = WebhookStore(url, Destinations(settings.webhook_allow))
        if settings.create_schema:
            app.state.webhooks.create_tables()
        app.state.dispatcher = dispatcher = dispatcher_for(settings, url)
        if settings.run_dispatcher:
            dispatcher.start()
            roles.add(
                "dispatcher",
                lambda: RoleHealth(
                    alive=dispatcher.alive,
                    up=dispatcher.healthy,
                    detail="" if dispatcher.healthy else "reconnecting to the database",
                ),
            )
        app.state.scheduler = Scheduler.for_service(settings, app.state.ledger, app.state.log, url)
        if settings.run_scheduler:
            app.state.scheduler.start()
            roles.add("scheduler", app.state.scheduler.state.probe)
        stop_projections = threading.Event()
        follower = threading.Thread(
            target=app.state.projections.run, args=(stop_projections,), name="jixiao-projections", daemon=True
        )
        if settings.run_projections:
            follower.start()
            roles.add("read-models", partial(_follower_health, app.state.projections.state, follower))
        try:
            yield
        finally:
            app.state.commands.stop()
            if settings.run_dispatcher:
                dispatcher.stop()
            await app.state.fanout.stop()
            stop_projections.set()
            if settings.run_projections:
                follower.join(timeout=10)
            if settings.run_scheduler:
                app.state.scheduler.stop()
            app.state.tokens.stop()
            if app.state.read_pool is not app.state.primary_pool:
                app.state.read_pool.close()
            app.state.primary_pool.close()
            app.state.log.close()
            if own:
                app.state.ledger.close()

    app = FastAPI(
        telemetry=None if settings.otel else {"tracing": False, "metrics": False, "logs": False},
        title="Jixiao Ledger 绩效账本",
        summary="Event-sourced, tamper-evident audit ledger for budget performance management.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.routers.docs from the service's own files: FastAPI's load from a CDN
        redoc_url=None,
    )
    app.router.route_class = LedgerRoute
    app.state.metrics = metrics
    install(app)
    for router in (
        projects.router,
        key_evaluations.router,
        ex_ante.router,
        organisations.departments,
        organisations.units,
        organisations.agencies,
        organisations.blacklist_router,
        decisions.router,
        assurance.router,
        congress.router,
        disclosures.router,
        overall.router,
        catalogue.indicators,
        catalogue.rulesets,
        catalogue.samples,
        calendar.router,
        reads.router,
        linkage.router,
        history.router,
        log.router,
        log.bundles,
        events.router,
        subscriptions.router,
        admin.router,
        operations.router,
        docs.router,
        console_router,  # the console's pages (/console), on the routes above (api.console)
    ):
        _mount(app, router)
    # Each read model's list routes as CSV and Excel downloads: GET /projects.csv, /projects.xlsx, … (api.downloads)
    app.router.routes.extend(download_routes(app.router.routes))
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(CutAtShutdown)  # whatever a cut request was doing, it is answered
    app.add_middleware(RequestLog)  # outermost of ours: every answer has its request id and its line in the log
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _mount(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router``'s routes from the app's own route list.

    Each router is complete on its own (prefix, tags, route class, responses and dependencies are on its routes),
    so its routes join the app's list as they are. ``include_router`` would instead wrap the router in a dispatcher
    that matches a request against the router's routes twice, with bookkeeping around every candidate: about a
    fifth of the event loop's time per command (cProfile of an in-process request loop, and bench_http).

    One consequence: ``app.dependency_overrides`` does not reach these routes (a route keeps the overrides provider
    of the router it was declared on, which has none). Tests configure the service through its settings and a real
    database instead; to override a dependency, include the router with ``app.include_router`` in that test.
    """
    app.router.routes.extend(router.routes)


def app_from_environment() -> FastAPI:
    """The app as configured by the environment (for uvicorn's ``--factory`` and worker processes)."""
    from api.config.database import database_url as resolve
    from api.config.settings import load_settings

    settings = load_settings()
    if not settings.database_url:  # start the embedded server once, in the parent's data folder, before forking
        settings = settings.model_copy(update={"database_url": resolve(settings)})
    return create_app(settings)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response as problem+json (which is what the service sends)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=None,
    )
    document_problems(schema, app.routes)
    problem = {"$ref": "#/components/schemas/Problem"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": problem}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    components["Problem"].pop("$defs", None)
    components.setdefault("FieldError", FieldError.model_json_schema())
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema
