"""A budget approval reads what it checks — the continued project, the ruleset, the department's overall goals — under
one look at the log's tail (``LedgerCore._one_refresh``), and still sees what another process recorded before it."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.application import Ledger
from tests.conftest import EDUCATION, FINANCE, TEST_KEY, FakeClock, act
from tests.ledger.application.test_overall import goals_approved, organisations  # noqa: F401 (a fixture)
from tests.ledger.domain.overall_support import overall_indicators

pytestmark = pytest.mark.db


def test_an_approval_looks_at_the_log_once_and_sees_another_processs_review(
    organisations: Ledger,  # noqa: F811
    database_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = organisations
    pid = goals_approved(ledger, 2022, "JY-01")
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), "教育局", 2022, overall_indicators())
    assert ledger.overall_goals("教育局", 2022).status == "submitted"  # cached here as submitted
    other = Ledger(database_url, clock=clock, signing_key=TEST_KEY)  # another process
    try:
        other.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "教育局", 2022, "优")
    finally:
        other.close()
    refresh = ledger.cache.refresh
    looks: list[int] = []

    def counted() -> None:
        looks.append(1)
        refresh()

    monkeypatch.setattr(ledger.cache, "refresh", counted)
    ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00")  # the gate sees the review
    assert len(looks) == 1
    assert ledger.project(pid).approved_amount is not None
    assert len(looks) == 2  # outside a command, each read looks again
