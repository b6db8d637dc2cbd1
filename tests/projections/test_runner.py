"""Read models on PostgreSQL: exactly once, resumable after SIGKILL, rebuildable to the same digest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unicodedata
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.projection import Projection

from api.cli.demo import run_demo
from api.cli.demo_story import PROJECTS_2022
from ledger.application import Ledger
from ledger.domain.base import LedgerAggregate
from ledger.store.transcodings import ledger_mapper
from projections.base import Conn, EventFields, LogEvent
from projections.deadlines import flags_query
from projections.registry import read_model, read_models
from projections.runner import Runner, SharedPages
from projections.tracking import APPLICATION, LeafTracking, tracked_events
from projections.trail import EVENT_NAMES_ZH
from tests.conftest import FINANCE, act
from tests.ledger.application.test_decisions import decide_on_the_2021_ranking
from tests.projections.scenario import TRICKY_REASON, every_kind_of_event

pytestmark = pytest.mark.db


def test_rebuild_from_zero_matches_the_incremental_tables_after_the_demo(ledger: Ledger, database_url: str) -> None:
    runner = Runner(database_url, read_models(), page=37)  # small pages: many batch boundaries
    runner.setup()
    run_demo(ledger)
    decide_on_the_2021_ranking(ledger)
    runner.catch_up()
    assert all(status.lag == 0 for status in runner.status())
    for model in read_models():
        incremental = runner.digest(model)
        assert runner.rebuild(model) == incremental, model.name
    with psycopg.connect(database_url) as conn:
        trail = conn.execute("SELECT count(*) FROM accountability_trail").fetchone()
        stages: dict[str, int] = dict(
            conn.execute("SELECT stage, count(*) FROM project_status GROUP BY stage").fetchall()
        )
        blacklisted = conn.execute("SELECT agency_name, ended_on FROM blacklist").fetchall()
        coverage = conn.execute(
            "SELECT departments, departments_with_goals, goals_coverage, goals_coverage_target, "
            "approved_projects, self_evaluation_coverage, re_evaluated, re_evaluation_rate "
            "FROM coverage WHERE fiscal_year = 2021"
        ).fetchone()
        decided = conn.execute(
            "SELECT department, decisions FROM department_ranking WHERE decisions <> '{}' ORDER BY department"
        ).fetchall()
        followed = conn.execute(
            "SELECT subject, kind, rectification_status, reports, approaching_on, missed_on, accepted_on "
            "FROM decisions ORDER BY subject, kind"
        ).fetchall()
        missed = conn.execute(flags_query(), {"today": date(2022, 9, 1), "warning_days": 7}).fetchall()
    assert trail is not None
    assert trail[0] == ledger.head()
    assert stages == {"closed": 31, "results_applied": 1, "budget_approved": 8, "goals_approved": 1}  # 2021, 2022
    assert blacklisted == [("青海某会计师事务所", None)]
    # The demo's structured overall goals approved for 5 of 8 departments in 2021 (tests/api/cli/test_demo_years.py
    # checks both years); free-text goals cover nothing.
    assert coverage == (8, 5, Decimal("62.50"), Decimal("60.00"), 31, Decimal("100.00"), 4, Decimal("12.90"))
    # The demo's 通报表扬 and 约谈 (on an evaluation, not the ranking), and decide_on_the_2021_ranking's.
    assert decided == [("教育局", ["commendation", "praise"]), ("文体旅游广电局", ["interview"])]
    assert followed == [
        ("国有资产服务中心", "interview", "accepted", 1, None, None, date(2022, 8, 1)),
        ("教育局", "commendation", None, 0, None, None, None),
        ("教育局", "praise", None, 0, None, None, None),
        ("文体旅游广电局", "interview", "accepted", 2, None, date(2022, 7, 16), date(2022, 7, 22)),
    ]
    self_evaluations_2022 = [
        ("self_evaluation", spec.code)
        for spec in sorted(PROJECTS_2022, key=lambda spec: spec.code)
        if spec.continues != "WT-04"
    ]  # owed by 2023-03-31: all of 2022's approved projects (the continuation of 2021's 差 WT-04 is refused)
    assert [(row[1], row[3]) for row in missed] == [("rectification", "NY-01"), *self_evaluations_2022]


def test_the_runner_decodes_what_read_models_read_as_the_application_does(ledger: Ledger, database_url: str) -> None:
    """The runner decodes only the fields the read models read (``EventFields``, with msgspec); each equals the
    domain event's own attribute as the application decodes it (eventsourcing's Mapper), for every kind of event."""
    every_kind_of_event(ledger)
    mapper = ledger_mapper()
    fields = [name.removesuffix("_") for name in EventFields.__struct_fields__]  # transcoded ones: their property
    with psycopg.connect(database_url) as conn:
        events = Runner(database_url, []).read_events(conn, 0, ledger.head())
        stored = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
    assert len(events) == len(stored) == ledger.head()
    kinds: set[str] = set()
    compared = 0
    for item, (oid, version, topic, state) in zip(events, stored, strict=True):
        domain = mapper.to_domain_event(StoredEvent(oid, version, topic, bytes(state)))
        kinds.add(item.kind)
        for name in fields:
            expected = getattr(domain, name, None)
            value = getattr(item.event, name)
            assert value == expected, (item.leaf_index, item.kind, name, value, expected)
            assert type(value) is type(expected), (item.leaf_index, item.kind, name, value, expected)
            compared += expected is not None
    assert kinds == set(EVENT_NAMES_ZH)  # every kind of event the ledger records
    assert compared > 3 * len(events)


def test_the_trail_holds_each_events_reason_and_evidence_as_recorded(ledger: Ledger, database_url: str) -> None:
    """PostgreSQL reads the trail's reason and evidence out of the stored JSON itself: escapes, quotes, newlines,
    backslashes and characters outside the BMP come out as the application recorded them."""
    every_kind_of_event(ledger)
    runner = Runner(database_url, read_models(), page=50)
    runner.setup()
    runner.catch_up()
    mapper = ledger_mapper()
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
        trail = conn.execute(
            "SELECT object_type, event_type, event_type_zh, reason, evidence, effective_on, "
            "principal_id, principal_role, organisation FROM accountability_trail "
            "ORDER BY leaf_index"
        ).fetchall()
    expected = []
    for oid, version, topic, state in stored:
        domain = mapper.to_domain_event(StoredEvent(oid, version, topic, bytes(state)))
        assert isinstance(domain, LedgerAggregate.Event)
        kind = topic.rsplit(":", 1)[-1]
        principal = domain.principal
        expected.append(
            (
                kind.split(".")[0],
                kind,
                EVENT_NAMES_ZH[kind],
                domain.reason,
                list(domain.evidence),
                domain.effective_on,
                principal.id,
                principal.role,
                principal.organisation,
            )
        )
    assert trail == expected
    assert ("Agency.Blacklisted", TRICKY_REASON, ["ab" * 32, "cd" * 32]) in [(row[1], *row[3:5]) for row in trail]


def test_each_read_model_is_an_eventsourcing_projection_of_one_event_per_transaction(
    ledger: Ledger, database_url: str
) -> None:
    """``process_event(domain_event, tracking)``, the library's Projection interface, applies one event in a transaction
    with the read model's position (tracked by leaf index in projection_positions): event by event it builds the same
    tables as the runner's pages; an event delivered again is skipped, one beyond the next leaf refused."""
    every_kind_of_event(ledger)
    runner = Runner(database_url, read_models())
    runner.setup()
    views = [LeafTracking(database_url, model.name) for model in read_models()]
    models = [type(model)(view) for model, view in zip(read_models(), views, strict=True)]
    assert all(isinstance(model, Projection) for model in models)
    delivered = list(tracked_events(database_url))
    assert [tracking.notification_id for _, tracking in delivered] == list(range(ledger.head()))
    for domain_event, tracking in delivered:
        for model in models:
            model.process_event(domain_event, tracking)
    assert all(model.view.max_tracking_id(APPLICATION) == ledger.head() - 1 for model in models)
    digests = {model.name: runner.digest(model) for model in models}
    for model in models:
        model.process_event(*delivered[100])  # again: skipped
        assert runner.digest(model) == digests[model.name]
        assert runner.rebuild(model) == digests[model.name], model.name  # the runner's pages, from zero
    written = ledger.register_department(act(FINANCE, date(2022, 8, 1)), "新设部门")
    ((domain_event, tracking),) = tracked_events(database_url, written.position)
    with pytest.raises(ValueError, match="would skip"):
        models[0].process_event(domain_event, Tracking(APPLICATION, written.position + 1))
    with pytest.raises(IntegrityError):
        models[0].view.insert_tracking(Tracking(APPLICATION, written.position - 1))
    models[0].process_event(domain_event, tracking)
    assert models[0].view.max_tracking_id(APPLICATION) == written.position
    for view in views:
        view.close()


def test_read_your_writes(ledger: Ledger, database_url: str) -> None:
    runner = Runner(database_url, read_models())
    runner.setup()
    import threading

    stop = threading.Event()
    follower = threading.Thread(target=runner.run, args=(stop,), kwargs={"idle_timeout": 0.2})
    follower.start()
    try:
        written = ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
        assert runner.wait_for(written.position, timeout=5)
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT event_type_zh FROM accountability_trail WHERE leaf_index = %s", (written.position,)
            ).fetchone()
        assert row == ("部门登记",)
    finally:
        stop.set()
        follower.join()
    assert not runner.wait_for(written.position + 1, timeout=0.05)  # nothing there yet: a bounded wait


def test_a_worker_killed_mid_catch_up_loses_and_repeats_nothing(ledger: Ledger, database_url: str) -> None:
    run_demo(ledger)
    for i in range(600):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{i:03}")
    head = ledger.head()
    env = {**os.environ, "DATABASE_URL": database_url, "JIXIAO_PROJECTION_PAGE": "5"}
    worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=subprocess.DEVNULL)
    runner = Runner(database_url, read_models())
    runner.setup()
    try:
        deadline = time.monotonic() + 60
        while min(status.position for status in runner.status()) < head // 3:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = min(status.position for status in runner.status())
    assert 0 < killed_at < head, "killed mid-way"
    restarted = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env={**env, "JIXIAO_PROJECTION_PAGE": "500"},
        stdout=subprocess.DEVNULL,
    )
    try:
        assert runner.wait_for(head - 1, timeout=60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT leaf_index), min(leaf_index), max(leaf_index) FROM accountability_trail"
        ).fetchone()
    assert rows == (head, head, 0, head - 1)
    for model in read_models():
        incremental = runner.digest(model)
        assert runner.rebuild(model) == incremental, model.name


def indexes_of(conn: psycopg.Connection, tables: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each table's indexes: (name, definition without the table's name), in definition order."""
    return {
        table: [
            (str(name), str(definition))
            for name, definition in conn.execute(
                "SELECT indexname, regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = %s ORDER BY 2, 1",
                (table,),
            )
        ]
        for table in tables
    }


def test_rebuilt_tables_keep_every_index_however_often_they_are_rebuilt(ledger: Ledger, database_url: str) -> None:
    """A rebuild builds ``X__rebuild`` and renames it to ``X``; its indexes must not keep the building name, or the
    next rebuild's CREATE INDEX IF NOT EXISTS finds the name taken and leaves the new table without them."""
    runner = Runner(database_url, read_models())
    runner.setup()
    run_demo(ledger)
    runner.catch_up()
    tables = [table for model in read_models() for table in model.tables(model.name)]
    with psycopg.connect(database_url) as conn:
        created = indexes_of(conn, tables)
    assert all(created.values())
    for _ in range(3):
        for model in read_models():
            digest = runner.digest(model)
            assert runner.rebuild(model) == digest, model.name
        with psycopg.connect(database_url) as conn:
            rebuilt = indexes_of(conn, tables)
        assert {t: [d for _, d in found] for t, found in rebuilt.items()} == {
            t: [d for _, d in found] for t, found in created.items()
        }  # every index, after every rebuild
        assert rebuilt == created  # under the live table's names, so the next rebuild can create its own


def test_setup_adopts_indexes_an_earlier_rebuild_left_under_its_building_name(database_url: str) -> None:
    """What rebuilds by earlier versions left: indexes named ``X__rebuild_…`` on the live table, some missing."""
    runner = Runner(database_url, read_models())
    runner.setup()
    tables = [table for model in read_models() for table in model.tables(model.name)]
    with psycopg.connect(database_url) as conn:
        created = indexes_of(conn, tables)
        for statement in (
            "ALTER INDEX project_status_grade_idx RENAME TO project_status__rebuild_grade_idx",
            "DROP INDEX project_status_stage_idx",  # skipped by a second rebuild
            "ALTER INDEX accountability_trail_pkey RENAME TO accountability_trail__rebuild_pkey",
            "ALTER INDEX coverage_goals_pkey RENAME TO coverage__rebuild_goals_pkey",
            "CREATE INDEX project_status__rebuild_budget_book_idx ON project_status (budget_book, project_id)",
        ):
            conn.execute(statement)
    runner.setup()
    with psycopg.connect(database_url) as conn:
        assert indexes_of(conn, tables) == created


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"department": "农业农村和科技局", "fiscal_year": 2021},
        {"department": "教育局", "fiscal_year": 2021, "stage": "closed"},
        {"fiscal_year": 2021, "stage": "closed", "budget_book": "general_public"},
        {"grade": "优"},
        {"grade": "中", "deviation": "red"},
        {"overdue": True},
        {"overdue": False, "fiscal_year": 2021},
    ],
)
def test_the_project_list_pages_through_every_filter_shape_by_project_id(
    ledger: Ledger, database_url: str, filters: dict[str, object]
) -> None:
    """The filter shapes project_status has an index for, through the list query the API serves."""
    from projections.project_status import ProjectFilter, projects

    runner = Runner(database_url, read_models())
    runner.setup()
    run_demo(ledger)
    runner.catch_up()
    columns = {"deviation": "latest_deviation"}
    clauses = [
        ("overdue_rectifications > 0" if value else "overdue_rectifications = 0")
        if name == "overdue"
        else f"{columns.get(name, name)} = %({name})s"
        for name, value in filters.items()
    ]
    with psycopg.connect(database_url) as conn:
        expected = [
            row[0]
            for row in conn.execute(
                "SELECT project_id FROM project_status"
                + (" WHERE " + " AND ".join(clauses) if clauses else "")
                + " ORDER BY project_id",
                {k: v for k, v in filters.items() if k != "overdue"},
            )
        ]
        seen, after = [], None
        while True:
            page = projects(conn, ProjectFilter(**filters), after=after, limit=3)  # type: ignore[arg-type]
            seen += [row["project_id"] for row in page]
            if len(page) < 3:
                break
            after = page[-1]["project_id"]
    assert seen == expected
    assert expected or filters == {"grade": "中", "deviation": "red"}


def test_counters_are_backfilled_for_tables_built_before_them(ledger: Ledger, database_url: str) -> None:
    """Ranking and coverage keep per-year counters; tables an earlier version built have none until setup counts
    their facts. After that, following the log gives the same tables as a rebuild."""
    runner = Runner(database_url, read_models())
    runner.setup()
    run_demo(ledger)
    runner.catch_up()
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TABLE department_ranking_counts, coverage_counts")  # as an earlier version left it
    runner.setup()
    ledger.register_department(act(FINANCE, date(2022, 8, 1)), "新设部门")
    runner.catch_up()
    for name in ("department_ranking", "coverage"):
        model = read_model(name)
        incremental = runner.digest(model)
        assert runner.rebuild(model) == incremental, name


@pytest.mark.parametrize("together", [False, True], ids=["lanes", "one-transaction"])
@pytest.mark.parametrize("rebuilt", ["accountability_trail", "department_ranking"])
def test_a_read_model_rebuilt_ahead_of_the_others_is_not_applied_again(
    ledger: Ledger, database_url: str, rebuilt: str, together: bool
) -> None:
    """A rebuild leaves its read model at the log's head while the others may be pages behind (the worker was down):
    catching them up must leave it where it is, not move it back to the end of their page and apply it again (the
    trail then failed on its primary key for ever). Whether each lane has its transaction or all models share one."""
    runner = Runner(database_url, read_models(), page=7)
    runner.setup()
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "先登记的部门")
    runner.catch_up()
    run_demo(ledger)  # hundreds of events the read models have not applied
    runner.rebuild(read_model(rebuilt))
    positions = {status.name: status.position for status in runner.status()}
    assert positions[rebuilt] == ledger.head() > max(p for name, p in positions.items() if name != rebuilt) + 7
    if together:
        with psycopg.connect(database_url) as conn:
            runner.catch_up_models(conn, runner.models)
    else:
        runner.catch_up()
    assert all(status.lag == 0 for status in runner.status())
    for model in read_models():
        incremental = runner.digest(model)
        assert runner.rebuild(model) == incremental, model.name


def test_each_page_is_read_and_decoded_once_for_every_lane(ledger: Ledger, database_url: str) -> None:
    """The lanes that read the events share each page's read and decoding; a lane whose read models were rebuilt
    ahead of the others reads its own page, and every table still ends as a rebuild makes it."""
    reads: list[int] = []

    class Counting(Runner):
        def read_events(self, conn: Conn, start: int, limit: int) -> list[LogEvent]:
            reads.append(start)
            return super().read_events(conn, start, limit)

    runner = Counting(database_url, read_models(), page=50)
    assert sum(1 for lane in runner.lanes if lane[0].reads_events) == 3
    runner.setup()
    run_demo(ledger)
    ahead = [model for model in read_models() if model.reads_events and model.lane == 1]
    for model in ahead:  # this lane stands at the head, the others at 0
        runner.rebuild(model)
    reads.clear()
    runner.catch_up()
    assert all(status.lag == 0 for status in runner.status())
    assert sorted(reads) == sorted(set(reads)), "a page was read twice"  # lanes within SharedPages.KEEP pages
    assert set(range(0, ledger.head(), 50)) <= set(reads)
    for model in read_models():
        incremental = runner.digest(model)
        assert runner.rebuild(model) == incremental, model.name


def test_a_lane_waiting_for_a_page_whose_read_failed_reads_it_itself() -> None:
    shared = SharedPages([0, 1])

    def failing(conn: Conn, start: int, limit: int) -> list[LogEvent]:
        raise psycopg.OperationalError("the first lane's connection was lost")

    shared.join(0)
    with pytest.raises(psycopg.OperationalError):
        shared.read(None, 0, 10, failing)  # type: ignore[arg-type]  # no connection is used
    shared.join(1)
    assert shared.read(None, 0, 10, lambda conn, start, limit: []) == []  # type: ignore[arg-type]
    assert not shared.pages  # taken by both lanes: dropped


def test_unknown_projection_is_refused() -> None:
    with pytest.raises(KeyError, match="no read model"):
        read_model("nonsense")


def test_a_department_ranks_once_however_its_projects_spelled_its_name(ledger: Ledger, database_url: str) -> None:
    """Issue 14, item 17: the ranking groups by the name's key, and shows the name as registered."""
    runner = Runner(database_url, read_models())
    runner.setup()
    registered = unicodedata.normalize("NFD", "Zhōngshān区教育局")
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), registered)
    for code, spelling in (("ZS-01", registered), ("ZS-02", "Ｚhōngshān区教育局\u3000")):
        ledger.declare_project(
            act(FINANCE, date(2020, 9, 1)),
            code=code,
            name="x",
            kind="project",
            department=spelling,
            fiscal_year_=2021,
            budget_book="general_public",
            special_category=None,
            requested="1.00",
            new_major=False,
        )
    ledger.assess_department(
        act(FINANCE, date(2022, 4, 30)),
        "zhōngshān区教育局",
        2021,
        dict.fromkeys(
            (
                "running_cost",
                "management_efficiency",
                "duty_performance",
                "social_effect",
                "sustainability",
                "satisfaction",
            ),
            "90",
        ),
    )
    runner.catch_up()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT department, assessment_total, rank FROM department_ranking").fetchall()
        counted = conn.execute("SELECT projects FROM department_ranking_counts").fetchall()
    assert rows == [(registered, Decimal("90.00"), 1)]
    assert counted == [(2,)]
