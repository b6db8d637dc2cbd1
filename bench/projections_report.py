"""bench_projections' figures and their report: the phases, the log's build, each catch-up and where its time goes,
the profile, and the project_status queries with their plans (see :mod:`bench.bench_projections`)."""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field

from bench.common import (
    BenchDatabase,
    Clock,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    machine_line,
    para,
    print_checks,
    print_header,
    print_table,
    server_header,
    verdict,
)
from bench.projections_log import APPEND_BATCH, CLONED_KINDS, PREFIX_EVENTS, RAW_SAMPLE_EVERY
from bench.projections_measure import QUERY_ROUNDS, SHAPES, WARMUP_QUERIES, CatchUp, Profile, QueryResult

SEED = 20210601
TARGET_CATCH_UP_RATE = 20_000.0  # events/s
TARGET_STATUS_P95_MS = 20.0
TARGET_FLAT_RATIO = 1.5  # p95 at the largest size ÷ p95 at the smallest: "flat"


@dataclass
class Results:
    head: int = 0
    projects: int = 0  # after the build
    full_projects: int = 0  # with full histories, before any top-up
    template_counts: dict[str, int] = field(default_factory=dict)
    template_events: int = 0
    build_wall: float = 0.0
    appended: int = 0
    append_calls: list[float] = field(default_factory=list)
    raw_calls: list[float] = field(default_factory=list)
    payload_bytes: float = 0.0
    catch_ups: list[CatchUp] = field(default_factory=list)
    skipped_pages: list[int] = field(default_factory=list)
    profile: Profile | None = None
    topped_up: int = 0  # prefix events appended to reach the largest project count
    continuations: int = 0  # issue 16's loop: continuations approved within the earlier result
    queries: list[QueryResult] = field(default_factory=list)


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.1f}"


def report(
    db: BenchDatabase, settings: dict[str, str], args: argparse.Namespace, results: Results, clock: Clock
) -> None:
    counts = results.template_counts
    print_header(
        "bench_projections — read models caught up from the log, and project_status queries (same run)",
        [
            *server_header(db, settings),
            ("machine", machine_line("eventsourcing", "psycopg")),
            (
                "parameters",
                f"--events {args.events} --projects {','.join(map(str, args.projects))} "
                f"--pages {','.join(map(str, args.pages))} --queries {args.queries} "
                f"--budget {args.budget:.0f}" + ("" if args.profile else " --no-profile"),
            ),
            (
                "template",
                f"the demo's and issue 16's loop's {sum(counts.values())} events ("
                + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
                + f"; {results.continuations} continuations); {results.template_events} cloned per copy "
                f"({', '.join(CLONED_KINDS)}), {results.payload_bytes:.0f} bytes of state on average",
            ),
        ],
    )

    # ------------------------------------------------------------------ phases
    print_table(
        ["phase", "seconds"],
        [[name, fmt_s(seconds)] for name, seconds in clock.phases] + [["total", fmt_s(clock.elapsed)]],
        right=(1,),
    )
    print()

    # ----------------------------------------------------------------- results
    table: list[list[str]] = []
    blank = ["", "", "", "", "", ""]
    insert_seconds = sum(results.append_calls)
    raw_rate = APPEND_BATCH * len(results.raw_calls) / sum(results.raw_calls) if results.raw_calls else 0.0
    insert_rate = results.appended / insert_seconds if insert_seconds else 0.0
    table.append(
        [f"[Building the log: clones appended in batches of {APPEND_BATCH:,} events, one transaction each]", *blank[1:]]
    )
    if results.raw_calls:
        table.append(
            [
                f"raw INSERT … unnest, {APPEND_BATCH:,} rows/txn (1 batch in {RAW_SAMPLE_EVERY} sampled)",
                fmt_rate(raw_rate, "rows"),
                fmt_s(sum(results.raw_calls)),
                fmt_ms(statistics.median(results.raw_calls) * 1000),
                str(len(results.raw_calls)),
                fmt_ratio(1.0),
            ]
        )
    table.append(
        [
            "ours: LedgerRecorder.insert_events (leaf + chain hashes)",
            fmt_rate(insert_rate, "events"),
            fmt_s(insert_seconds),
            fmt_ms(statistics.median(results.append_calls) * 1000),
            str(len(results.append_calls)),
            fmt_ratio(insert_rate / raw_rate) if raw_rate else "—",
        ]
    )
    table.append(
        [
            "ours: same, wall time with the cloning in Python",
            fmt_rate(results.appended / results.build_wall, "events"),
            fmt_s(results.build_wall),
            "",
            "",
            fmt_ratio(results.appended / results.build_wall / raw_rate) if raw_rate else "—",
        ]
    )
    for c in results.catch_ups:
        table.append(
            [
                f"[Catch-up of all {len(c.models)} read models from 0: {c.catch_up.events:,} events, page {c.page:,}]",
                *blank[1:],
            ]
        )
        pages_n = sum(1 for applied, _ in c.pages if applied)
        table.append(
            [
                f"raw read: the runner's SELECT, {c.page:,}/page, not decoded",
                fmt_rate(c.raw.rate, "events"),
                fmt_s(c.raw.seconds),
                "",
                "",
                fmt_ratio(1.0),
            ]
        )
        if c.decoded is not None:
            table.append(
                [
                    "read + decode: Runner.read_events (msgspec into EventFields), no writes",
                    fmt_rate(c.decoded.rate, "events"),
                    fmt_s(c.decoded.seconds),
                    "",
                    "",
                    fmt_ratio(c.decoded.rate / c.raw.rate),
                ]
            )
        if c.mapped is not None:
            table.append(
                [
                    f"read + decode as before: eventsourcing's Mapper (first {c.mapped.events:,} events)",
                    fmt_rate(c.mapped.rate, "events"),
                    fmt_s(c.mapped.seconds),
                    "",
                    "",
                    fmt_ratio(c.mapped.rate / c.raw.rate),
                ]
            )
        table.append(
            [
                "ours: Runner.catch_up(), a transaction per page and lane",
                fmt_rate(c.catch_up.rate, "events"),
                fmt_s(c.catch_up.seconds),
                fmt_ms(statistics.median(d for a, d in c.pages if a) * 1000),
                str(pages_n),
                fmt_ratio(c.catch_up.rate / c.raw.rate),
            ]
        )
    print_table(["measurement", "rate", "seconds", "median ms", "n", "vs raw PG"], table, right=(1, 2, 3, 4, 5))
    print()
    for note in (
        "vs raw PG: our rate ÷ the raw rate of the same section (raw INSERT of the same batches; the raw read of "
        "the same events with the same page size). median ms and n: per insert call, or per catch-up page.",
        "the catch-up runs the library's Runner and read models unchanged; a clock read around each page, each "
        "read_events and each read model's apply records where the time goes (below); median ms and n: the pages "
        "of the lane that reads the events. Each page size starts from empty read models; the separate read + "
        "decode pass runs for the first page size only.",
    ):
        para(note)
    print()

    # ------------------------------------------------------- where the time goes
    if results.catch_ups:
        rows: list[list[str]] = []
        for c in results.catch_ups:
            total = c.catch_up.seconds
            rows.append(
                [
                    f"[page {c.page:,}: {c.catch_up.events:,} events in {total:,.1f} s, "
                    f"{len(c.lanes)} lanes side by side]",
                    "",
                    "",
                    "",
                ]
            )
            for lane, lane_seconds in sorted(c.lanes.items(), key=lambda kv: -kv[1]):
                names = lane.models
                rows.append(
                    [
                        f"lane: {', '.join(names)}",
                        fmt_s(lane_seconds),
                        f"{100 * lane_seconds / total:.1f}%",
                        f"{c.catch_up.events / lane_seconds:,.0f}" if lane_seconds > 0 else "—",
                    ]
                )
                parts = []
                read = 0.0
                if lane.reads_events:
                    read = c.read_seconds
                    parts = [
                        ("  Runner.read_events: read + decode", c.read_seconds),
                        ("    of which the raw SELECT (separate pass)", c.raw.seconds),
                        ("    of which decoding (the difference)", max(0.0, c.read_seconds - c.raw.seconds)),
                    ]
                applying = [(name, c.models[name]) for name in names if name in c.models]
                parts += [(f"  apply: {name}", seconds) for name, seconds in sorted(applying, key=lambda kv: -kv[1])]
                parts.append(("  positions, commits, the rest", lane_seconds - read - sum(s for _, s in applying)))
                for name, seconds in parts:
                    rows.append(
                        [
                            name,
                            fmt_s(seconds),
                            f"{100 * seconds / total:.1f}%",
                            f"{c.catch_up.events / seconds:,.0f}" if seconds > 0 else "—",
                        ]
                    )
            window = min(100_000, c.catch_up.events // 10)
            rows.append(
                [f"catch-up rate over the first {window:,} events", "", "", f"{c.window_rate(True, window):,.0f}"]
            )
            rows.append(
                [f"catch-up rate over the last {window:,} events", "", "", f"{c.window_rate(False, window):,.0f}"]
            )
        print_table(["where catch-up time goes", "seconds", "share", "events/s alone"], rows, right=(1, 2, 3))
        print()
        para(
            "timed inside the catch-up, except the raw SELECT (the separate pass above). Each lane applies its read "
            "models on a connection and in a transaction per page of its own, in a thread of its own: the lanes run "
            "side by side, so their times add up to more than the catch-up's; share: of the catch-up's wall time. "
            "events/s alone: the rate if this step were the only cost."
        )
        print()
    if results.skipped_pages:
        para(
            f"page sizes skipped to stay within --budget {args.budget:.0f} s: "
            + ", ".join(f"{p:,}" for p in results.skipped_pages)
        )
        print()

    # -------------------------------------------------------------- the profile
    if results.profile is not None:
        p = results.profile
        print(
            f"Profile: cProfile of Runner(read_models()).catch_up() over {p.events:,} events appended after the "
            f"measured head ({p.events / p.seconds:,.0f} events/s under the profiler, {p.seconds:.1f} s; the "
            "profiler sees the thread of the lane that reads the events, not the trail's)"
        )
        print()
        print_table(["own time: function", "calls", "own s", "share", "cum s"], p.top, right=(1, 2, 3, 4))
        print()
        print_table(["cumulative: step", "calls", "cum s", "of total"], p.cumulative, right=(1, 2, 3))
        print()

    # ------------------------------------------------------------------ queries
    qrows: list[list[str]] = []
    for q in results.queries:
        qrows.append([f"[{q.projects:,} projects: table {q.table}]", "", "", "", "", "", "", ""])
        qrows.append(
            [
                "raw: primary-key lookup (project_id = %s)",
                fmt_ms(q.pk.median_ms),
                fmt_ms(q.pk.p95_ms),
                str(q.pk.calls),
                "1",
                "",
                "",
                fmt_ratio(1.0),
            ]
        )
        for name, shape in q.shapes.items():
            plans = f"{shape.plan_counts[0]:,} / {shape.plan_counts[1]:,}" if shape.plan_counts else "?"
            for label, t, plan_cell in (
                (f"{name}: {', '.join(SHAPES[name])}; ORDER BY project_id LIMIT 50", shape.timing, plans),
                (f"{name}, same calls, never prepared (a custom plan each)", shape.custom, ""),
            ):
                qrows.append(
                    [
                        label,
                        fmt_ms(t.median_ms),
                        fmt_ms(t.p95_ms),
                        str(t.calls),
                        f"{statistics.median(shape.combos):,.0f} ({min(shape.combos):,}–{max(shape.combos):,})",
                        str(len(shape.combos)),
                        plan_cell,
                        fmt_ratio(t.median_ms / q.pk.median_ms),
                    ]
                )
    print_table(
        ["project_status query", "median ms", "p95 ms", "n", "rows matching", "combos", "generic/custom", "vs raw PG"],
        qrows,
        right=(1, 2, 3, 4, 5, 6),
    )
    print()
    largest = max(args.projects)
    for note in (
        "one persistent connection (autocommit; psycopg prepares a statement after 5 uses, and PostgreSQL may then "
        "switch it to a generic plan), and a second one that never prepares; the series interleaved "
        f"in {QUERY_ROUNDS} rounds after {WARMUP_QUERIES} warm-up calls each; filter values drawn uniformly from "
        f"the combinations present in the table (seed {SEED}); latency measured at the client, rows fetched. "
        "rows matching: median (min–max) over the combinations. generic/custom: plans the server made for the "
        "measured prepared statement (pg_prepared_statements). vs raw PG: median ÷ the primary-key lookup's.",
        "indexes of each table (projections/project_status.py): "
        + (", ".join(results.queries[-1].indexes) if results.queries else "?")
        + ". Tables vacuumed and analysed after building.",
        f"the {largest:,}-project table: {results.full_projects:,} projects with full histories"
        + (
            f" and {largest - results.full_projects:,} with the first {PREFIX_EVENTS} events of one "
            f"({results.topped_up:,} events appended)"
            if results.topped_up
            else ""
        )
        + f"; smaller tables: project_status (same code) for every ({largest:,}/size)-th of those projects, "
        "so the mix of stages is the same at every size.",
    ):
        para(note)
    print()
    for name, shape in results.queries[-1].shapes.items() if results.queries else []:
        shown = ", ".join(str(v) for v in shape.slowest)
        print(
            f"EXPLAIN (ANALYZE) of shape {name} at {largest:,} projects for its slowest values ({shown}: "
            f"{shape.slowest_rows:,} rows match, median {fmt_ms(shape.slowest_ms)} ms prepared)"
        )
        for title, plan in (
            ("the measured prepared statement, after the run (EXPLAIN EXECUTE)", shape.prepared_plan),
            ("never prepared", shape.custom_plan),
        ):
            print(f"  {title}:")
            for line in plan:
                print(f"    {line}")
        print()

    # -------------------------------------------------------------------- check
    checks: list[list[str]] = []
    info: list[list[str]] = []
    if results.catch_ups:
        default = results.catch_ups[0]
        best = max(results.catch_ups, key=lambda c: c.catch_up.rate)
        checks.append(
            [
                f"catch-up rate, all read models, page {default.page:,}",
                fmt_rate(default.catch_up.rate, "events"),
                f"≥ {fmt_rate(TARGET_CATCH_UP_RATE, 'events')}",
                verdict(default.catch_up.rate >= TARGET_CATCH_UP_RATE),
            ]
        )
        if best is not default:
            checks.append(
                [
                    f"  same, best page size ({best.page:,})",
                    fmt_rate(best.catch_up.rate, "events"),
                    f"≥ {fmt_rate(TARGET_CATCH_UP_RATE, 'events')}",
                    verdict(best.catch_up.rate >= TARGET_CATCH_UP_RATE),
                ]
            )
        info.append(
            [
                f"catch-up rate ÷ raw read rate, page {default.page:,}",
                fmt_ratio(default.catch_up.rate / default.raw.rate),
                "",
                "",
            ]
        )
        if default.decoded is not None:
            info.append(
                [
                    f"catch-up rate ÷ read + decode rate, page {default.page:,}",
                    fmt_ratio(default.catch_up.rate / default.decoded.rate),
                    "",
                    "",
                ]
            )
    for label, variant in ((name, kind) for name in SHAPES for kind in ("prepared", "never prepared")):
        present = [
            (q.projects, q.shapes[label].timing if variant == "prepared" else q.shapes[label].custom)
            for q in results.queries
            if label in q.shapes
        ]
        for n, t in present:
            checks.append(
                [
                    f"status query {label} ({variant}) p95 at {n:,} projects",
                    f"{fmt_ms(t.p95_ms)} ms",
                    f"< {TARGET_STATUS_P95_MS:.0f} ms",
                    verdict(t.p95_ms < TARGET_STATUS_P95_MS),
                ]
            )
        if len(present) >= 2:
            (n0, t0), (n1, t1) = present[0], present[-1]
            ratio = t1.p95_ms / t0.p95_ms
            checks.append(
                [
                    f"  flat: p95 at {n1:,} ÷ p95 at {n0:,}",
                    fmt_ratio(ratio),
                    f"≤ {TARGET_FLAT_RATIO:.2f}×",
                    verdict(ratio <= TARGET_FLAT_RATIO),
                ]
            )
    print_checks([*checks, *info])
