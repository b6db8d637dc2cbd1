"""Disclosure (信息公开) as the department's duty, on PostgreSQL: a project's own department discloses its approved
goals and its results (finance still may); another department, an auditor or an agency may not. A refusal records
nothing."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from ledger.application import Ledger
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, HEALTH, act
from tests.ledger.application.test_application import approved_project, refused

pytestmark = pytest.mark.db


def test_the_projects_own_department_discloses_its_goals_and_results(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    refused(ledger, "not-own-department", lambda: ledger.disclose(act(HEALTH, date(2021, 1, 20)), pid, "goals"))
    for other in (AUDITOR, AGENCY):
        refused(ledger, "role-not-allowed", partial(ledger.disclose, act(other, date(2021, 1, 20)), pid, "goals"))
    written = ledger.disclose(act(EDUCATION, date(2021, 1, 20)), pid, "goals")
    [event] = written.events
    assert event.type == "Project.Disclosed"
    refused(ledger, "already-decided", lambda: ledger.disclose(act(FINANCE, date(2021, 1, 21)), pid, "goals"))
    refused(ledger, "no-results", lambda: ledger.disclose(act(EDUCATION, date(2021, 1, 21)), pid, "results"))
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20)), pid, {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"}, "950000.00"
    )
    ledger.disclose(act(EDUCATION, date(2022, 3, 1)), pid, "results")
    assert ledger.project(pid).disclosed == ["goals", "results"]


def test_finance_still_discloses(ledger: Ledger) -> None:
    pid = approved_project(ledger)
    ledger.disclose(act(FINANCE, date(2021, 1, 20)), pid, "goals")
    assert ledger.project(pid).disclosed == ["goals"]
