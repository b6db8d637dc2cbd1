"""The HTTP benchmark measures commands, not refusals: run at its smallest, every command it posts must be accepted.

A rule change once made every supervision note the benchmark posted answer otherwise than it expected, and the
benchmark went on printing rates of refusals; it now exits 1 when any command is not answered 201, naming what
answered instead. This runs it at its smallest (a second per level, a few as-of queries) against a fresh database on
the suite's server (``DATABASE_URL``, else an embedded one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALLEST = ("--seconds", "1", "--clients", "1,2", "--rounds", "1", "--asof", "3")


def test_the_http_benchmark_posts_commands_the_service_accepts() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_http", *SMALLEST],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "ours: POST supervision note, 2 client(s)" in run.stdout
