"""Progress of the long commands (``demo``, ``verify``, ``projections rebuild``, ``export``), on standard error so
their output stays what it was.

On a terminal: a bar with the count, the rate and the time left (tqdm). Elsewhere — a log, a pipe, systemd's
journal — a plain line at most every ``interval`` seconds (``JIXIAO_PROGRESS_INTERVAL``), with the same figures, and
a last line with the total time once any line was written; work shorter than the interval writes nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Never, TextIO

from tqdm import tqdm


def duration(seconds: float) -> str:
    """``seconds`` as a person reads it: ``<1 s``, ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 1:
        return "<1 s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):  # not a file, or not a terminal after all
        return 0


class Progress:
    """One piece of long work: ``update(done, total)`` as it advances, ``close()`` (or the ``with`` block's end)
    when it is over. ``label`` names the work in both languages (``校验日志 verifying the log``); ``unit`` counts
    it (``leaves``)."""

    def __init__(
        self,
        label: str,
        unit: str,
        *,
        total: int | None = None,
        interval: float = 10.0,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self.total = total
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.clock = clock
        self.started = self.last_line = clock()
        self.done = 0
        self.lines = 0  # plain lines written
        self.bar: tqdm[Never] | None = None
        if self.terminal:
            known = _columns(self.stream) > 0  # a terminal that does not say its width (0) gets 80 columns
            self.bar = tqdm(
                total=total,
                desc=label,
                unit=f" {unit}",
                file=self.stream,
                dynamic_ncols=known,
                ncols=None if known else 80,
                nrows=None if known else 24,
                mininterval=0.2,
                smoothing=0.1,
            )

    def update(self, done: int, total: int | None = None) -> None:
        """The work has reached ``done`` (of ``total``, when it has become known or changed)."""
        if total is not None and total != self.total:
            self.total = total
            if self.bar is not None:
                self.bar.total = total
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done
            return
        self.done = done
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self._write(self.line(now))

    def line(self, now: float) -> str:
        """Where the work stands: count, share, rate and time left (when the total is known)."""
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        text = f"{self.label}: {self.done:,}"
        if self.total:
            text += f"/{self.total:,} {self.unit} ({self.done / self.total:.0%})"
        else:
            text += f" {self.unit}"
        text += f", {rate:,.0f} {self.unit}/s"
        if self.total and rate > 0:
            text += f", 剩余约 about {duration(max(self.total - self.done, 0) / rate)} left"
        return text

    def close(self, *, finished: bool = True) -> None:
        """The work is over (``finished``: done, rather than stopped by an error, which then speaks for itself)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            return
        if self.lines and finished:
            elapsed = self.clock() - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            self._write(
                f"{self.label}: 完成 done, {self.done:,} {self.unit} in {duration(elapsed)} ({rate:,.0f} {self.unit}/s)"
            )

    def _write(self, text: str) -> None:
        self.lines += 1
        print(text, file=self.stream, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close(finished=error is None)
