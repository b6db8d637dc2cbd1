"""Results into budgets over HTTP: a continuation declared with ``continues``, its approval refused beyond what the
earlier result allows, approved as finance's override with a reason, and GET /budget-linkage showing it."""

from __future__ import annotations

from typing import Any

from api.schemas.overall import OVERALL_GOALS_EXAMPLE
from ledger.domain.organisations import department_id
from projections.budget_linkage import BudgetLinkage
from projections.runner import Runner
from tests.api.conftest import Service
from tests.api.world import GOALS, expect


def project(s: Service, code: str, year: int, on: str, continues: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {
        "code": code,
        "name": "义务教育学生营养改善计划",
        "department": "教育局",
        "fiscal_year": year,
        "budget_book": "general_public",
        "requested": "1000000.00",
        "effective_on": on,
    }
    if continues is not None:
        body["continues"] = continues
    return s.post("education", "/projects", body)


def goals_approved(s: Service, pid: str, year: int) -> None:
    expect(s.post("finance", f"/projects/{pid}/admission", {"effective_on": f"{year - 1}-09-10"}), 200)
    expect(
        s.post("education", f"/projects/{pid}/goals", {"indicators": GOALS, "effective_on": f"{year - 1}-09-20"}), 200
    )
    expect(
        s.post("finance", f"/projects/{pid}/goals/review", {"rating": "优", "effective_on": f"{year - 1}-10-10"}), 200
    )


def overall_goals_approved(s: Service, department: str, year: int) -> None:
    """From 2022 (coverage 100%) a budget waits for the department's approved overall goals (整体绩效目标)."""
    overall = f"/overall-goals/{department_id(department)}/{year}"
    body = {"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": f"{year - 1}-10-15"}
    expect(s.post("education", overall, body), 200)
    expect(s.post("finance", f"{overall}/review", {"rating": "优", "effective_on": f"{year - 1}-10-25"}), 200)


def test_a_continuation_is_capped_by_the_earlier_result_and_an_override_is_shown(
    service: Service, database_url: str
) -> None:
    s = service
    expect(s.post("finance", "/departments", {"name": "教育局", "effective_on": "2020-08-01"}), 201)
    expect(s.post("finance", "/departments", {"name": "卫生健康委员会", "effective_on": "2020-08-01"}), 201)
    earlier = expect(project(s, "JY-01", 2021, "2020-09-01"), 201)["id"]
    goals_approved(s, earlier, 2021)
    approval = {"amount": "1000000.00", "effective_on": "2021-01-11"}
    expect(s.post("finance", f"/projects/{earlier}/budget-approval", approval), 200)
    # Not yet continuable: no results applied.
    refused = expect(project(s, "JY-01-C", 2023, "2022-09-01", {"project_id": earlier}), 409)
    assert refused["code"] == "continuation-without-results"
    assert refused["type"].endswith("continuation-without-results")
    actuals = {"I1": 0, "I2": 200, "I3": 93, "I4": 95}
    evaluation = {
        "actuals": actuals,
        "executed": "1000000.00",
        "evidence": [{"digest": "3c" * 32, "type": "self_evaluation_report"}],
        "effective_on": "2022-02-25",
    }
    expect(s.post("education", f"/projects/{earlier}/self-evaluation", evaluation), 200)
    applied = s.post(
        "finance",
        f"/projects/{earlier}/result-application",
        {"decision": "reduce", "reason": "中", "effective_on": "2022-06-10"},
    )
    expect(applied, 200)

    # Named by fiscal year and code; the body names it one way only, and an unknown one is not found.
    assert expect(project(s, "X", 2023, "2022-09-01", {"fiscal_year": 2021}), 422)
    assert expect(project(s, "X", 2023, "2022-09-01", {"fiscal_year": 2019, "code": "NONE"}), 404)["code"] == (
        "continuation-not-found"
    )
    assert expect(project(s, "X", 2021, "2020-09-01", {"project_id": earlier}), 409)["code"] == (
        "continuation-not-earlier"
    )
    pid = expect(project(s, "JY-01-C", 2023, "2022-09-01", {"fiscal_year": 2021, "code": "jy-01"}), 201)["id"]
    goals_approved(s, pid, 2023)
    overall_goals_approved(s, "教育局", 2023)
    over = {"amount": "900000.01", "effective_on": "2023-01-10"}
    assert expect(s.post("finance", f"/projects/{pid}/budget-approval", over), 409)["code"] == "continuation-over-cap"
    unreasoned = {**over, "override": True}
    assert expect(s.post("finance", f"/projects/{pid}/budget-approval", unreasoned), 422)["code"] == "reason-required"
    done = expect(
        s.post("finance", f"/projects/{pid}/budget-approval", {**unreasoned, "reason": "中小学扩招，市政府决定"}), 200
    )

    rows = expect(s.get("auditor", "/budget-linkage", min_position=done["position"]), 200)
    assert len(rows) == 1
    row = rows[0]
    assert (row["project_id"], row["continues"], row["earlier_code"], row["earlier_fiscal_year"]) == (
        pid,
        earlier,
        "JY-01",
        2021,
    )
    assert (row["earlier_decision"], row["cap"], row["approved"]) == ("reduce", "900000.00", "900000.01")
    assert (row["allowed"], row["refusal"], row["override"]) == (False, "continuation-over-cap", True)
    assert row["override_reason"] == "中小学扩招，市政府决定"
    assert expect(s.get("finance", "/budget-linkage", overrides="true", fiscal_year=2023), 200) == rows
    assert expect(s.get("education", "/budget-linkage"), 200) == rows
    assert expect(s.get("health", "/budget-linkage"), 200) == []
    assert expect(s.get("agency", "/budget-linkage"), 403)["code"] == "role-not-allowed"
    assert expect(s.get(None, "/budget-linkage"), 401)["code"] == "unauthenticated"

    # The read model rebuilt from zero (its results table too) is the table the service kept page by page.
    runner = Runner(database_url, [BudgetLinkage()])
    model = BudgetLinkage()
    incremental = runner.digest(model)
    assert runner.rebuild(model) == incremental
