"""The ruleset (规则集) as adopted: every parameter validated at adoption, a finished year's coverage target kept,
and the versions the ledger already holds read as they were adopted.

No database: the aggregate is driven directly.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.catalogue import Ruleset
from ledger.domain.errors import DomainError
from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters, overall_goals_target
from ledger.domain.values import SYSTEM, Attribution, Principal

D = Decimal
P = DEFAULT_PARAMETERS
FINANCE = Principal("fin-01", "finance", "市财政局")


def ruleset() -> Ruleset:
    return Ruleset.establish(SYSTEM, date(2021, 1, 1))


def adopt(rs: Ruleset, parameters: dict[str, Any], on: date = date(2022, 1, 1), version: int = 2) -> None:
    rs.adopt(version, parameters, Attribution(FINANCE, on, "调整规则"))


def refusal(rs: Ruleset, parameters: dict[str, Any], on: date = date(2022, 1, 1)) -> DomainError:
    pending = len(rs.pending_events)
    with pytest.raises(DomainError) as caught:
        adopt(rs, parameters, on)
    assert len(rs.pending_events) == pending, "a refused adoption recorded something"
    assert rs.current_version == 1
    return caught.value


@pytest.mark.parametrize(
    ("parameters", "code", "field"),
    [
        ({"re_evaluation_rate": "0.0999"}, "re-evaluation-rate-below-minimum", "re_evaluation_rate"),
        ({"re_evaluation_rate": "0.05"}, "re-evaluation-rate-below-minimum", "re_evaluation_rate"),
        ({"goal_submission_due": [-1, 2, 29]}, "invalid-rule-parameter", "goal_submission_due"),
        ({"monitoring_report_due": [0, 7, 31]}, "invalid-rule-parameter", "monitoring_report_due"),
        ({"monitoring_report_month": 13}, "invalid-rule-parameter", "monitoring_report_month"),
        ({"self_evaluation_due": [0, 12, 31]}, "invalid-rule-parameter", "self_evaluation_due"),
        ({"qualitative_shares": [["好", "1"]]}, "invalid-rule-parameter", "qualitative_shares"),
        ({"overall_goals_coverage": []}, "invalid-rule-parameter", "overall_goals_coverage"),
        ({"goals_disclosure_days": 0}, "invalid-rule-parameter", "goals_disclosure_days"),
        ({"results_disclosure_days": "20"}, "invalid-rule-parameter", "results_disclosure_days"),
        ({"congress_goals_due": [1, 1, 1]}, "invalid-rule-parameter", "congress_goals_due"),
        ({"congress_results_due": [0, 6, 30]}, "invalid-rule-parameter", "congress_results_due"),
    ],
)
def test_adoption_validates_every_new_parameter(parameters: dict[str, Any], code: str, field: str) -> None:
    error = refusal(ruleset(), parameters)
    assert (error.code, error.field) == (code, field)
    assert error.title_zh  # the problem's titles, Chinese …
    assert error.title  # … and English


def test_a_rate_of_ten_percent_is_adopted() -> None:
    rs = ruleset()
    adopt(rs, {"re_evaluation_rate": "0.10"})
    assert rs.parameters().re_evaluation_rate == D("0.10")
    adopt(rs, {"re_evaluation_rate": "0.25"}, version=3)
    assert rs.parameters().re_evaluation_rate == D("0.25")


def test_a_version_stored_below_the_floor_still_loads_and_is_not_adopted_again() -> None:
    """A ruleset an earlier release let finance adopt at 5%: replay and reading it work; adopting it anew does not."""
    rs = ruleset()
    adopt(rs, {"re_evaluation_rate": "0.10"})
    rs.versions["2"]["re_evaluation_rate"] = "0.05"  # as such an Adopted event replays
    assert rs.parameters().re_evaluation_rate == D("0.05")
    assert rs.parameters(1) == P
    with pytest.raises(DomainError) as caught:
        adopt(rs, rs.versions["2"], version=3)
    assert caught.value.code == "re-evaluation-rate-below-minimum"


def test_a_stored_version_without_the_new_parameters_reads_with_their_defaults() -> None:
    rs = ruleset()
    rs.versions["1"] = {name: value for name, value in P.to_dict().items() if not name.endswith(("_due", "_days"))}
    del rs.versions["1"]["qualitative_shares"], rs.versions["1"]["overall_goals_coverage"]
    del rs.versions["1"]["monitoring_report_month"]
    assert rs.parameters() == P


def test_a_year_already_over_keeps_its_coverage_target() -> None:
    """Adopted in 2023, a ruleset may set the targets of 2023 on, not those of 2021 or 2022."""
    on = date(2023, 3, 1)
    for schedule, field_year in (
        ([[2021, "50"], [2022, "100"]], 2021),
        ([[2021, "60"], [2022, "90"]], 2022),
        ([[2023, "100"]], 2021),  # 2021 would take 2023's target
        ([[2000, "60"], [2022, "100"]], None),  # the same targets, written another way: allowed
    ):
        rs = ruleset()
        if field_year is None:
            adopt(rs, {"overall_goals_coverage": schedule}, on)
            continue
        error = refusal(rs, {"overall_goals_coverage": schedule}, on)
        assert (error.code, error.field) == ("invalid-rule-parameter", "overall_goals_coverage")
        assert str(field_year) in error.detail
        assert "已结束年度" in error.detail
    rs = ruleset()
    adopt(rs, {"overall_goals_coverage": [[2021, "60"], [2022, "100"], [2023, "80"], [2024, "100"]]}, on)
    assert [overall_goals_target(year, rs.parameters()) for year in (2021, 2022, 2023, 2024, 2025)] == [
        D(60),
        D(100),
        D(80),
        D(100),
        D(100),
    ]


def test_the_year_an_adoption_takes_effect_in_may_still_change() -> None:
    rs = ruleset()
    adopt(rs, {"overall_goals_coverage": [[2021, "60"], [2022, "80"]]}, date(2022, 6, 30))
    assert overall_goals_target(2022, rs.parameters()) == D(80)


def test_the_readme_lists_every_parameter() -> None:
    """The README's rules section is where finance reads what a ruleset holds: every parameter is in its table."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The rules and their parameters (规则集)", 1)[1].split("\n## ", 1)[0]
    named = " ".join(line.split("|")[1] for line in section.splitlines() if line.startswith("| `"))
    assert [f.name for f in dataclasses.fields(RuleParameters) if f"`{f.name}`" not in named] == []
