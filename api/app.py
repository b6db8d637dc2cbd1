"""The composition root: ``create_app(settings)`` wires the ledger into a FastAPI app.

Nothing is connected at import time; the ledger is opened when the app starts
and closed when it stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel

from api.database import database_url
from api.integrity import open_log
from api.settings import Settings
from ledger.application import Ledger
from ledger.tlog import TransparencyLog
from projections.catalog import read_models
from projections.runner import Runner

logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    log_size: int


def get_ledger(request: Request) -> Ledger:
    ledger = request.app.state.ledger
    assert isinstance(ledger, Ledger)
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


class Checkpointer:
    """Signs a checkpoint every ``interval`` seconds when the log has grown (and once at start)."""

    def __init__(self, log: TransparencyLog, interval: float) -> None:
        self.log = log
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jixiao-checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            try:
                self.log.sign_checkpoint()
            except Exception:  # a failed signing must not stop the next one
                logger.exception("signing a checkpoint failed")
            if self._stop.wait(self.interval):
                return


def create_app(settings: Settings, *, ledger: Ledger | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ledger is None
        url = database_url(settings)
        app.state.ledger = ledger or Ledger(url, holidays=settings.holidays, create_schema=settings.create_schema)
        app.state.ledger.bootstrap()
        app.state.log = open_log(settings, url)
        checkpointer = Checkpointer(app.state.log, settings.checkpoint_interval)
        if settings.checkpoint_interval > 0:
            checkpointer.start()
        app.state.projections = Runner(url, read_models(), page=settings.projection_page)
        app.state.projections.setup()
        stop_projections = threading.Event()
        follower = threading.Thread(target=app.state.projections.run, args=(stop_projections,),
                                    name="jixiao-projections", daemon=True)
        if settings.run_projections:
            follower.start()
        try:
            yield
        finally:
            stop_projections.set()
            if settings.run_projections:
                follower.join(timeout=10)
            if settings.checkpoint_interval > 0:
                checkpointer.stop()
            app.state.log.close()
            if own:
                app.state.ledger.close()

    app = FastAPI(
        title="Jixiao Ledger 绩效账本",
        summary="Event-sourced, tamper-evident audit ledger for budget performance management.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Health:
        """Liveness: the process is up."""
        return Health(status="ok")

    @app.get("/readyz", tags=["operations"])
    def readyz(ledger: LedgerDep) -> Readiness:
        """Readiness: the database answers; reports the log size (events recorded)."""
        return Readiness(status="ready", log_size=ledger.head())

    return app
