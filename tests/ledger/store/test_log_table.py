"""The events table as a log: dense positions, an unbroken hash chain, append-only."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from ledger.application import Ledger
from ledger.domain.errors import DomainError, VersionConflict
from ledger.domain.project import project_id
from ledger.domain.values import Attribution
from ledger.log.integrity import GENESIS_CHAIN_HASH, chain_hash, leaf_hash
from tests.conftest import EDUCATION, FINANCE, act

pytestmark = pytest.mark.db


def rows(url: str) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT leaf_index, originator_id, originator_version, topic, state, leaf_hash, chain_hash, recorded_at, "
            "effective_on, principal_id, principal_role, principal_org FROM ledger_events ORDER BY leaf_index"
        ).fetchall()


def assert_log_is_intact(url: str) -> int:
    """Recompute every leaf and chain hash in Python, from the stored bytes alone."""
    previous = GENESIS_CHAIN_HASH
    entries = rows(url)
    for position, (index, oid, version, topic, state, leaf, chain, *_rest) in enumerate(entries):
        assert index == position, f"gap or disorder at leaf {position}: found {index}"
        assert bytes(leaf) == leaf_hash(oid, version, topic, bytes(state)), f"leaf {index} hash mismatch"
        previous = chain_hash(previous, bytes(leaf))
        assert bytes(chain) == previous, f"chain broken at leaf {index}"
    recorded = [entry[7] for entry in entries]
    assert recorded == sorted(recorded), "recorded_at must not run backwards in commit order"
    return len(entries)


def register(ledger: Ledger, name: str = "教育局") -> None:
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)


def declare(ledger: Ledger, code: str, department: str = "教育局") -> None:
    principal = EDUCATION if department == "教育局" else FINANCE
    ledger.declare_project(
        act(principal, date(2020, 9, 1)),
        code=code,
        name="项目",
        kind="project",
        department=department,
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )


def test_positions_are_dense_and_the_chain_recomputes(ledger: Ledger, database_url: str) -> None:
    register(ledger)
    written = [ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{i}") for i in range(5)]
    # ruleset, library, working calendar (bootstrap), 教育局 came first
    assert [w.position for w in written] == list(range(4, 9))
    assert assert_log_is_intact(database_url) == 9 == ledger.head()


def test_a_refused_or_conflicting_write_leaves_no_gap(ledger: Ledger, database_url: str) -> None:
    register(ledger)
    declare(ledger, "A-1")
    with pytest.raises(DomainError) as refused:
        declare(ledger, "A-1")  # the same project again
    assert refused.value.code == "already-exists"
    project = ledger.project(project_id(2021, "A-1"))
    stale = ledger.project(project.id)
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), project.id)
    stale.admit(ledger.ruleset().parameters(), Attribution(FINANCE, date(2020, 9, 30)))
    with pytest.raises(VersionConflict):
        ledger.commit(stale)  # loses the race: the transaction rolls back after taking the lock
    declare(ledger, "A-2")
    assert (
        assert_log_is_intact(database_url) == ledger.head() == 7
    )  # bootstrap's 3, 教育局, A-1 declared, admitted, A-2


def test_concurrent_writers_keep_one_dense_chain(ledger: Ledger, database_url: str) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"w{worker}-{i}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert assert_log_is_intact(database_url) == 3 + 4 * 15  # bootstrap's ruleset, library and calendar


def test_every_row_names_who_and_when(ledger: Ledger, database_url: str) -> None:
    register(ledger)
    declare(ledger, "B-1")
    last = rows(database_url)[-1]
    assert last[8:] == (date(2020, 9, 1), EDUCATION.id, "department", "教育局")
    assert last[3] == "ledger.project:Project.Declared"


def test_the_readable_columns_are_what_the_stored_json_says(ledger: Ledger, database_url: str) -> None:
    """effective_on and the principal are copied by the recorder in Python; PostgreSQL reading the same stored
    bytes as jsonb must find the same values in every row (including rows with no principal)."""
    from api.cli.demo import run_demo

    run_demo(ledger)
    with psycopg.connect(database_url) as conn:
        differing = conn.execute(
            "SELECT leaf_index, topic FROM ledger_events, LATERAL (SELECT convert_from(state, 'UTF8')::jsonb AS j) p "
            "WHERE (effective_on, principal_id, principal_role, principal_org) IS DISTINCT FROM "
            "((j #>> '{effective_on,_data_}')::date, j #>> '{principal,_data_,id}', j #>> '{principal,_data_,role}', "
            "j #>> '{principal,_data_,organisation}')"
        ).fetchall()
        counts = conn.execute("SELECT count(*), count(effective_on), count(principal_id) FROM ledger_events").fetchone()
    assert differing == []
    assert counts is not None
    total, with_effective_on, with_principal = counts
    assert total > 500
    assert with_effective_on > 0
    assert with_principal > 0


def test_readable_columns_of_unusual_states() -> None:
    from ledger.store.recorder import readable_columns

    assert readable_columns(b"{}") == (None, None, None, None)
    assert readable_columns(b'{"effective_on": null, "principal": {"_data_": {"role": "finance"}}}') == (
        None,
        None,
        "finance",
        None,
    )
    assert readable_columns(
        '{"effective_on": {"_type_": "date_iso", "_data_": "2021-03-31"}, "principal": '
        '{"_type_": "principal", "_data_": {"id": "a", "role": "b", "organisation": "教育局"}}}'.encode()
    ) == (date(2021, 3, 31), "a", "b", "教育局")
    with pytest.raises(json.JSONDecodeError):  # the same as PostgreSQL refusing a state that is not JSON
        readable_columns(b"not json")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = topic",
        "DELETE FROM ledger_events WHERE leaf_index = 0",
        "TRUNCATE ledger_events",
    ],
)
def test_the_log_is_append_only(ledger: Ledger, database_url: str, statement: str) -> None:
    before = rows(database_url)
    with (
        psycopg.connect(database_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(statement)
    assert rows(database_url) == before


def test_commands_report_the_positions_they_wrote(ledger: Ledger, database_url: str) -> None:
    register(ledger)
    declare(ledger, "C-1")
    pid = project_id(2021, "C-1")
    written = ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    entry = rows(database_url)[written.position]
    assert (entry[1], entry[2]) == (pid, written.version) == (pid, 2)


def test_money_round_trips_exactly(ledger: Ledger) -> None:
    register(ledger)
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="M-1",
        name="项目",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1234567.89",
        new_major=False,
    )
    ledger.repository.cache = None
    requested = ledger.project(project_id(2021, "M-1")).requested
    assert requested == Decimal("1234567.89")
    assert isinstance(requested, Decimal)


def test_a_large_batch_commits_in_one_transaction(ledger: Ledger, database_url: str) -> None:
    """Thousands of events in one save (about 2 MB): psycopg's pipeline stalls near 1 MB of parameters."""
    register(ledger)
    declare(ledger, "BULK-1")
    project = ledger.project(project_id(2021, "BULK-1"))
    for i in range(3000):  # straight to the recorder: this tests the log, not the rules
        project.trigger_event(
            type(project).Admitted,
            principal=FINANCE,
            effective_on=date(2021, 1, 1),
            reason=f"批量导入 {i} " + "说明" * 100,
            evidence=[],
        )
    written = ledger.commit(project)
    assert len(written.positions) == 3000
    assert assert_log_is_intact(database_url) == ledger.head()


def test_processes_starting_together_create_the_schema_without_deadlock(ledger: Ledger, database_url: str) -> None:
    """A service, its scheduler and a standby start at once on one database, each creating the schema if it is
    missing: replacing the same trigger functions and triggers concurrently deadlocked without the schema lock."""
    starters = 6
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            Ledger(database_url).close()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    for _ in range(3):
        threads = [threading.Thread(target=start) for _ in range(starters)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    ledger.register_department(act(FINANCE, date(2021, 1, 4)), "教育局")  # the log still takes writes
