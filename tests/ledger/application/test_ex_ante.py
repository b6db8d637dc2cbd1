"""The department's ex-ante assessment on PostgreSQL: the commissioned agency barred once blacklisted, a department's
report through its agency, finance's review watched by the scheduler. A refusal records nothing (``refused``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.domain import rules
from ledger.domain.organisations import department_id
from ledger.domain.project import project_id
from tests.conftest import AGENCY, EDUCATION, FINANCE, FakeClock, act, report
from tests.credit_codes import code_of
from tests.ledger.application.test_application import refused

pytestmark = pytest.mark.db

REPORT: dict[str, Any] = {
    "scores": dict.fromkeys(rules.EX_ANTE_DIMENSIONS, "17"),
    "opinions": dict.fromkeys(rules.EX_ANTE_DIMENSIONS, "论证充分"),
    "opinion": "予以支持",
    "funding_sources": {"市级财政": "4800000.00"},
    "annual_investment": {"2021": "4800000.00"},
}
DOCUMENT = report("ex_ante_report")  # the report filed, a typed document


def new_major(ledger: Ledger) -> UUID:
    for name in ("教育局", "卫生健康委员会"):
        if not ledger.exists(department_id(name)):
            ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), AGENCY.organisation, "甲级", credit_code=code_of(AGENCY.organisation)
    )
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="JY-01",
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="4800000.00",
        new_major=True,
    )
    pid = project_id(2021, "JY-01")
    ledger.commission_ex_ante_agency(act(EDUCATION, date(2020, 9, 3)), pid, AGENCY.organisation)
    return pid


def test_an_agency_blacklisted_since_its_commissioning_files_nothing(ledger: Ledger, clock: FakeClock) -> None:
    pid = new_major(ledger)
    ledger.record_misconduct(act(FINANCE, date(2020, 9, 5)), AGENCY.organisation, "falsification", "弄虚作假")
    ledger.blacklist_agency(act(FINANCE, date(2020, 9, 6), "弄虚作假"), AGENCY.organisation)
    refused(
        ledger,
        "agency-blacklisted",
        lambda: ledger.file_ex_ante(act(AGENCY, date(2020, 9, 10), evidence=[DOCUMENT]), pid, **REPORT),
    )
    refused(
        ledger,
        "agency-blacklisted",
        lambda: ledger.commission_ex_ante_agency(act(EDUCATION, date(2020, 9, 10)), pid, AGENCY.organisation),
    )
    clock.set(date(2024, 1, 2))  # the blacklisting ended in 2023: a report dated within it is still barred
    refused(
        ledger,
        "agency-blacklisted",
        lambda: ledger.file_ex_ante(act(AGENCY, date(2020, 9, 10), evidence=[DOCUMENT]), pid, **REPORT),
    )
    ledger.file_ex_ante(act(EDUCATION, date(2020, 9, 10), evidence=[DOCUMENT]), pid, **REPORT)  # the department may


def test_the_departments_report_names_the_agency_it_commissioned(ledger: Ledger) -> None:
    pid = new_major(ledger)
    written = ledger.file_ex_ante(act(EDUCATION, date(2020, 9, 10), evidence=[DOCUMENT]), pid, **REPORT)
    assert written.events[0].references["filing_no"] == 1
    filing = ledger.project(pid).ex_ante_filings[0]
    assert (filing["agency"], filing["filed_by"]["organisation"], filing["report"]) == (
        AGENCY.organisation,
        "教育局",
        [DOCUMENT["digest"]],  # the filing keeps the digests it cites
    )


def test_the_scheduler_watches_finances_review(ledger: Ledger) -> None:
    pid = new_major(ledger)
    ledger.file_ex_ante(act(EDUCATION, date(2020, 9, 14), evidence=[DOCUMENT]), pid, **REPORT)
    due = ledger.project(pid).ex_ante_filings[0]["review_due"]
    calendar = ledger.working_days()
    days = rules.DEFAULT_PARAMETERS.ex_ante_review_working_days
    assert due == rules.add_working_days(date(2020, 9, 14), days, calendar.holidays, calendar.working_weekends)
    assert due == date(2020, 9, 27)  # Sunday 27 September 2020 was worked (调休上班 before National Day)
    ledger.sweep("deadlines", due)
    ledger.sweep("deadlines", date(2020, 10, 30))
    notices = [
        (entry.event_type, entry.payload["ref"], entry.payload["due_on"], entry.effective_on)
        for entry in ledger.history(pid)
        if entry.event_type.startswith("Project.Deadline") and entry.payload["deadline"] == "ex_ante_review"
    ]
    warned_on = due - timedelta(days=rules.DEFAULT_PARAMETERS.deadline_warning_days)
    assert notices == [
        ("Project.DeadlineApproaching", 1, due, due),  # the first sweep came on the day it was due
        ("Project.DeadlineMissed", 1, due, due + timedelta(days=1)),
    ]
    assert warned_on < due
    ledger.review_ex_ante(act(FINANCE, date(2020, 10, 30)), pid, 1, True)
    assert ledger.sweep("deadlines", date(2020, 11, 2)).raised.get("Project.DeadlineMissed", 0) <= 1  # goals only
