"""Fiscal years 2021 and 2022 simulated day by day with a fake clock, over the demo: every deadline notice, deviation
and consequence the scheduler raises appears exactly once, on the day it falls due, and nothing else does.

The expected list is written out from the story (api/cli/demo.py) and DOMAIN.md's rules, not computed by the code
under test: goals due 2020-10-31, the January–July monitoring report 2021-08-15 (2022-08-15 for 2022's projects), the
self-evaluation 2022-03-31, an organisation's overall goals disclosed within 20 days of their approval, an audit
finding answered within 30 days, warnings 7 days before, misses the day after, deviation answers 10 working days after
detection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from api.cli.demo import run_demo
from api.cli.demo_story import AUDIT_REPORT, LATE_DISCLOSURE, PROJECTS, PROJECTS_2022
from api.config.database import drop_database, ensure_database
from ledger.application import Ledger
from ledger.domain.disclosure import DutyKind, duty_id
from ledger.domain.findings import finding_id
from ledger.domain.project import project_id
from ledger.domain.sweeps import SWEEPS
from tests.conftest import FakeClock

pytestmark = pytest.mark.db

CODES = {project_id(spec.year, spec.code): spec.code for spec in PROJECTS + PROJECTS_2022}
CODES[duty_id(DutyKind.OVERALL_GOALS, 2022, LATE_DISCLOSURE)] = LATE_DISCLOSURE  # its overall goals' disclosure
LATE_ANSWER = "审计发现 MZ-01"  # the audit finding about 城乡低保资金, which 民政局 answers late
CODES[finding_id("project", project_id(2021, "MZ-01"), AUDIT_REPORT)] = LATE_ANSWER
APPROVED = sorted(spec.code for spec in PROJECTS if spec.code != "WT-02")  # 智慧文旅平台建设 is rejected ex ante
# 2022's, but the continuation of 2021's 旅游发展专项资金 (差: 取消), whose budget is refused.
APPROVED_2022 = sorted(spec.code for spec in PROJECTS_2022 if spec.continues != "WT-04")
INFLATED = "JY-02"  # the drawn project whose self-evaluation the re-evaluation finds inflated (the two-party draw,
# its secret and contribution digests of fixed strings, is reproducible from them and the sorted ids of the population:
# uuid5 of each year and code key)


def notice(day: date, event: str, code: str, kind: str, ref: int, due: date) -> tuple[date, str, str, str]:
    return day, event, code, f"{kind} {ref} due {due}"


EXPECTED = sorted(
    [
        # 旅游发展专项资金 submits its goals on 3 November.
        notice(date(2020, 10, 24), "DeadlineApproaching", "WT-04", "goal_submission", 0, date(2020, 10, 31)),
        notice(date(2020, 11, 1), "DeadlineMissed", "WT-04", "goal_submission", 0, date(2020, 10, 31)),
        # April reports on 10 May: two projects below 25% (15%), found the next morning; ten working days to answer
        # (12-14, 17-21, 24-25 May); warned a week before; both answered on 20 May.
        (date(2021, 5, 11), "DeviationDetected", "NY-01", "month 4 yellow, answer by 2021-05-25"),
        (date(2021, 5, 11), "DeviationDetected", "ZJ-01", "month 4 yellow, answer by 2021-05-25"),
        notice(date(2021, 5, 18), "DeadlineApproaching", "NY-01", "deviation_answer", 4, date(2021, 5, 25)),
        notice(date(2021, 5, 18), "DeadlineApproaching", "ZJ-01", "deviation_answer", 4, date(2021, 5, 25)),
        # Every implementing project is warned of the January–July report; all file on 10 August but
        # 国有资本收益上缴调入.
        *[
            notice(date(2021, 8, 8), "DeadlineApproaching", code, "monitoring_report", 0, date(2021, 8, 15))
            for code in APPROVED
        ],
        notice(date(2021, 8, 16), "DeadlineMissed", "GZ-04", "monitoring_report", 0, date(2021, 8, 15)),
        # July reports: 18% is red (more than 15 points below 40%), 33% and 35% yellow; found on 11 August, to be
        # answered by 25 August. Two are answered on 20 August; 农村饮水安全巩固提升's is not, so on 26 August it is
        # missed and its funding suspended.
        (date(2021, 8, 11), "DeviationDetected", "NY-01", "month 7 red, answer by 2021-08-25"),
        (date(2021, 8, 11), "DeviationDetected", "NY-02", "month 7 yellow, answer by 2021-08-25"),
        (date(2021, 8, 11), "DeviationDetected", "ZJ-01", "month 7 yellow, answer by 2021-08-25"),
        *[
            notice(date(2021, 8, 18), "DeadlineApproaching", code, "deviation_answer", 7, date(2021, 8, 25))
            for code in ("NY-01", "NY-02", "ZJ-01")
        ],
        notice(date(2021, 8, 26), "DeadlineMissed", "NY-02", "deviation_answer", 7, date(2021, 8, 25)),
        (date(2021, 8, 26), "FundingSuspended", "NY-02", "month 7"),
        # The spot check's rectification (due 29 October), reported on the 9th, is accepted only on the 27th.
        notice(date(2021, 10, 22), "DeadlineApproaching", "JY-01", "rectification", 1, date(2021, 10, 29)),
        # Its rectification (due 30 November) was reported, rejected on the 16th, open on the morning of the 23rd.
        notice(date(2021, 11, 23), "DeadlineApproaching", "NY-02", "rectification", 1, date(2021, 11, 30)),
        # 国有企业改革成本支出 self-evaluates on 2 April; everyone else on 25 February.
        notice(date(2022, 3, 24), "DeadlineApproaching", "GZ-02", "self_evaluation", 0, date(2022, 3, 31)),
        notice(date(2022, 4, 1), "DeadlineMissed", "GZ-02", "self_evaluation", 0, date(2022, 3, 31)),
        # The inflated self-evaluation's rectification, reported on 11 July, is accepted only on the 29th.
        notice(date(2022, 7, 24), "DeadlineApproaching", INFLATED, "rectification", 1, date(2022, 7, 31)),
        # The key evaluation's rectification is left open.
        notice(date(2022, 8, 24), "DeadlineApproaching", "NY-01", "rectification", 1, date(2022, 8, 31)),
        notice(date(2022, 9, 1), "DeadlineMissed", "NY-01", "rectification", 1, date(2022, 8, 31)),
        (date(2022, 9, 1), "RectificationOverdue", "NY-01", "rectification 1"),
        # 2022's approved projects are warned of their January–July report as 2021's were, and file it on 10 August.
        *[
            notice(date(2022, 8, 8), "DeadlineApproaching", code, "monitoring_report", 0, date(2022, 8, 15))
            for code in APPROVED_2022
        ],
        # 市社会福利院's 2022 overall goals, approved on 15 January, are due by 4 February and disclosed on the 10th.
        notice(date(2022, 1, 28), "DeadlineApproaching", LATE_DISCLOSURE, "overall_goals", 0, date(2022, 2, 4)),
        notice(date(2022, 2, 5), "DeadlineMissed", LATE_DISCLOSURE, "overall_goals", 0, date(2022, 2, 4)),
        # … and escalated ten working days later (中秋节 on 12 September not counted), for finance's 收回.
        (date(2022, 9, 16), "RectificationEscalated", "NY-01", "rectification 1"),
        # The audit findings of 12 July are to be answered by 11 August: 住房和城乡建设局 answers on 2 August, before
        # any warning; 民政局 only on the 19th.
        notice(date(2022, 8, 4), "DeadlineApproaching", LATE_ANSWER, "audit_finding_response", 0, date(2022, 8, 11)),
        notice(date(2022, 8, 12), "DeadlineMissed", LATE_ANSWER, "audit_finding_response", 0, date(2022, 8, 11)),
    ]
)


def log_rows(url: str, *, system_only: bool) -> list[tuple[Any, ...]]:
    # Stored topics keep the module they were first recorded under (LedgerAggregate.TOPIC_MODULE), wherever the
    # classes live now.
    where = (
        "WHERE principal_role = 'system' AND split_part(topic, ':', 1) IN "
        "('ledger.project', 'ledger.organisations', 'ledger.disclosure', 'ledger.findings')"
        if system_only
        else ""
    )
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT leaf_index, split_part(topic, ':', 2), originator_id, originator_version, effective_on, "
            f"principal_id, convert_from(state, 'UTF8')::jsonb - 'timestamp' FROM ledger_events {where} "
            "ORDER BY leaf_index"
        ).fetchall()


def _date(value: dict[str, str]) -> date:
    return date.fromisoformat(value["_data_"])


def described(event: str, state: dict[str, Any]) -> str:
    if event in ("DeadlineApproaching", "DeadlineMissed"):
        return f"{state['deadline']} {state['ref']} due {_date(state['due_on'])}"
    if event == "DeviationDetected":
        return f"month {state['month']} {state['level']}, answer by {_date(state['respond_by'])}"
    if event == "FundingSuspended":
        return f"month {state['deviation_month']}"
    return f"rectification {state['rectification_no']}"


def test_fiscal_years_2021_and_2022_day_by_day(ledger: Ledger, clock: FakeClock, database_url: str) -> None:
    days: list[date] = []

    def morning(day: date) -> None:
        days.append(day)
        clock.set(day)

    summary = run_demo(ledger, every_day=True, on_day=morning)
    first, last = date(2020, 8, 3), date(2022, 9, 30)
    assert days == [first + timedelta(days=n) for n in range((last - first).days + 1)]

    raised = []
    for position, event, object_id, _, effective_on, principal, state in log_rows(database_url, system_only=True):
        name = event.split(".", 1)[1]
        day = summary.scheduled_on[position]  # raised by a sweep, on this simulated morning
        raised.append((day, name, CODES[object_id], described(name, state)))
        assert principal == "scheduler"
        if name == "DeadlineMissed":
            assert effective_on == _date(state["due_on"]) + timedelta(days=1) == day
        else:
            assert effective_on == day
    assert sorted(raised) == EXPECTED
    assert len(summary.scheduled_on) == len(EXPECTED)
    assert sum(summary.scheduled.values()) == len(EXPECTED)

    assert {name: ledger.sweep(name, date(2022, 9, 30)).raised for name in SWEEPS} == {name: {} for name in SWEEPS}


@pytest.fixture
def second_ledger(pg_admin_url: str) -> Iterator[tuple[Ledger, str]]:
    name = f"jixiao_test_{uuid.uuid4().hex[:12]}"
    url = ensure_database(pg_admin_url, name)
    app = Ledger(
        url,
        clock=FakeClock(datetime(2023, 1, 2, 9, 0, tzinfo=UTC)),  # as the ``ledger`` fixture's
        holidays=[date(2021, 10, 1), date(2021, 10, 4)],
    )
    app.bootstrap()
    try:
        yield app, url
    finally:
        app.close()
        drop_database(pg_admin_url, name)


def test_skipping_quiet_days_records_exactly_what_every_day_does(
    ledger: Ledger, clock: FakeClock, database_url: str, second_ledger: tuple[Ledger, str]
) -> None:
    """``jixiao demo`` simulates only the days something can happen — a step, the morning after a write, the watch
    list's next check — so it must record what the day-by-day simulation above does, event for event."""
    run_demo(ledger, every_day=True, on_day=clock.set)
    skipping, url = second_ledger
    run_demo(skipping)
    every_day = [row[1:] for row in log_rows(database_url, system_only=False)]
    quiet_days_skipped = [row[1:] for row in log_rows(url, system_only=False)]
    # Aggregate ids are deterministic (uuid5), so both logs must be the same event for event.
    assert len(quiet_days_skipped) == len(every_day)
    for ours, theirs in zip(quiet_days_skipped, every_day, strict=True):
        assert ours == theirs
