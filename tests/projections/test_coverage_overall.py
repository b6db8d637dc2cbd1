"""``coverage`` on PostgreSQL counts the overall goals finance approved, of departments and of units, as the
budget-approval gate does — and ``department_overall``'s coverage, computed apart, agrees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from ledger.application import Ledger
from projections import department_overall
from projections.registry import read_models
from projections.runner import Runner
from tests.conftest import EDUCATION, FINANCE, HEALTH, act
from tests.ledger.domain.overall_support import overall_indicators

pytestmark = pytest.mark.db

SCHOOL, CLINIC = "德令哈市第一中学", "德令哈市第二中学"


def test_coverage_counts_approved_overall_goals_of_departments_and_units(ledger: Ledger, database_url: str) -> None:
    runner = Runner(database_url, read_models(), page=2)  # a review on a later page than its submission
    runner.setup()
    for name in ("教育局", "卫生健康委员会", "民政局"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    for name in (SCHOOL, CLINIC):
        ledger.register_unit(act(FINANCE, date(2020, 8, 2)), "教育局", name)
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), "教育局", 2022, overall_indicators())
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), SCHOOL, 2022, overall_indicators())
    ledger.submit_overall_goals(act(HEALTH, date(2021, 10, 1)), "卫生健康委员会", 2022, overall_indicators())
    runner.catch_up()
    with psycopg.connect(database_url) as conn:  # submitted, not yet approved: nothing covered
        assert conn.execute("SELECT count(*) FROM coverage WHERE departments_with_goals > 0").fetchone() == (0,)
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "教育局", 2022, "优")
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), SCHOOL, 2022, "良", "细化")
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "卫生健康委员会", 2022, "中", "重新申报")
    runner.catch_up()
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT departments, departments_with_goals, goals_coverage, goals_coverage_target, units, "
            "units_with_goals, units_goals_coverage FROM coverage WHERE fiscal_year = 2022"
        ).fetchone()
        [independent] = department_overall.coverage(conn, 2022)
    assert row == (3, 1, Decimal("33.33"), Decimal("100.00"), 2, 1, Decimal("50.00"))
    assert (independent["departments_approved"], independent["units_approved"]) == (row[1], row[5])
    assert (independent["department_coverage"], independent["unit_coverage"]) == (row[2], row[6])
    coverage = next(model for model in read_models() if model.name == "coverage")
    incremental = runner.digest(coverage)
    assert runner.rebuild(coverage) == incremental
