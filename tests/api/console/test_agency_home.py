"""An agency's home lists the overall evaluations of departments and units (部门整体绩效评价) commissioned to it, beside
its projects' key evaluations, each with its steps — and no evaluation commissioned to another agency or done by
finance itself."""

from __future__ import annotations

import pytest

from api.schemas.overall import OVERALL_GOALS_EXAMPLE
from projections.department_overall import commissioned_overall
from tests.api.conftest import Service
from tests.api.world import World, build, expect
from tests.conftest import report

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(shared_service: Service) -> tuple[Service, World]:
    s = shared_service
    world = build(s)
    commissioned = {"教育局": "某咨询评估有限公司", "卫生健康委员会": "另一评估公司"}
    organisations = (("education", "教育局", world.education), ("health", "卫生健康委员会", world.health))
    for who, name, organisation_id in organisations:
        at = f"/overall-goals/{organisation_id}/2022"
        expect(s.post(who, at, {"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": "2021-10-15"}), 200)
        expect(s.post("finance", f"{at}/review", {"rating": "优", "effective_on": "2021-10-25"}), 200)
        expect(s.post("finance", f"{at}/evaluations", {"effective_on": "2023-02-01"}), 201)  # finance's own
        agency = {"agency": commissioned[name], "effective_on": "2023-03-01"}
        expect(s.post("finance", f"{at}/evaluations", agency), 201)
    document = [report("evaluation_plan")]
    plan = {"approved": True, "evidence": document, "effective_on": "2023-03-10"}
    evaluation = f"/overall-goals/{world.education}/2022/evaluations/2"
    expect(s.post("agency", f"{evaluation}/plan", {"evidence": document, "effective_on": "2023-03-05"}), 200)
    last = expect(s.post("finance", f"{evaluation}/plan-review", plan), 200)
    expect(s.get("finance", "/readyz", min_position=last["position"]), 200)
    return s, world


def test_the_read_model_answers_the_overall_evaluations_commissioned_to_an_agency(world: tuple[Service, World]) -> None:
    service, _ = world
    with service.app.state.read_pool.connection() as conn:
        mine = commissioned_overall(conn, "某咨询评估有限公司")
        spelled = commissioned_overall(conn, " 某咨询评估有限公司 ")
        other = commissioned_overall(conn, "另一评估公司")
        nobody = commissioned_overall(conn, "未受托机构")
    assert [(row["organisation"], row["fiscal_year"], row["evaluation_nos"]) for row in mine] == [("教育局", 2022, [2])]
    assert spelled == mine
    assert [(row["organisation"], row["evaluation_nos"]) for row in other] == [("卫生健康委员会", [2])]
    assert nobody == []


def test_an_agencys_home_lists_its_overall_evaluations_with_their_steps(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    for lang, heading, number in (
        ("zh", "受托的部门（单位）整体绩效评价", "整体绩效评价（第 2 次）"),
        ("en", "Overall evaluations of departments and units", "Overall evaluation no. 2"),
    ):
        response = service.client.get(
            "/console",
            params={"lang": lang},
            headers={"Cookie": f"jixiao_console={service.tokens['agency']}"},
            follow_redirects=False,
        )
        assert response.status_code == 200, response.text[:1000]
        overall = response.text.split(heading)[1].split("<h2>")[0]
        assert "教育局" in overall
        assert "2022" in overall
        assert number in overall
        assert "第 1 次" not in overall  # finance's own
        assert "no. 1" not in overall
        assert "卫生健康委员会" not in overall  # commissioned to another agency
        # commissioned, plan submitted and approved; the supervision, the answers, the report and the score to do
        assert overall.count("✔") == 3
        assert ("提交评价方案" if lang == "zh" else "Plan submitted") in overall
