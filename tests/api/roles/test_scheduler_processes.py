"""Two ``jixiao scheduler`` processes on one database, with work arriving all the while: one leads, the other takes
over within seconds when the leader is killed (SIGKILL), and nothing the scheduler raises is recorded twice.

The jobs run every half second (instead of every five minutes) so that a few seconds hold many runs, a leader killed
in the middle of one, and a take-over that re-runs everything at once. The processes use the real clock, so the
data is fiscal year Y-1 (Y the current year in Shanghai), whose deadlines are past whenever the test runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from api.roles.scheduler import JobBook, current_leader
from ledger.application import Ledger
from ledger.domain.organisations import department_id
from ledger.domain.project import project_id
from ledger.domain.sweeps import SWEEPS
from ledger.log.checkpoint import SigningKey
from ledger.store.tlog import TransparencyLog
from tests.conftest import EDUCATION, FINANCE, FakeClock, act
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS
from tests.ledger.domain.overall_support import overall_indicators

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY = SigningKey.generate("test.example-log")
PROJECTS = 16


def approved(ledger: Ledger, year: int, code: str) -> UUID:
    ledger.declare_project(
        act(EDUCATION, date(year - 1, 9, 1)),
        code=code,
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=year,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )
    pid = project_id(year, code)
    ledger.admit_project(act(FINANCE, date(year - 1, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(year - 1, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(year - 1, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(year, 1, 15)), pid, "1000000.00")
    return pid


def scheduler_process(url: str, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JIXIAO_DATA_DIR": str(tmp_path / name),
        "JIXIAO_SIGNING_KEY": KEY.to_string(),
        "JIXIAO_LOG_ORIGIN": "test.example/log",
        "JIXIAO_SWEEP_INTERVAL": "0.5",
        "JIXIAO_CHECKPOINT_INTERVAL": "0.5",
        "JIXIAO_SCHEDULER_POLL": "0.25",
    }
    with (tmp_path / f"{name}.out").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "scheduler"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def leader_pid(url: str) -> int | None:
    leader = current_leader(url)
    return int(leader[0].rsplit(":", 1)[1]) if leader else None


def ran_deadlines(url: str, pid: int) -> bool:
    run = JobBook(url).runs().get("deadlines")
    return run is not None and run.last_runner.endswith(f":{pid}")


def wait_until(condition: object, timeout: float, explain: Callable[[], str] = lambda: "") -> float:
    """Seconds until ``condition()`` held (fails the test if it never did, with ``explain()``)."""
    started = time.monotonic()
    while not (callable(condition) and condition()):
        assert time.monotonic() - started < timeout, f"timed out\n{explain()}"
        time.sleep(0.05)
    return time.monotonic() - started


def sessions(url: str, tmp_path: Path) -> str:
    """What the database and the schedulers were doing: for a failure message."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT a.pid, a.application_name, a.state, a.wait_event_type, a.wait_event, left(a.query, 80), "
            "l.locktype, l.granted FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND "
            "l.locktype = 'advisory' WHERE a.datname = current_database()"
        ).fetchall()
    logs = "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(tmp_path.glob("*.out")))
    return "\n".join(map(str, rows)) + "\n" + logs


def scheduler_identities(url: str) -> list[tuple[object, ...]]:
    """What makes each scheduled event the one it is: (type, object, what it is about). (Stored topics keep the
    module they were first recorded under: the catalogue's, ``ledger.catalogue:…``, and the working calendar's,
    ``ledger.calendar:…``, are bootstrap's, not the scheduler's.)"""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT split_part(topic, ':', 2), originator_id, convert_from(state, 'UTF8')::jsonb FROM ledger_events "
            "WHERE principal_role = 'system' "
            "AND split_part(topic, ':', 1) NOT IN ('ledger.catalogue', 'ledger.calendar')"
        ).fetchall()
    keys = {
        "Project.DeadlineApproaching": ("deadline", "ref", "due_on"),
        "Project.DeadlineMissed": ("deadline", "ref", "due_on"),
        "Project.DeviationDetected": ("month",),
        "Project.FundingSuspended": ("deviation_month",),
        "Project.RectificationOverdue": ("rectification_no",),
        "Agency.BlacklistExpired": ("blacklisting_no",),
        "DisclosureDuty.DeadlineApproaching": ("deadline", "ref", "due_on"),
        "DisclosureDuty.DeadlineMissed": ("deadline", "ref", "due_on"),
        "OverallGoals.DeadlineApproaching": ("deadline", "ref", "due_on"),  # the overall self-evaluation owed
        "OverallGoals.DeadlineMissed": ("deadline", "ref", "due_on"),
    }
    return [(topic, object_id, *(str(state[key]) for key in keys[topic])) for topic, object_id, state in rows]


def test_two_schedulers_one_database_a_killed_leader_is_replaced_and_nothing_is_raised_twice(
    ledger: Ledger, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    clock.now = datetime.now(UTC)  # the processes' clock: the commands below are dated by the real year
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    year = today.year - 1
    TransparencyLog(database_url, origin="test.example/log", signing_key=KEY).create_tables()
    ledger.register_department(act(FINANCE, date(year - 1, 8, 1)), "教育局")
    assert ledger.exists(department_id("教育局"))
    # The year's coverage target is 100%: no budget without the department's approved overall goals (整体绩效目标).
    ledger.submit_overall_goals(act(EDUCATION, date(year - 1, 10, 1)), "教育局", year, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(year - 1, 10, 20)), "教育局", year, "优")
    pids = [approved(ledger, year, f"P-{i:02}") for i in range(PROJECTS)]
    ledger.register_agency(
        act(FINANCE, date(year - 5, 1, 1)), "某会计师事务所", "执业证书", credit_code=code_of("某会计师事务所")
    )
    ledger.record_misconduct(
        act(FINANCE, date(year - 4, 3, 1), evidence=["a" * 64]), "某会计师事务所", "falsification", "伪造记录"
    )
    ledger.blacklist_agency(act(FINANCE, date(year - 4, 3, 5), "评价结果不实"), "某会计师事务所")  # expired by now

    stop_work = threading.Event()
    work_done: list[str] = []

    def work() -> None:
        """What departments and finance keep doing meanwhile: each item gives the scheduler something to raise."""
        for pid in pids:
            if stop_work.wait(0.25):
                return
            ledger.report_monitoring(
                act(EDUCATION, date(year, 12, 20)), pid, month=12, executed="100000.00", indicator_progress={}
            )  # 10% by December: a red deviation
            ledger.require_rectification(
                act(FINANCE, date(year, 12, 1)), pid, ["资金闲置"], "monitoring", today - timedelta(days=1)
            )  # already overdue
            work_done.append(str(pid))

    first = scheduler_process(database_url, tmp_path, "first")
    second = scheduler_process(database_url, tmp_path, "second")
    processes = {first.pid: first, second.pid: second}
    producer = threading.Thread(target=work)
    try:
        wait_until(lambda: leader_pid(database_url) in processes, 60)
        leader = processes[leader_pid(database_url)]  # type: ignore[index]
        follower = next(process for process in processes.values() if process is not leader)
        # Each project's monitoring report is missed before it comes in: the leader's first deadline sweep runs first
        # (on a busy machine the reports had begun before it, and a report in time is, rightly, never missed).
        wait_until(lambda: ran_deadlines(database_url, leader.pid), 60)
        producer.start()
        wait_until(lambda: len(work_done) >= PROJECTS // 3, 30)
        leader.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        handover = wait_until(
            lambda: leader_pid(database_url) == follower.pid, 20, lambda: sessions(database_url, tmp_path)
        )
        assert leader.wait(timeout=10) == -signal.SIGKILL
        producer.join(timeout=60)
        assert len(work_done) == PROJECTS
        # Quiet: every job has run since the last piece of work, and one more sweep round finds nothing new.
        settled = time.monotonic()
        wait_until(
            lambda: all(
                run.last_started_at.timestamp() > time.time() - (time.monotonic() - settled)
                for run in JobBook(database_url).runs().values()
            ),
            30,
        )
        time.sleep(1.5)
        assert follower.poll() is None, "the follower died"
        assert all(run.last_runner.endswith(f":{follower.pid}") for run in JobBook(database_url).runs().values())
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=30) == 0
        failed = {name: run.last_error for name, run in JobBook(database_url).runs().items() if run.last_status != "ok"}
        assert failed == {}
    finally:
        stop_work.set()
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        if producer.is_alive():
            producer.join(timeout=60)
    assert handover < 5, f"the follower took {handover:.1f}s to take over"
    assert time.monotonic() - killed < 60

    identities = scheduler_identities(database_url)
    duplicates = [identity for identity, count in Counter(identities).items() if count > 1]
    assert duplicates == []
    raised = Counter(identity[0] for identity in identities)
    assert raised["Project.DeviationDetected"] == PROJECTS
    assert raised["Project.RectificationOverdue"] == PROJECTS
    assert raised["Agency.BlacklistExpired"] == 1
    missed = Counter(identity[2] for identity in identities if identity[0] == "Project.DeadlineMissed")
    assert missed["rectification"] == PROJECTS
    assert missed["monitoring_report"] == PROJECTS  # missed before each project's December report came in

    # Nothing was left undone: the same sweeps, run here for today, find nothing more to raise.
    here = Ledger(database_url, timezone=SHANGHAI)
    try:
        assert [here.sweep(name).raised for name in SWEEPS] == [{}] * len(SWEEPS)
    finally:
        here.close()
    with psycopg.connect(database_url) as conn:
        checkpoints = [row[0] for row in conn.execute("SELECT tree_size FROM ledger_checkpoints ORDER BY signed_at")]
    assert len(checkpoints) >= 2
    assert checkpoints == sorted(set(checkpoints)), "checkpoints grow with the log, each signed once"
