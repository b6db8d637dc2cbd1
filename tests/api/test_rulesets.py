"""``/rulesets`` over HTTP: every parameter of every version shown, and adoption at the plan's 10% floor."""

from __future__ import annotations

import pytest

from ledger.domain.rules import DEFAULT_PARAMETERS
from tests.api.conftest import Service
from tests.api.world import expect

pytestmark = pytest.mark.db


def test_a_ruleset_at_ten_percent_is_adopted_and_every_parameter_is_shown(service: Service) -> None:
    listed = expect(service.get("auditor", "/rulesets"), 200)
    assert listed["current_version"] == 1
    assert listed["versions"]["1"] == DEFAULT_PARAMETERS.to_dict()
    assert listed["versions"]["1"]["overall_goals_coverage"] == [[2021, "60"], [2022, "100"]]
    changes = {"re_evaluation_rate": "0.10", "self_evaluation_due": [1, 4, 30], "goals_disclosure_days": 15}
    body = {"version": 2, "parameters": changes, "reason": "调整时限", "effective_on": "2022-01-10"}
    expect(service.post("finance", "/rulesets", body), 201)
    listed = expect(service.get("auditor", "/rulesets"), 200)
    assert listed["current_version"] == 2
    assert listed["versions"]["2"] == {**DEFAULT_PARAMETERS.to_dict(), **changes}
    assert listed["versions"]["1"] == DEFAULT_PARAMETERS.to_dict()
