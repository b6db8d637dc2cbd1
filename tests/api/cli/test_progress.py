"""Progress of the long commands: a bar with rate and time left on a terminal, plain periodic lines in a log.

The class is checked with a fake clock; ``verify``, ``projections rebuild`` and ``export`` are run as processes,
their standard error once a pipe (as a log takes it) and once a terminal (a pseudo-terminal, as a person's)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import pytest

from api.cli.progress import Progress, duration
from tests.api.cli.conftest import Signed, jixiao


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def plain(interval: float = 10.0, total: int | None = 1000) -> tuple[Progress, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("校验 checking", "leaves", total=total, interval=interval, stream=stream, clock=clock)
    return progress, stream, clock


def test_in_a_log_a_line_at_most_every_interval_with_rate_and_time_left() -> None:
    progress, stream, clock = plain()
    clock.now += 4
    progress.update(100)
    assert stream.getvalue() == ""  # not yet: less than the interval since the start
    clock.now += 6
    progress.update(250)
    clock.now += 1
    progress.update(300)  # within the interval of the last line: nothing
    assert stream.getvalue().splitlines() == [
        "校验 checking: 250/1,000 leaves (25%), 25 leaves/s, 剩余约 about 30 s left"
    ]
    clock.now += 29
    progress.update(1000)
    progress.close()
    assert stream.getvalue().splitlines()[1:] == [
        "校验 checking: 1,000/1,000 leaves (100%), 25 leaves/s, 剩余约 about <1 s left",
        "校验 checking: 完成 done, 1,000 leaves in 40 s (25 leaves/s)",
    ]


def test_short_work_writes_nothing_and_an_unknown_total_only_the_count_and_rate() -> None:
    progress, stream, clock = plain()
    clock.now += 3
    progress.update(1000)
    progress.close()
    assert stream.getvalue() == ""
    progress, stream, clock = plain(interval=0, total=None)
    clock.now += 2
    progress.update(50)
    assert stream.getvalue() == "校验 checking: 50 leaves, 25 leaves/s\n"


def test_the_total_may_become_known_or_grow_on_the_way() -> None:
    progress, stream, clock = plain(interval=0, total=None)
    clock.now += 1
    progress.update(10, 40)
    assert "10/40 leaves (25%)" in stream.getvalue()


def test_work_stopped_by_an_error_is_not_reported_done() -> None:
    stream, clock = io.StringIO(), Clock()

    def stopped() -> None:
        with Progress("x", "steps", total=10, interval=0, stream=stream, clock=clock) as progress:
            clock.now += 1
            progress.update(3)
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        stopped()
    assert "3/10" in stream.getvalue()
    assert "完成 done" not in stream.getvalue()


def test_on_a_terminal_a_bar_with_rate_and_time_left() -> None:
    stream = io.StringIO()
    with Progress("校验 checking", "leaves", total=1000, stream=stream, terminal=True) as progress:
        for done in range(0, 1001, 250):
            progress.update(done)
    shown = stream.getvalue().replace("\r", "\n").splitlines()
    last = [line for line in shown if "1000/1000" in line][-1]
    assert last.startswith("校验 checking: 100%")
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+ leaves/s\]", last), last  # elapsed<left, rate


@pytest.mark.parametrize(("seconds", "shown"), [(0.4, "<1 s"), (42, "42 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")])
def test_durations_read_as_a_person_says_them(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


# -------------------------------------------------------------------------------------------- the real commands


def on_a_terminal(env: dict[str, str], *args: str, columns: int = 0) -> tuple[int, str, str]:
    """Run with standard error on a pseudo-terminal ``columns`` wide (0: one that does not say), standard output to
    a file: the exit status, stdout, and what the terminal was sent."""
    main, side = pty.openpty()
    if columns:
        fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env, stdout=out, stderr=side)
        os.close(side)
        screen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other side closed: the process has ended
                break
            if not chunk:
                break
            screen += chunk
        os.close(main)
        status = process.wait(timeout=180)
        out.seek(0)
        return status, out.read().decode(), screen.decode("utf-8", "replace")


def test_verify_in_a_log_shows_plain_lines_and_its_report_unchanged(signed: Signed) -> None:
    run = jixiao({**signed.env, "JIXIAO_PROGRESS_INTERVAL": "0"}, "verify", "--workers", "0", "--deep")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Verifying ")
    assert "OK: 35 events" in run.stdout
    assert "OK: 35 aggregates replayed from 35 events" in run.stdout
    lines = run.stderr.splitlines()
    verifying = [line for line in lines if line.startswith("校验日志 verifying the log: ")]
    replaying = [line for line in lines if line.startswith("重放 replaying: ")]
    assert lines == verifying + replaying  # nothing else, in that order
    assert "35/35 leaves (100%)" in verifying[-2]
    assert re.fullmatch(r"校验日志 verifying the log: 完成 done, 35 leaves in \S+ s \([\d,]+ leaves/s\)", verifying[-1])
    assert "35/35 events (100%)" in replaying[-2]
    assert replaying[-1].startswith("重放 replaying: 完成 done, 35 events in ")
    assert "\r" not in run.stderr  # no bar drawn into a log


def test_verify_on_a_terminal_shows_a_bar_with_rate_and_time_left(signed: Signed) -> None:
    status, out, screen = on_a_terminal(signed.env, "verify", "--workers", "0")
    assert status == 0, screen
    assert "OK: 35 events" in out
    assert re.search(r"校验日志 verifying the log: 100%\|.*\| 35/35 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+ leaves/s\]", screen)


def test_projections_rebuild_shows_its_progress(signed: Signed) -> None:
    run = jixiao({**signed.env, "JIXIAO_PROGRESS_INTERVAL": "0"}, "projections", "rebuild", "project_status")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("rebuilt project_status in ")
    assert "重建 rebuilding project_status: 35/35 events (100%)" in run.stderr
    assert "重建 rebuilding project_status: 完成 done, 35 events" in run.stderr
    status, _, screen = on_a_terminal(signed.env, "projections", "rebuild", "accountability_trail", columns=160)
    assert status == 0, screen
    assert re.search(r"重建 rebuilding accountability_trail: 100%\|.*\| 35/35 \[.*events/s\]", screen), screen


def test_export_shows_its_progress(signed: Signed, tmp_path: Path) -> None:
    bundle = tmp_path / "ny.json"
    env = {**signed.env, "JIXIAO_PROGRESS_INTERVAL": "0"}
    run = jixiao(env, "export", "--project", "2021/NY-01", "--out", str(bundle))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"wrote {bundle}: 1 events")
    assert "导出 exporting: 1/1 proofs (100%)" in run.stderr
    assert json.loads(bundle.read_text())["object_id"]
    quiet = jixiao(signed.env, "export", "--project", "2021/NY-01", "--out", str(bundle))  # 10 s between lines
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # short work writes nothing to a log
