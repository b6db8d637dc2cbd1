"""Both of the demo's fiscal years, played once for the module, read through the read models: every figure expected
here is computed in the test from the story's data and the rules as DOMAIN.md states them (the grade thresholds 90 /
80 / 60, 调减 10%, the control-figure rates 优 +5% / 良 0 / 中 −5%, disclosure within 20 days, the decision's
rectification within 30), never by the code that recorded or projected it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from api.cli.demo import DemoSummary, run_demo
from api.cli.demo_story import (
    CONTROL_FIGURES,
    DECISIONS,
    DEPARTMENTS,
    LATE_DISCLOSURE,
    LATE_DISCLOSURE_ON,
    OVERALL_EVALUATION,
    OVERALL_GOALS,
    OVERALL_RETURNED,
    OVERALL_SELF_SHARES,
    PROJECTS,
    PROJECTS_2022,
    UNITS,
    WITH_OVERALL_GOALS,
)
from ledger.application import Ledger
from projections.budget_linkage import budget_linkage
from projections.coverage import coverage_rows
from projections.decisions import decisions
from projections.department_overall import coverage, overall_rows
from projections.disclosure import DisclosureFilter, disclosures
from projections.project_status import ProjectFilter, projects
from projections.ranking import ranking
from projections.registry import read_models
from projections.runner import Runner
from tests.conftest import TEST_KEY, FakeClock, fresh_database

pytestmark = pytest.mark.db

# DOMAIN.md's defaults, written out here rather than read from the ruleset.
WEIGHTS = {
    "running_cost": Decimal(15),
    "management_efficiency": Decimal(20),
    "duty_performance": Decimal(30),
    "social_effect": Decimal(15),
    "sustainability": Decimal(10),
    "satisfaction": Decimal(10),
}
CONTROL_RATES = {"优": Decimal("0.05"), "良": Decimal(0), "中": Decimal("-0.05"), "差": Decimal("-0.10")}
RESULT_DECISION = {"优": "prioritise", "良": "maintain", "中": "reduce", "差": "cancel"}  # a grade's default
REDUCE = Decimal("0.10")
ONE_GENERAL = Decimal("0.60")  # 一般: the qualitative share a self-evaluation short of its targets reports
CONTINUATIONS = [spec for spec in PROJECTS_2022 if spec.continues]
EARLIER = {spec.code: spec for spec in PROJECTS}


def grade_of(total: Decimal) -> str:
    return "优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差"


@dataclass
class Played:
    url: str
    summary: DemoSummary
    ledger: Ledger

    def read(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        with psycopg.connect(self.url) as conn:
            return query(conn, *args, **kwargs)


@pytest.fixture(scope="module")
def played(pg_admin_url: str) -> Iterator[Played]:
    """The demo, once, on a database of the module's own, and every read model caught up with it."""
    with fresh_database(pg_admin_url) as url:
        ledger = Ledger(
            url,
            clock=FakeClock(datetime(2023, 1, 2, 9, 0, tzinfo=UTC)),
            holidays=[date(2021, 10, 1), date(2021, 10, 4)],
            signing_key=TEST_KEY,
        )
        ledger.bootstrap()
        try:
            summary = run_demo(ledger)
            runner = Runner(url, read_models())
            runner.setup()
            runner.catch_up()
            yield Played(url, summary, ledger)
        finally:
            ledger.close()


def test_overall_goals_cover_60_percent_of_departments_in_2021_and_everyone_in_2022(played: Played) -> None:
    rows = {row["fiscal_year"]: row for row in played.read(coverage)}
    share_2021 = (Decimal(100 * len(WITH_OVERALL_GOALS)) / len(DEPARTMENTS)).quantize(Decimal("0.01"))
    assert share_2021 == Decimal("62.50")  # five of eight: the fewest departments that reach the plan's 60%
    assert {year: (row["departments"], row["units"]) for year, row in rows.items()} == {
        2021: (len(DEPARTMENTS), len(UNITS)),
        2022: (len(DEPARTMENTS), len(UNITS)),
    }
    first, second = rows[2021], rows[2022]
    assert (first["departments_approved"], first["units_approved"]) == (len(WITH_OVERALL_GOALS), 0)
    assert (first["department_coverage"], first["target"], first["met"]) == (share_2021, Decimal(60), True)
    assert (second["departments_approved"], second["units_approved"]) == (len(DEPARTMENTS), len(UNITS))
    assert (second["department_coverage"], second["unit_coverage"]) == (Decimal(100), Decimal(100))
    assert (second["target"], second["met"]) == (Decimal(100), True)
    assert (first["self_evaluated"], first["evaluated"], first["results_applied"]) == (5, 1, 5)
    assert (second["self_evaluated"], second["evaluated"], second["results_applied"]) == (0, 0, 0)


def expected_self_score(organisation: str) -> Decimal:
    """Each indicator met scores its weight; short by a share, the share of it (a quantitative target); the
    qualitative one is then reported 一般."""
    share = OVERALL_SELF_SHARES.get(organisation, Decimal(1))
    if share >= 1:
        return Decimal(100)
    return sum(
        (
            WEIGHTS[spec[0]] * (ONE_GENERAL if spec[3] == "qualitative" else share)
            for spec in OVERALL_GOALS[organisation]
        ),
        Decimal(0),
    )


def test_the_2021_overall_results_set_each_departments_2022_control_figure(played: Played) -> None:
    rows = {row["organisation"]: row for row in played.read(overall_rows, fiscal_year=2021)}
    assert set(rows) == set(WITH_OVERALL_GOALS)
    evaluated = OVERALL_EVALUATION["organisation"]
    agency_total = sum((Decimal(score) for score in OVERALL_EVALUATION["scores"].values()), Decimal(0))
    for name, row in rows.items():
        self_score = expected_self_score(name)
        assert (row["self_score"], row["self_grade"]) == (self_score, grade_of(self_score)), name
        grade = grade_of(agency_total) if name == evaluated else grade_of(self_score)
        figure = Decimal(CONTROL_FIGURES[name])
        assert (row["result_basis"], row["result_grade"]) == (
            "evaluation" if name == evaluated else "self_evaluation",
            grade,
        ), name
        assert row["next_fiscal_year"] == 2022
        assert row["control_figure"] == figure
        assert row["next_control_figure"] == (figure * (1 + CONTROL_RATES[grade])).quantize(Decimal("0.01")), name
        assert row["control_override"] is False
    assert (rows[evaluated]["evaluation_score"], rows[evaluated]["inflated"]) == (agency_total, False)
    assert {row["result_grade"] for row in rows.values()} == {"优", "良", "中"}  # 奖优罚劣, each way


def test_every_department_and_unit_has_approved_2022_goals_one_after_a_return(played: Played) -> None:
    rows = {row["organisation"]: row for row in played.read(overall_rows, fiscal_year=2022)}
    assert set(rows) == set(DEPARTMENTS) | set(UNITS)
    assert {row["status"] for row in rows.values()} == {"approved"}
    assert {name: row["submissions"] for name, row in rows.items() if row["submissions"] != 1} == {OVERALL_RETURNED: 2}
    assert {name: row["department"] for name, row in rows.items() if row["kind"] == "unit"} == UNITS
    assert {row["reviewed_on"] for row in rows.values()} == {date(2022, 1, 15)}  # with the budget


def year_of(played: Played, year: int) -> dict[str, dict[str, Any]]:
    found = played.read(projects, ProjectFilter(fiscal_year=year), after=None, limit=100)
    return {row["code"]: row for row in found}


def cancelled(played: Played) -> set[str]:
    """The continuations of a 2021 project graded 差 (取消)."""
    graded = year_of(played, 2021)
    return {spec.code for spec in CONTINUATIONS if graded[spec.continues or ""]["grade"] == "差"}


def test_2021_results_bound_the_2022_continuations_budgets(played: Played) -> None:
    rows = {row["code"]: row for row in played.read(budget_linkage, fiscal_year=2022)}
    assert set(rows) == {spec.code for spec in CONTINUATIONS}
    graded = year_of(played, 2021)
    for spec in CONTINUATIONS:
        row, earlier = rows[spec.code], EARLIER[spec.continues or ""]
        assert row["earlier_decision"] == RESULT_DECISION[graded[earlier.code]["grade"]], spec.code
        assert (row["earlier_code"] is None) == (row["approved"] is None)  # known from the approval
        requested = Decimal(spec.requested)
        cap = (Decimal(earlier.requested) * (1 - REDUCE)).quantize(Decimal("0.01"))
        if row["earlier_decision"] == "cancel":  # 取消: refused, nothing approved
            assert (row["approved"], row["override"]) == (None, False)
        elif spec.override is not None:  # beyond the 调减 cap, as finance's decision with its reason
            assert (row["earlier_decision"], row["cap"], row["approved"]) == ("reduce", cap, requested)
            assert (row["allowed"], row["refusal"], row["override"]) == (False, "continuation-over-cap", True)
            assert row["override_reason"] == spec.override
        elif row["earlier_decision"] == "reduce":  # 调减: at most the earlier amount less 10%
            assert requested > cap
            assert (row["cap"], row["approved"], row["allowed"], row["override"]) == (cap, cap, True, False)
        else:
            assert (row["earlier_decision"], row["priority"], row["approved"]) == ("prioritise", True, requested)
    decided = sorted(str(row["earlier_decision"]) for row in rows.values())
    assert decided == ["cancel", "prioritise", "reduce", "reduce"]
    assert [row["code"] for row in played.read(budget_linkage, overrides_only=True)] == [
        spec.code for spec in CONTINUATIONS if spec.override
    ]
    (refused,) = cancelled(played)
    assert [item.split(":")[0] for item in played.summary.refusals if refused in item] == ["continuation-cancelled"]


def test_the_2022_projects_reach_the_read_models_approved_and_monitored(played: Played) -> None:
    rows = year_of(played, 2022)
    assert set(rows) == {spec.code for spec in PROJECTS_2022}
    refused = cancelled(played)
    assert len(refused) == 1
    for spec in PROJECTS_2022:
        row = rows[spec.code]
        assert (row["department"], row["unit"]) == (spec.department, spec.unit)
        if spec.code in refused:
            assert (row["stage"], row["approved"], row["goals_disclosed"]) == ("goals_approved", None, False)
            continue
        assert (row["stage"], row["latest_month"], row["goals_disclosed"]) == ("budget_approved", 7, True)
        assert row["latest_deviation"] is None
    by_year = {row["fiscal_year"]: row for row in played.read(coverage_rows, None)}
    assert (by_year[2022]["declared_projects"], by_year[2022]["approved_projects"]) == (
        len(PROJECTS_2022),
        len(PROJECTS_2022) - len(refused),
    )
    assert by_year[2022]["goals_disclosure_rate"] == Decimal(100)
    assert (by_year[2021]["approved_projects"], by_year[2021]["self_evaluation_coverage"]) == (
        len(PROJECTS) - 1,  # 智慧文旅平台建设, rejected ex ante
        Decimal(100),
    )


def test_disclosures_are_on_time_but_one_unit_s_overall_goals(played: Played) -> None:
    rows = played.read(disclosures, DisclosureFilter(today=date(2022, 9, 30)), limit=1000)
    assert all(row["done_on"] is not None for row in rows if row["kind"] != "overall_results")
    late = [(row["kind"], row["organisation"], row["fiscal_year"]) for row in rows if row["late"]]
    assert late == [("overall_goals", LATE_DISCLOSURE, 2022)]
    (row,) = [row for row in rows if row["late"]]
    approved = date(2022, 1, 15)
    due = approved + timedelta(days=20)
    assert (row["due_on"], row["done_on"]) == (due, LATE_DISCLOSURE_ON)
    assert (row["approaching_on"], row["missed_on"]) == (due - timedelta(days=7), due + timedelta(days=1))
    overall = [row for row in rows if row["kind"] == "overall_goals"]
    assert len(overall) == len(WITH_OVERALL_GOALS) + len(DEPARTMENTS) + len(UNITS)
    goals = [row for row in rows if row["kind"] == "project_goals" and row["fiscal_year"] == 2022]
    assert {row["done_on"] for row in goals} == {date(2022, 1, 25)}
    congress = sorted((row["kind"], row["fiscal_year"], row["late"]) for row in rows if row["kind"].startswith("c"))
    assert congress == [
        ("congress_goals", 2021, False),
        ("congress_goals", 2022, False),
        ("congress_results", 2021, False),
    ]


def test_finance_praises_and_interviews_and_the_interview_is_followed_up(played: Played) -> None:
    rows = played.read(decisions)
    assert [(row["kind"], row["subject"], row["basis"], row["fiscal_year"]) for row in rows] == [
        (item.kind, item.organisation, item.basis, 2021) for item in DECISIONS
    ]
    (praise,) = [row for row in rows if row["kind"] == "praise"]
    assert praise["rectification_status"] is None
    (interview,) = [row for row in rows if row["kind"] == "interview"]
    (story,) = [item for item in DECISIONS if item.kind == "interview"]
    assert interview["rectification_due"] == story.on + timedelta(days=30)
    assert (interview["rectification_status"], interview["reports"]) == ("accepted", 1)
    assert (interview["reported_on"], interview["accepted_on"]) == (story.reported, story.accepted)
    assert (interview["approaching_on"], interview["missed_on"]) == (None, None)  # reported in time
    ranked = {row["department"]: row for row in played.read(ranking, 2021)}
    assert [ranked[name]["rank"] for name in DEPARTMENTS] == list(range(1, len(DEPARTMENTS) + 1))
    assert {name: row["decisions"] for name, row in ranked.items() if row["decisions"]} == {
        item.organisation: [item.kind] for item in DECISIONS if item.basis == "ranking"
    }
