"""Checkpoint to cosigned note with two witnesses on loopback, beside signing the checkpoint alone and a bare HTTP
round trip to a witness, measured in the same loop.

    python -m bench.bench_witness [--events N] [--cosigns N] [--append N] [--witnesses N] [--seed N]

Builds a log of ``--events`` events (default 100,000: the sample project's first 20 events under fresh ids, as
bench_integrity builds its million, appended through ``LedgerRecorder``) with its tree and a first checkpoint. Then
starts ``--witnesses`` real witness processes, as an independent party runs one (``python -m api.cli witness init``,
then ``witness serve --port 0``), each in a temporary folder of its own watching the log's origin and key, and a
``TransparencyLog`` with them as its witnesses. Each of ``--cosigns`` timed iterations (after a few untimed):

1. appends ``--append`` events (untimed);
2. times ``sign_checkpoint()`` (the tree extended, the root computed, signed, stored): the baseline, what a
   checkpoint costs without witnesses;
3. times ``cosign()``: each witness asked in parallel (the consistency proof from what it last cosigned, its HTTP
   POST, its verification, its state written durably, its answer verified, the cosignature stored);
4. times ``cosigned_note(stored)``: the note with every stored cosignature, as a client fetches it;
5. times one ``GET /`` of the first witness over a fresh loopback connection, as ``submit`` opens one: the floor
   of an HTTP exchange on this machine;
6. times one durable write of a witness's state (``WitnessState.put`` into a scratch folder beside the witnesses':
   the file written and flushed to disk, renamed, the folder flushed), which each witness does before it answers:
   the floor of what a witness must do on this disk;

and checks, untimed, that both witnesses answered "cosigned" and that the note carries both cosignatures, each
verifying under the witness's key. The total is 2.–4. together: from ``sign_checkpoint()`` starting to the note
carrying both cosignatures. Inside 3., each witness's exchange (``ledger.witness.submit``: the POST, the witness's
work, its answer verified) is timed by wrapping the function ``TransparencyLog`` calls, for the measurement only;
the slowest of the two, which ``cosign()`` waits for, is reported. The witnesses' proofs grow with log2 of the log's
size (17 hashes at 100,000 leaves, 20 at 1,000,000): ``--events 1000000`` measures at the million. Nothing is
asserted: the target is printed beside the measurements.
"""

from __future__ import annotations

import argparse
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    BenchDatabase,
    Clock,
    Timing,
    bench_database,
    datastore_for,
    describe_server,
    fmt_ms,
    machine_line,
    para,
    percentile,
    print_checks,
    print_header,
    print_table,
    require_at_least_one,
    server_header,
    server_settings,
    verdict,
)
from bench.sample import CLOCK_NOW, EventSource, sample_events
from ledger.application.ledger import Ledger
from ledger.log.checkpoint import SigningKey, VerifierKey
from ledger.log.witness import Cosignature, WitnessEndpoint, WitnessKey, cosignatures, submit
from ledger.log.witness_core import Seen, WitnessState
from ledger.store import checkpoints
from ledger.store.recorder import LedgerRecorder
from ledger.store.tlog import TransparencyLog

ORIGIN = "bench.example/jixiao-witness"
KEY_NAME = "bench-witness-log"
WARMUP_COSIGNS = 5
BUILD_BATCH = 400
STARTUP_TIMEOUT = 120.0  # seconds a witness process may take to start on a busy machine
TARGET_COSIGNED_P95_MS = 50.0

_LISTENING = re.compile(r" on (http://\S+)/add-checkpoint")


# ------------------------------------------------------------------------------------------------ witnesses


@dataclass
class WitnessProcess:
    endpoint: WitnessEndpoint
    process: subprocess.Popen[str]
    folder: Path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "witness", *args]


def _start_witness(folder: Path, name: str, origin: str, log_key: VerifierKey) -> WitnessProcess:
    """``jixiao witness init`` then ``witness serve`` on a free loopback port; returns once it listens."""
    data = folder / "data"
    made = subprocess.run(
        _cli("init", "--name", name, "--data", str(data), "--log", f"{origin}={log_key.to_string()}"),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )
    if made.returncode != 0:
        raise RuntimeError(f"witness init failed ({made.returncode}): {made.stderr.strip()}")
    key = WitnessKey.from_string(made.stdout.splitlines()[0])
    log = open(folder / "serve.log", "w", encoding="utf-8")  # noqa: SIM115 - the process writes it until stopped
    process = subprocess.Popen(
        _cli("serve", "--data", str(data), "--port", "0"), stdout=subprocess.PIPE, stderr=log, text=True
    )
    log.close()
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    line = ""
    while not line and process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
    found = _LISTENING.search(line)
    if found is None:
        process.terminate()
        process.wait(timeout=30)
        raise RuntimeError(f"witness {name} did not start: {line.strip() or (folder / 'serve.log').read_text()}")
    return WitnessProcess(WitnessEndpoint(key, found.group(1)), process, folder)


@contextmanager
def witness_processes(count: int, origin: str, log_key: VerifierKey) -> Iterator[list[WitnessProcess]]:
    """``count`` witnesses watching the log, each a process of its own with a temporary data folder; stopped (by
    SIGTERM, as an operator stops one) and deleted afterwards."""
    root = Path(tempfile.mkdtemp(prefix="jixiao-bench-witnesses-"))
    started: list[WitnessProcess] = []
    try:
        for n in range(count):
            folder = root / f"witness-{n + 1}"
            folder.mkdir()
            started.append(_start_witness(folder, f"bench.example/witness-{n + 1}", origin, log_key))
        yield started
    finally:
        for witness in started:
            witness.process.terminate()
        for witness in started:
            try:
                witness.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                witness.process.kill()
                witness.process.wait(timeout=30)
            if witness.process.stdout is not None:
                witness.process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class CosignRun:
    total: Timing  # sign_checkpoint() start → cosigned_note carrying every witness's cosignature
    sign: Timing  # sign_checkpoint() alone (the baseline)
    cosign: Timing  # cosign(): every witness asked in parallel, each cosignature stored
    exchange: Timing  # inside cosign(): the slowest witness's submit (POST, its work, its answer verified)
    rest: Timing  # cosign() less that exchange: reads, proofs, the cosignatures' INSERTs, the thread pool
    note: Timing  # cosigned_note()
    http: Timing  # GET / of one witness on a fresh loopback connection
    durable: Timing  # one WitnessState.put: a witness's durable state write
    log_size: int  # leaves at the end
    witnesses: int


@contextmanager
def timed_submits(durations: list[float]) -> Iterator[None]:
    """Time every witness exchange TransparencyLog makes (``ledger.store.checkpoints.submit``), for the measurement
    only."""
    original = submit

    def timed_submit(*args: Any, **kwargs: Any) -> Cosignature:
        before = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            durations.append(time.perf_counter() - before)

    checkpoints.submit = timed_submit  # type: ignore[attr-defined]  # the name CheckpointStore._ask calls
    try:
        yield
    finally:
        checkpoints.submit = original  # type: ignore[attr-defined]


def measure_cosign(
    url: str,
    key: SigningKey,
    origin: str,
    witnesses: Sequence[WitnessEndpoint],
    append: Callable[[], None],
    cosigns: int,
    scratch: Path,
) -> CosignRun:
    """``cosigns`` timed iterations (after ``WARMUP_COSIGNS``): append, sign, cosign, fetch the cosigned note; a
    bare HTTP exchange and a durable state write (into ``scratch``) beside them."""
    log = TransparencyLog(url, origin=origin, signing_key=key, witnesses=witnesses)
    pinned = [endpoint.key for endpoint in witnesses]
    state = WitnessState(scratch)
    perf = time.perf_counter
    durations: dict[str, list[float]] = {
        name: [] for name in ("total", "sign", "cosign", "exchange", "rest", "note", "http", "durable")
    }
    submits: list[float] = []
    try:
        for i in range(WARMUP_COSIGNS + cosigns):
            append()
            submits.clear()
            started = perf()
            stored = log.sign_checkpoint()
            signed = perf()
            with timed_submits(submits):
                outcomes = log.cosign(stored)
            cosigned = perf()
            note = log.cosigned_note(stored) if stored is not None else ""
            done = perf()
            with urllib.request.urlopen(f"{witnesses[0].url}/", timeout=30) as response:
                response.read()
            fetched = perf()
            if stored is not None:
                state.put(origin, Seen(stored.column_size, stored.column_root), stored.note)
            written = perf()
            if stored is None:
                raise RuntimeError("sign_checkpoint() signed nothing: the log did not grow")
            if sorted(outcomes.values()) != ["cosigned"] * len(witnesses):
                raise RuntimeError(f"checkpoint {stored.column_size}: the witnesses answered {outcomes}")
            found = cosignatures(note, pinned)
            if len(found) != len(witnesses):
                raise RuntimeError(
                    f"the note of checkpoint {stored.column_size} carries {len(found)} of {len(witnesses)} cosignatures"
                )
            if i >= WARMUP_COSIGNS:
                for name, seconds in (
                    ("total", done - started),
                    ("sign", signed - started),
                    ("cosign", cosigned - signed),
                    ("exchange", max(submits)),
                    ("rest", cosigned - signed - max(submits)),
                    ("note", done - cosigned),
                    ("http", fetched - done),
                    ("durable", written - fetched),
                ):
                    durations[name].append(seconds)
        size = log.log_size()
    finally:
        log.close()
    return CosignRun(
        total=Timing.of(durations["total"]),
        sign=Timing.of(durations["sign"]),
        cosign=Timing.of(durations["cosign"]),
        exchange=Timing.of(durations["exchange"]),
        rest=Timing.of(durations["rest"]),
        note=Timing.of(durations["note"]),
        http=Timing.of(durations["http"]),
        durable=Timing.of(durations["durable"]),
        log_size=size,
        witnesses=len(witnesses),
    )


def report_rows(run: CosignRun) -> list[list[str]]:
    """One row per part: median, p95 and max in milliseconds, and n."""

    def row(name: str, timing: Timing) -> list[str]:
        return [
            name,
            fmt_ms(timing.median_ms),
            fmt_ms(timing.p95_ms),
            fmt_ms(max(timing.durations) * 1000),
            str(timing.calls),
        ]

    return [
        row("raw: GET / of a witness, fresh loopback connection (urllib)", run.http),
        row("raw: a witness's durable state write (WitnessState.put: fsync file and folder)", run.durable),
        row("baseline: sign_checkpoint() alone (extend, root, sign, store)", run.sign),
        row(f"cosign(): {run.witnesses} witnesses asked in parallel, cosignatures stored", run.cosign),
        row("  in it, the slowest witness's exchange (submit: POST, its work, answer verified)", run.exchange),
        row("  the rest of it (reads, consistency proofs, cosignatures' INSERTs, thread pool)", run.rest),
        row("cosigned_note(stored)", run.note),
        row(f"ours: sign_checkpoint() → note carrying {run.witnesses} cosignatures", run.total),
    ]


# -------------------------------------------------------------------------------------------------- the run


def run(
    db: BenchDatabase, events: int, cosigns: int, append_size: int, witnesses: int, seed: int, clock: Clock
) -> None:
    url = db.url
    settings = server_settings(url)
    key = SigningKey.generate(KEY_NAME)
    with clock.phase(f"a log of {events:,} events"):
        ledger = Ledger(url, clock=lambda: CLOCK_NOW)
        try:
            templates = sample_events(ledger)
        finally:
            ledger.close()
        source = EventSource(templates, seed)
        datastore = datastore_for(url)
        recorder = LedgerRecorder(datastore, events_table_name="ledger_events")
        log = TransparencyLog(url, origin=ORIGIN, signing_key=key)
        try:
            log.create_tables()
            remaining = events - log.log_size()
            while remaining > 0:
                recorder.insert_events(source.take(min(BUILD_BATCH, remaining)))
                remaining -= BUILD_BATCH
            log.extend()
            log.sign_checkpoint()
        finally:
            log.close()

    def append() -> None:
        recorder.insert_events(source.take(append_size))

    try:
        clock.say(f"starting {witnesses} witness processes …")
        with witness_processes(witnesses, ORIGIN, key.verifier) as started:
            clock.say(f"  witnesses on {', '.join(w.endpoint.url for w in started)}")
            with clock.phase(f"{cosigns} checkpoints cosigned"):
                scratch = started[0].folder.parent / "scratch"
                result = measure_cosign(url, key, ORIGIN, [w.endpoint for w in started], append, cosigns, scratch)
            folder = started[0].folder
    finally:
        datastore.close()

    title = "bench_witness — checkpoint to cosigned note with witnesses on loopback, beside the checkpoint alone"
    print_header(
        title,
        [
            *server_header(db, settings),
            ("machine", machine_line("psycopg", "cryptography")),
            (
                "parameters",
                f"--events {events} --cosigns {cosigns} --append {append_size} --witnesses {witnesses} --seed {seed}",
            ),
            (
                "log",
                f"{events:,} events at the start, {result.log_size:,} at the end ({append_size} appended before each "
                "checkpoint)",
            ),
            (
                "witnesses",
                f"{witnesses} `jixiao witness serve` processes on 127.0.0.1, state in {folder.parent.parent} "
                "(written durably before each answer)",
            ),
        ],
    )
    print_table(
        ["measurement (ms per checkpoint)", "median", "p95", "max", "n"], report_rows(result), right=(1, 2, 3, 4)
    )
    print()
    for note in (
        "Each iteration appends, then runs sign_checkpoint(), cosign() and cosigned_note() one after another (the "
        "total is the three) and one GET / of a witness; the cosigned note is checked after the clock stops: every "
        "witness answered 'cosigned' and its cosignature verifies under its pinned key.",
    ):
        para(note)
    print()
    p95 = percentile(result.total.durations, 95) * 1000
    print_checks(
        [
            [
                f"checkpoint → note cosigned by {witnesses} witnesses on loopback, p95",
                f"{fmt_ms(p95)} ms",
                f"< {TARGET_COSIGNED_P95_MS:.0f} ms",
                verdict(p95 < TARGET_COSIGNED_P95_MS),
            ],
            [
                "  same, ÷ sign_checkpoint() alone (medians)",
                f"{result.total.median_ms / result.sign.median_ms:.2f}×",
                "",
                "",
            ],
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_witness", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the log before the first checkpoint")
    parser.add_argument("--cosigns", type=int, default=200, help="timed checkpoints, each cosigned")
    parser.add_argument("--append", type=int, default=5, help="events appended before each checkpoint")
    parser.add_argument("--witnesses", type=int, default=2, help="witness processes")
    parser.add_argument("--seed", type=int, default=20210601, help="seed of originator ids")
    args = parser.parse_args(argv)
    require_at_least_one(parser, args, ("events", "cosigns", "append", "witnesses"))
    clock = Clock()
    with bench_database("jixiao_bench_witness") as db:
        clock.say(f"database ready on {describe_server(db)}")
        run(db, args.events, args.cosigns, args.append, args.witnesses, args.seed, clock)


if __name__ == "__main__":
    main()
