"""The health of the long-running roles a process runs — read models, scheduler, webhook dispatcher, SSE watcher,
relay — for ``/healthz`` (liveness) and ``/readyz`` (readiness).

Each role is asked through a probe, a function answering a :class:`RoleHealth`:

- ``alive``: its thread or task still runs. False means it stopped for good and only a restart of the process
  brings it back: liveness fails, so that a supervisor restarts the process.
- ``up``: it is doing its work now — connected, following. False while it waits to reconnect (the database
  restarting, say), with the reason in ``detail``: readiness fails until it is back.

A role keeps a :class:`RoleState` and reports into it (``connected()`` / ``lost(error)``), or the composition root
(``api/app.py``) adapts whatever state the role already keeps. A probe that raises counts as a role that is down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleHealth:
    alive: bool = True
    up: bool = True
    detail: str = ""


Probe = Callable[[], RoleHealth]


class RoleState:
    """Where a role reports its health: ``connected()`` when it works, ``lost(error)`` when it has to reconnect.
    ``probe`` answers for it; ``thread``, if given, tells whether it is alive."""

    def __init__(self, name: str, *, up: bool = False) -> None:
        self.name = name
        self.up = up
        self.detail = "" if up else "starting"
        self.failures = 0  # in a row, since it was last up
        self.thread: threading.Thread | None = None

    def connected(self) -> None:
        if not self.up:
            logger.info("%s is up", self.name)
        self.up, self.detail, self.failures = True, "", 0

    def lost(self, error: BaseException, *, first: float = 0.5, most: float = 5.0) -> float:
        """Record ``error``; return how long to wait before trying again (``first`` seconds, doubling to ``most``)."""
        self.up = False
        self.detail = f"{type(error).__name__}: {error}".strip()
        self.failures += 1
        return float(min(first * 2 ** (self.failures - 1), most))

    def probe(self) -> RoleHealth:
        alive = self.thread is None or self.thread.is_alive()
        return RoleHealth(alive=alive, up=alive and self.up, detail=self.detail if alive else "stopped")


class Roles:
    """The roles this process runs, each with its probe."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}

    def add(self, name: str, probe: Probe) -> None:
        self._probes[name] = probe

    def report(self) -> dict[str, RoleHealth]:
        report = {}
        for name, probe in self._probes.items():
            try:
                report[name] = probe()
            except Exception as error:
                report[name] = RoleHealth(alive=True, up=False, detail=f"{type(error).__name__}: {error}")
        return report
