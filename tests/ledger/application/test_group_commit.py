"""Group commit (``Ledger.run_together``): commands decided one after another, recorded in one append.

What must hold: a group records exactly what its commands would have recorded one at a time, in the same order;
a refused command in a group records nothing and changes nothing for the others; a conflict with another writer
records nothing of the group and every command then gets the outcome it would have had alone; an object another
process changed is read afresh before a group decides on it.

Over 500 lines: group commit's guarantees, each case set up against a real database with the same helpers; split,
they would be copied.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import DataError, OperationalError, StoredEvent

from ledger.application import Act, CommandKey, Ledger, Outcome, Written
from ledger.domain import rules
from ledger.domain.agencies import agency_id
from ledger.domain.errors import DomainError
from ledger.domain.project import project_id
from tests.conftest import AUDITOR, EDUCATION, FINANCE, HEALTH, FakeClock, act, fresh_database, report
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS, approved_project

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

Command = Callable[[], Written]


@pytest.fixture
def second_database(pg_admin_url: str) -> Iterator[str]:
    with fresh_database(pg_admin_url) as url:
        yield url


DRAW_SECRET = hashlib.sha256(b"group commit draw").hexdigest()
DRAW_COMMITMENT = rules.commitment(bytes.fromhex(DRAW_SECRET))


def a_year_of_commands(ledger: Ledger) -> list[Command]:
    """Two departments' projects through declaration, goals, budget, monitoring and evaluation, interleaved, with
    commands the rules refuse among them (a department acting for another, a budget before approved goals, a
    second declaration of the same code, a stale If-Match)."""
    edu, health = project_id(2021, "G-EDU"), project_id(2021, "G-HW")

    def declare(principal: Any, code: str, department: str) -> Command:
        return lambda: ledger.declare_project(
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

    commands: list[Command] = [
        lambda: ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局"),
        lambda: ledger.register_department(act(FINANCE, date(2020, 8, 1)), "卫生健康委员会"),
        declare(EDUCATION, "G-EDU", "教育局"),
        declare(HEALTH, "G-EDU-2", "教育局"),  # refused: not its own department
        declare(HEALTH, "G-HW", "卫生健康委员会"),
        declare(EDUCATION, "G-EDU", "教育局"),  # refused: already exists
    ]
    for pid, principal in ((edu, EDUCATION), (health, HEALTH)):
        commands += [
            partial(ledger.admit_project, act(FINANCE, date(2020, 9, 30)), pid),
            partial(ledger.submit_goals, act(principal, date(2020, 10, 20)), pid, GOALS),
            partial(ledger.approve_budget, act(FINANCE, date(2020, 11, 1)), pid, "1000000.00"),  # refused
            partial(ledger.review_goals, act(FINANCE, date(2020, 11, 5)), pid, "优"),
            partial(ledger.approve_budget, act(FINANCE, date(2021, 1, 15)), pid, "1000000.00"),
        ]
    for month, executed in ((4, "100000.00"), (6, "450000.00")):
        for pid, principal in ((edu, EDUCATION), (health, HEALTH)):
            commands += [
                partial(
                    ledger.report_monitoring,
                    act(principal, date(2021, month + 1, 5)),
                    pid,
                    month=month,
                    executed=executed,
                    indicator_progress={"I1": Decimal(month * 8)},
                ),
                partial(ledger.review_monitoring, act(FINANCE, date(2021, month + 1, 9)), pid, month, "已审核"),
            ]
    commands += [
        lambda: ledger.report_monitoring(
            act(EDUCATION, date(2021, 8, 5), expected_version=3), edu, month=7, executed="1.00", indicator_progress={}
        ),  # refused: stale version
        lambda: ledger.self_evaluate(
            act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
            edu,
            {"I1": "5000", "I2": "200", "I3": "92", "I4": "90"},
            "1000000.00",
        ),
        lambda: ledger.self_evaluate(
            act(HEALTH, date(2022, 2, 21), evidence=[report("self_evaluation_report")]),
            health,
            {"I1": "4000", "I2": "180", "I3": "90", "I4": "88"},
            "900000.00",
        ),
        # reads the log itself: the two self-evaluations just before it must be in its population
        lambda: ledger.announce_re_evaluation_draw(act(FINANCE, date(2022, 4, 6)), 2021, DRAW_COMMITMENT),
        lambda: ledger.contribute_to_re_evaluation_draw(act(AUDITOR, date(2022, 4, 7)), 2021, "a5" * 32),
        lambda: ledger.reveal_re_evaluation_draw(act(FINANCE, date(2022, 4, 8)), 2021, DRAW_SECRET),
        # one of the two is drawn: its results wait for its re-evaluation (refused), the other's are applied
        lambda: ledger.apply_results(act(FINANCE, date(2022, 6, 10)), edu, None),
        lambda: ledger.apply_results(act(FINANCE, date(2022, 6, 10)), health, None),
    ]
    return commands


def recorded(url: str) -> list[tuple[Any, ...]]:
    """The log as (aggregate, version, event type, stored state without its timestamp), in log order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
    result = []
    for originator, version, topic, state in rows:
        document = json.loads(bytes(state))
        document.pop("timestamp", None)
        result.append((originator, version, topic, json.dumps(document, sort_keys=True)))
    return result


def described(outcomes: list[Outcome[Written]]) -> list[tuple[str, Any]]:
    return [
        ("refused", outcome.error.code)
        if isinstance(outcome.error, DomainError)
        else ("error", repr(outcome.error))
        if outcome.error is not None
        else (
            "recorded",
            (
                outcome.value.aggregate_id,  # type: ignore[union-attr]
                outcome.value.version,  # type: ignore[union-attr]
                [event.type for event in outcome.value.events],  # type: ignore[union-attr]
            ),
        )
        for outcome in outcomes
    ]


def alone(commands: list[Command]) -> list[Outcome[Written]]:
    return [Outcome.of(command) for command in commands]


@pytest.mark.parametrize("group_size", [2, 5, 100])
def test_a_group_records_what_its_commands_would_alone(
    database_url: str, second_database: str, clock: FakeClock, group_size: int
) -> None:
    together, one_by_one = Ledger(database_url, clock=clock), Ledger(second_database, clock=clock)
    try:
        together.bootstrap()
        one_by_one.bootstrap()
        grouped_commands = a_year_of_commands(together)
        outcomes = []
        for start in range(0, len(grouped_commands), group_size):
            outcomes += together.run_together(grouped_commands[start : start + group_size])
        expected = alone(a_year_of_commands(one_by_one))
        assert described(outcomes) == described(expected)
        assert sum(1 for outcome in expected if isinstance(outcome.error, DomainError)) == 6
        assert recorded(database_url) == recorded(second_database)
        for outcome in outcomes:  # every Written is complete once the group is recorded
            if outcome.value is not None and outcome.value.events:
                assert outcome.value.positions == [event.position for event in outcome.value.events]
        sample = together.re_evaluation_sample(2021)
        assert len(sample.population) == 2
    finally:
        together.close()
        one_by_one.close()


def test_a_group_is_one_transaction(ledger: Ledger, database_url: str) -> None:
    pid = approved_project(ledger)
    evaluation = ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, None)
    key = evaluation.events[0].references["evaluation_id"]
    outcomes = ledger.run_together(
        [
            partial(ledger.note_key_evaluation_supervision, act(FINANCE, date(2021, 9, 2)), pid, key, f"督导{i}")
            for i in range(10)
        ]
    )
    positions = [position for outcome in outcomes for position in outcome.value.positions]  # type: ignore[union-attr]
    assert positions == list(range(positions[0], positions[0] + 10))
    assert [outcome.value.version for outcome in outcomes] == list(  # type: ignore[union-attr]
        range(
            evaluation.version + 1,
            evaluation.version + 11,
        )
    )
    with psycopg.connect(database_url) as conn:
        transactions = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM ledger_events WHERE leaf_index = ANY(%s)", (positions,)
        ).fetchone()
    assert transactions == (1,)


def test_a_conflict_with_another_writer_records_nothing_of_the_group_then_each_command_alone(
    ledger: Ledger, database_url: str
) -> None:
    pid = approved_project(ledger)
    other = Ledger(database_url)
    try:
        ledger.project(pid)  # cached here at its current version
        wrote: list[Written] = []

        def the_other_process_writes() -> Written:
            # Between this group's look at the log and its append, another process records a report.
            if not wrote:
                wrote.append(
                    other.report_monitoring(
                        act(EDUCATION, date(2021, 5, 5)), pid, month=4, executed="300000.00", indicator_progress={}
                    )
                )
            return wrote[0]

        head = ledger.head()
        outcomes = ledger.run_together(
            [
                the_other_process_writes,
                lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 9)), pid, 4, "已审核"),
                lambda: ledger.report_monitoring(
                    act(EDUCATION, date(2021, 7, 5)), pid, month=6, executed="450000.00", indicator_progress={}
                ),
            ]
        )
        # Decided on the stale copy, the review would have been refused (no report for month 4 yet) and the report
        # would have conflicted; alone, after the other writer, both are recorded on top of its report.
        assert described(outcomes)[1:] == [
            ("recorded", (pid, wrote[0].version + 1, ["Project.MonitoringReviewed"])),
            ("recorded", (pid, wrote[0].version + 2, ["Project.MonitoringReported"])),
        ]
        assert ledger.head() == head + 3
        latest = ledger.project(pid).latest_monitoring
        assert latest is not None
        assert latest["month"] == 6
    finally:
        other.close()


def test_one_idempotency_key_twice_in_a_group_is_recorded_once(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    key = CommandKey("report-04", hashlib.sha256(b"the request").digest())
    head = ledger.head()

    def report(command: Act) -> Written:  # the use case itself, with no wrapper of the caller's
        return ledger.report_monitoring(command, pid, month=4, executed="100.00", indicator_progress={})

    retried = act(EDUCATION, date(2021, 5, 10), command=key)
    first, second = ledger.run_together([lambda: report(retried), lambda: report(retried)])
    assert first.value is not None
    assert second.value is not None
    assert first.value.positions == second.value.positions == [head]
    assert (first.value.replayed, second.value.replayed) == (False, True)
    assert ledger.head() == head + 1


def test_a_refused_command_leaves_the_rest_of_its_group_as_it_was(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    before = ledger.project(pid).version
    outcomes = ledger.run_together(
        [
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 10)), pid, month=4, executed="300000.00", indicator_progress={}
            ),
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 11)), pid, month=13, executed="1.00", indicator_progress={}
            ),  # refused: no such month
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 12)), pid, 4, "已审核"),
        ]
    )
    assert [kind for kind, _ in described(outcomes)] == ["recorded", "refused", "recorded"]
    assert ledger.project(pid).version == before + 2


def test_what_another_process_recorded_is_seen_before_deciding(ledger: Ledger, database_url: str) -> None:
    pid = approved_project(ledger)
    agencies = ("青海某会计师事务所", "某咨询评估有限公司")
    for name in agencies:
        ledger.register_agency(act(FINANCE, date(2020, 8, 1)), name, "执业证书", credit_code=code_of(name))
        ledger.commission_key_evaluation(act(FINANCE, date(2021, 3, 1)), pid, name)  # both agencies cached here
    other = Ledger(database_url)

    def blacklisted_elsewhere(name: str) -> None:
        other.record_misconduct(act(FINANCE, date(2021, 4, 1)), name, "falsification", "伪造记录")
        other.blacklist_agency(act(FINANCE, date(2021, 4, 5), "评价结果不实"), name)

    try:
        blacklisted_elsewhere(agencies[0])  # a group is the first to look at the log after it
        in_group = ledger.run_together(
            [
                lambda: ledger.note_key_evaluation_supervision(
                    act(FINANCE, date(2021, 9, 1)), pid, f"KE-2021-{ledger.project(pid).code}-1", "督导"
                ),
                lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, agencies[0]),
            ]
        )
        assert described(in_group)[1] == ("refused", "agency-blacklisted")
        blacklisted_elsewhere(agencies[1])  # and now a command alone
        with pytest.raises(DomainError) as alone_refused:
            ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, agencies[1])
        assert alone_refused.value.code == "agency-blacklisted"
    finally:
        other.close()


def test_nobody_builds_on_a_change_before_its_group_is_recorded(ledger: Ledger, database_url: str) -> None:
    pid = approved_project(ledger)
    elsewhere: list[Written] = []

    def another_thread_reports() -> None:  # as the scheduler's thread would, in the same process
        elsewhere.append(
            ledger.report_monitoring(
                act(EDUCATION, date(2021, 7, 5)), pid, month=6, executed="450000.00", indicator_progress={}
            )
        )

    thread = threading.Thread(target=another_thread_reports)

    def start_it_and_give_it_time() -> Written:
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "another thread changed an object whose change is not recorded yet"
        return ledger.review_monitoring(act(FINANCE, date(2021, 5, 9)), pid, 4, "已审核")

    first, second = ledger.run_together(
        [
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 5)), pid, month=4, executed="300000.00", indicator_progress={}
            ),
            start_it_and_give_it_time,
        ]
    )
    thread.join(10)
    assert first.error is None, first
    assert second.error is None, second
    assert elsewhere
    assert second.value is not None
    assert elsewhere[0].version == second.value.version + 1
    with psycopg.connect(database_url) as conn:
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT originator_version FROM ledger_events WHERE originator_id = %s ORDER BY leaf_index", (pid,)
            )
        ]
    assert versions == sorted(versions)


def test_a_new_object_is_not_read_before_its_group_is_recorded(ledger: Ledger) -> None:
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    pid = project_id(2021, "G-NEW")
    seen: list[Any] = []

    def another_thread_reads() -> None:  # as a query or the scheduler's thread would, in the same process
        try:
            seen.append(ledger.project(pid).version)
        except DomainError as error:
            seen.append(error.code)

    thread = threading.Thread(target=another_thread_reads)

    def start_it_and_give_it_time() -> Written:
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "another thread read an object not recorded yet"
        return ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)

    declared, admitted = ledger.run_together(
        [
            lambda: ledger.declare_project(
                act(EDUCATION, date(2020, 9, 1)),
                code="G-NEW",
                name="新项目",
                kind="project",
                department="教育局",
                fiscal_year_=2021,
                budget_book="general_public",
                special_category=None,
                requested="1000.00",
                new_major=False,
            ),
            start_it_and_give_it_time,
        ]
    )
    thread.join(10)
    assert declared.error is None, declared
    assert admitted.error is None, admitted
    assert seen == [admitted.value.version]  # type: ignore[union-attr]


def test_a_group_interrupted_while_deciding_records_nothing_and_holds_no_lock(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    before = ledger.project(pid).version
    head = ledger.head()

    def interrupted() -> Written:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ledger.run_together(
            [
                lambda: ledger.report_monitoring(
                    act(EDUCATION, date(2021, 5, 10)), pid, month=4, executed="300000.00", indicator_progress={}
                ),
                interrupted,
            ]
        )
    assert ledger.head() == head
    assert ledger.project(pid).version == before  # the unrecorded change left the cache
    elsewhere: list[int] = []
    thread = threading.Thread(target=lambda: elsewhere.append(ledger.project(pid).version))
    thread.start()
    thread.join(5)
    assert elsewhere == [before], "the interrupted group still holds the object's lock"


def test_a_value_the_database_refuses_fails_only_its_own_command(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = approved_project(ledger)
    head = ledger.head()
    insert_events = ledger.log_recorder.insert_events

    def refusing(stored: list[StoredEvent], **kwargs: Any) -> Any:
        # as PostgreSQL refuses a value out of a column's range: the statement fails, nothing is recorded
        if any(b"OUT-OF-RANGE" in event.state for event in stored):
            raise DataError("value out of range")
        return insert_events(stored, **kwargs)

    monkeypatch.setattr(ledger.log_recorder, "insert_events", refusing)
    outcomes = ledger.run_together(
        [
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 10)), pid, month=4, executed="300000.00", indicator_progress={}
            ),
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 12)), pid, 4, "OUT-OF-RANGE"),
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 12)), pid, 4, "已审核"),
        ]
    )
    assert [kind for kind, _ in described(outcomes)] == ["recorded", "error", "recorded"]
    assert isinstance(outcomes[1].error, DataError)
    assert ledger.head() == head + 2


def test_an_object_read_before_another_process_changed_it_is_not_kept(ledger: Ledger, database_url: str) -> None:
    """A load racing the cache's refresh: read before another process records a change, cached after the refresh
    that saw the change. It must be read again, not kept until the object next changes."""
    pid = approved_project(ledger)
    ledger.cache.evict(pid)  # the next read of it loads it
    read, go_on = threading.Event(), threading.Event()
    reconstruct = ledger.repository._reconstruct_aggregate

    def slow_reconstruct(*args: Any, **kwargs: Any) -> Any:
        aggregate = reconstruct(*args, **kwargs)
        if not read.is_set():
            read.set()
            go_on.wait(10)
        return aggregate

    ledger.repository._reconstruct_aggregate = slow_reconstruct  # type: ignore[method-assign]
    versions: list[int] = []
    reader = threading.Thread(target=lambda: versions.append(ledger.project(pid).version))
    reader.start()
    other = Ledger(database_url)
    try:
        assert read.wait(10)
        changed = other.report_monitoring(
            act(EDUCATION, date(2021, 5, 5)), pid, month=4, executed="1.00", indicator_progress={}
        )
        ledger.cache.refresh()  # another thread's command looks at the log meanwhile
        go_on.set()
        reader.join(10)
    finally:
        other.close()
    assert versions == [changed.version]
    assert ledger.project(pid).version == changed.version


@pytest.mark.parametrize("changes", [4, 12])
def test_the_cache_follows_the_log_page_by_page_and_after_falling_far_behind(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch, changes: int
) -> None:
    """4 changes elsewhere: read back in pages of 3. 12: more than 2 pages behind, the cache asks for its objects'
    latest versions instead, and goes on from the log's head."""
    monkeypatch.setattr(ledger.cache, "page", 3)
    monkeypatch.setattr(ledger.cache, "pages", 2)
    pid = approved_project(ledger)
    ledger.project(pid)  # cached
    other = Ledger(database_url)
    try:
        evaluation = other.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, None)
        key = evaluation.events[0].references["evaluation_id"]
        for n in range(changes - 1):
            latest = other.note_key_evaluation_supervision(act(FINANCE, date(2021, 9, 2)), pid, key, f"督导{n}")
    finally:
        other.close()
    jumps = ledger.cache.jumps
    assert ledger.project(pid).version == latest.version
    assert ledger.cache.seen == ledger.head()
    assert ledger.cache.jumps == jumps + (1 if changes > 2 * 3 else 0)  # read page by page, or checked by primary key
    after = ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 9, 3)), pid, key, "再督导")
    assert after.version == latest.version + 1


def test_a_group_reads_its_own_changes_even_after_the_cache_let_them_go(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    name = "某咨询评估有限公司"
    ledger.register_agency(act(FINANCE, date(2020, 8, 1)), name, "执业证书", credit_code=code_of(name))
    ledger.record_misconduct(act(FINANCE, date(2021, 4, 1)), name, "falsification", "伪造记录")

    def the_cache_is_full() -> Any:  # as other readers filling the cache would push it out
        ledger.cache.evict(agency_id(name))
        return None

    outcomes = ledger.run_together(
        [
            lambda: ledger.blacklist_agency(act(FINANCE, date(2021, 4, 5), "评价结果不实"), name),
            the_cache_is_full,
            lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 4, 6)), pid, name),
        ]
    )
    assert described([outcomes[0], outcomes[2]])[1] == ("refused", "agency-blacklisted")


def test_a_command_failing_after_it_changed_an_object_of_its_group_leaves_no_trace(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = approved_project(ledger)
    to_stored_event = ledger.mapper.to_stored_event

    def failing(event: Any) -> StoredEvent:
        if getattr(event, "opinion", None) == "FAILS-WHEN-STORED":
            raise ValueError("cannot store this event")
        return to_stored_event(event)

    monkeypatch.setattr(ledger.mapper, "to_stored_event", failing)
    reported, failed, reviewed = ledger.run_together(
        [
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 10)), pid, month=4, executed="300000.00", indicator_progress={}
            ),
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 11)), pid, 4, "FAILS-WHEN-STORED"),
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 12)), pid, 4, "已审核"),
        ]
    )
    assert isinstance(failed.error, ValueError)
    assert reported.value is not None
    assert reviewed.value is not None
    assert reviewed.value.version == reported.value.version + 1
    with psycopg.connect(database_url) as conn:
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT originator_version FROM ledger_events WHERE originator_id = %s ORDER BY leaf_index", (pid,)
            )
        ]
    assert versions == list(range(1, len(versions) + 1))
    assert ledger.project(pid).monitoring_for(4)["review"] == "已审核"


def test_a_refresh_failing_between_sub_groups_keeps_what_the_first_recorded(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = approved_project(ledger)
    head = ledger.head()
    refresh = ledger.cache.refresh
    calls: list[int] = []

    def unreachable_the_second_time() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("the database went away")
        refresh()

    def reads_the_log_itself() -> int:  # as the re-evaluation sample does: it starts a new group
        ledger.groups.alone()
        return ledger.head()

    monkeypatch.setattr(ledger.cache, "refresh", unreachable_the_second_time)
    reported, read, reviewed = ledger.run_together(
        [
            lambda: ledger.report_monitoring(
                act(EDUCATION, date(2021, 5, 10)), pid, month=4, executed="300000.00", indicator_progress={}
            ),
            reads_the_log_itself,
            lambda: ledger.review_monitoring(act(FINANCE, date(2021, 5, 12)), pid, 4, "已审核"),
        ]
    )
    assert reported.error is None, reported
    assert isinstance(reported.value, Written)
    assert reported.value.positions == [head]
    assert isinstance(read.error, OperationalError)
    assert isinstance(reviewed.error, OperationalError)
    assert ledger.head() == head + 1
