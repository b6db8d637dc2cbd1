"""Read-side throughput: every read model caught up from a large log, and project_status query latency.

    python -m bench.bench_projections [--events N] [--projects N,N] [--pages P,P,P] [--queries N]
                                      [--budget SECONDS] [--no-profile]

Measures, on one fresh database:

1. a realistic log of ``--events`` events: the demo's fiscal year (32 projects, 8 departments, two agencies) and
   issue 16's loop after it (:mod:`bench.projections_scenario`: units, overall goals and their evaluation,
   continuations approved within earlier results, 通报/约谈 and their follow-up, disclosure duties and their
   notices) run once, then every history a read model follows cloned under fresh ids and appended
   through ``LedgerRecorder.insert_events`` 5,000 events per call (beside raw PostgreSQL INSERTs of the same
   batches, sampled in the same run);
2. catch-up of all read models from position 0 to the head with a fresh ``Runner`` per page size (the default
   page first; the others while ``--budget`` allows), beside a raw read of the same events with the runner's
   own SELECT in pages of the same size (no decoding) and, once, a read with decoding (``Runner.read_events``,
   no writes), so the time splits into reading, decoding and applying (per read model);
3. if catch-up misses its target: a cProfile of the runner catching up the next 100,000 events;
4. latency of filtered ``project_status`` queries at each ``--projects`` size (the log topped up with the first
   events of cloned project histories up to the largest size; smaller sizes take an even sample of those
   projects), beside primary-key lookups on the same table, through one persistent connection, prepared (as
   psycopg does after 5 uses) and never prepared; with the plan of each shape's slowest values at the largest.

Nothing is asserted: the targets are printed beside the measurements. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence

from api.cli.demo import run_demo
from bench.common import BenchDatabase, Clock, RawEvents, bench_database, server_settings
from bench.projections_log import APPEND_BATCH, PREFIX_EVENTS, LogBuilder, read_template
from bench.projections_measure import (
    SubsetRunner,
    SubsetStatus,
    count_rows,
    measure_catch_up,
    measure_queries,
    profile_catch_up,
    reset_read_models,
    vacuum,
)
from bench.projections_report import SEED, TARGET_CATCH_UP_RATE, Results, report
from bench.projections_scenario import closed_loop
from ledger.application.ledger import Ledger
from ledger.store.tables import EVENTS
from projections.project_status import ProjectStatus
from projections.runner import PAGE, Runner

DEFAULT_EVENTS = 1_000_000
DEFAULT_PROJECTS = (10_000, 100_000)
DEFAULT_PAGES = (2_000, 5_000, 10_000)
DEFAULT_BUDGET = 600.0  # seconds; optional page sizes are skipped when they would overrun it
PROFILE_EVENTS = 100_000
QUERIES = 1_000


def page_order(pages: Sequence[int]) -> list[int]:
    """The runner's default page first (the check is on it), then the larger ones, then the smaller ones."""
    first = PAGE if PAGE in pages else max(pages)
    return [first, *sorted(p for p in pages if p > first), *sorted((p for p in pages if p < first), reverse=True)]


def run(
    db: BenchDatabase,
    events: int,
    sizes: list[int],
    pages: list[int],
    queries: int,
    budget: float,
    profile: bool,
    clock: Clock,
) -> Results:
    url = db.url
    results = Results()
    rng = random.Random(SEED)
    ledger = Ledger(url)
    raw = RawEvents(url, "bench_raw_append")
    try:
        with clock.phase("demo: bootstrap + run_demo + issue 16's loop (bench.projections_scenario)"):
            ledger.bootstrap()
            run_demo(ledger)
            results.continuations = closed_loop(ledger)
            template, projects, counts = read_template(url)
            results.template_counts = counts
            results.template_events = len(template.events)
            results.payload_bytes = statistics.fmean(len(item[3]) for item in template.events)
            head = Runner(url, []).head()

        builder = LogBuilder(ledger, raw, head, projects)
        before = time.perf_counter()
        with clock.phase(f"build the log to {events:,} events (clones, insert_events of {APPEND_BATCH:,})"):
            builder.grow(template, events)
        results.build_wall = time.perf_counter() - before - builder.excluded
        results.head, results.projects = builder.head, len(builder.projects)
        results.appended = builder.appended
        results.append_calls, results.raw_calls = list(builder.calls), list(builder.raw_calls)

        with clock.phase("VACUUM (ANALYZE) ledger_events"):
            vacuum(url, EVENTS)

        # ------------------------------------------------------------------ catch-up
        append_rate = results.appended / results.build_wall
        missing_projects = max(0, max(sizes) - results.projects)
        profile_events = min(PROFILE_EVENTS, events)
        for page in page_order(pages):
            if results.catch_ups:
                first = results.catch_ups[0]
                estimate = (first.raw.seconds + first.catch_up.seconds) * (1.8 if page < first.page else 1.05)
                # what must still fit after this page size: profile, top-up, status tables, queries
                reserve = 20.0 + 0.015 * queries * len(sizes)
                final_head = builder.head
                if profile and first.catch_up.rate < TARGET_CATCH_UP_RATE:
                    reserve += profile_events / append_rate + 2.5 * profile_events / first.catch_up.rate
                    final_head += profile_events
                topping = missing_projects * PREFIX_EVENTS
                final_head += topping
                per_event_read = first.read_seconds / first.catch_up.events
                reserve += topping / append_rate + 2 * topping * per_event_read + 10  # the live table caught up
                for size in sizes[:-1]:  # each subset table scans the log and decodes its share of it
                    reserve += 5 + final_head * (
                        first.raw.seconds / first.raw.events + 1.5 * per_event_read * size / max(sizes)
                    )
                if clock.elapsed + estimate + reserve > budget:
                    clock.say(
                        f"page {page}: skipped, about {estimate:.0f} s more would overrun --budget {budget:.0f} s"
                    )
                    results.skipped_pages.append(page)
                    continue
            decode_pass = not results.catch_ups
            with clock.phase(
                f"catch-up from 0, page {page:,}: raw read, "
                + ("read + decode, " if decode_pass else "")
                + "catch_up()"
            ):
                results.catch_ups.append(measure_catch_up(url, page, builder.head, decode_pass=decode_pass))
        status_rows = count_rows(url, "project_status")
        if status_rows != len(builder.projects):
            raise RuntimeError(f"project_status holds {status_rows} rows, the log {len(builder.projects)} projects")

        default = results.catch_ups[0]
        if profile and default.catch_up.rate < TARGET_CATCH_UP_RATE:
            with clock.phase(f"profile: append {profile_events:,} more events (clones)"):
                builder.grow(template, builder.head + profile_events)
            with clock.phase(f"profile: cProfile of catch_up() over those {profile_events:,} events"):
                results.profile = profile_catch_up(url)

        # ------------------------------------------------------------ status tables
        largest = max(sizes)
        results.full_projects = len(builder.projects)
        if largest > len(builder.projects):
            before_top_up = builder.head
            with clock.phase(f"top up to {largest:,} projects (first {PREFIX_EVENTS} events of cloned projects)"):
                builder.top_up(template, largest)
            results.topped_up = builder.head - before_top_up
        pool = builder.projects[:largest]
        status_tables: dict[int, str] = {}
        subsets: list[SubsetStatus] = []
        for size in sizes:
            if size == largest and largest == len(builder.projects):
                status_tables[size] = "project_status"  # the live read model, behind by the events appended since
            else:  # every (largest/size)-th project: the same mix of stages, fewer rows
                subsets.append(
                    SubsetStatus(f"project_status_{size}", frozenset(pool[i * largest // size] for i in range(size)))
                )
                status_tables[size] = subsets[-1].name
        if "project_status" in status_tables.values():
            with clock.phase(f"project_status of {largest:,} projects: the live read model caught up, vacuumed"):
                runner = Runner(url, [ProjectStatus()])
                runner.setup()
                runner.catch_up()
                vacuum(url, "project_status")
        for subset in subsets:
            with clock.phase(
                f"{subset.name}: project_status of {len(subset.projects):,} of those projects, caught up, vacuumed"
            ):
                reset_read_models(url, [subset])
                subset_runner = SubsetRunner(url, subset)
                subset_runner.setup()
                subset_runner.catch_up()
                vacuum(url, subset.name)
        for size, table in status_tables.items():
            if count_rows(url, table) != size:
                raise RuntimeError(f"{table} does not hold {size} projects")

        for size in sorted(sizes):
            with clock.phase(f"queries at {size:,} projects ({queries:,} per shape, interleaved)"):
                results.queries.append(measure_queries(url, status_tables[size], size, queries, rng))
        results.head = builder.head
    finally:
        raw.close()
        ledger.close()
    return results


def sizes_arg(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("every value must be at least 1")
    return sorted(set(values))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_projections", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events in the log to catch up from")
    parser.add_argument(
        "--projects",
        type=sizes_arg,
        default=list(DEFAULT_PROJECTS),
        help="project_status sizes to query, comma-separated",
    )
    parser.add_argument(
        "--pages",
        type=sizes_arg,
        default=list(DEFAULT_PAGES),
        help=f"runner page sizes to catch up with, comma-separated (the default {PAGE} first)",
    )
    parser.add_argument("--queries", type=int, default=QUERIES, help="timed queries per shape and size")
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        help="seconds: page sizes after the first are skipped if they would overrun it",
    )
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the cProfile of a catch-up when the rate target is missed",
    )
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    if args.queries < 20:
        parser.error("--queries must be at least 20")
    with bench_database("jixiao_bench_proj") as db:
        settings = server_settings(db.url)
        clock = Clock(stamped=False)
        results = run(db, args.events, args.projects, args.pages, args.queries, args.budget, args.profile, clock)
        report(db, settings, args, results, clock)


if __name__ == "__main__":
    main()
