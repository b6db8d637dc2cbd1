"""One project's whole cycle over HTTP, as the README's curl walk-through does it, then the auditor's view.

The walk-through touches every route the service has; the last assertion fails when a new route is added and
nobody exercises it.

Over 500 lines: the README's walk-through, one project's whole cycle, told in order: each step depends on the ones
before.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.schemas.ex_ante import EX_ANTE_REPORT_EXAMPLE
from api.schemas.overall import OVERALL_ACTUALS_EXAMPLE as OVERALL_ACTUALS
from api.schemas.overall import OVERALL_GOALS_EXAMPLE as OVERALL_GOALS
from api.schemas.overall import OVERALL_SCORES_EXAMPLE as OVERALL_SCORES
from api.schemas.projects import GOALS_EXAMPLE
from ledger.log import merkle
from ledger.log.audit import verify_bundle
from tests.api.conftest import Service
from tests.conftest import report as typed_document
from tests.credit_codes import code_of

pytestmark = pytest.mark.db

GOALS = GOALS_EXAMPLE  # the goals the API documents, so the documented example is proven to be recorded


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_project_through_the_whole_cycle_and_the_auditors_view(service: Service, tmp_path: Path) -> None:
    s = service
    # Set-up by finance: departments, an agency, a library indicator, a ruleset.
    education = ok(s.post("finance", "/departments", {"name": "教育局", "effective_on": "2020-08-01"}), 201)
    ok(s.post("finance", "/departments", {"name": "卫生健康委员会", "effective_on": "2020-08-01"}), 201)
    school = ok(
        s.post(
            "finance",
            f"/departments/{education['id']}/units",
            {"name": "德令哈市第一中学", "effective_on": "2020-08-03"},
        ),
        201,
    )
    agency = ok(
        s.post(
            "finance",
            "/agencies",
            {
                "name": "某咨询评估有限公司",
                "credentials": "工程咨询甲级",
                "credit_code": "91632800864542843F",
                "effective_on": "2020-08-01",
            },
        ),
        201,
    )
    bad = ok(
        s.post(
            "finance",
            "/agencies",
            {
                "name": "青海某会计师事务所",
                "credentials": "执业证书",
                "credit_code": code_of("青海某会计师事务所"),
                "effective_on": "2020-08-01",
            },
        ),
        201,
    )
    definition = {
        "name": "受益学生人数",
        "level1": "output",
        "level2": "quantity",
        "operator": ">=",
        "standard": "学籍系统统计",
        "unit": "人",
        "industry": "教育",
    }
    ok(
        s.post("finance", "/indicators", {"code": "JY-OUT-01", "definition": definition, "effective_on": "2020-08-01"}),
        201,
    )
    ok(
        s.post(
            "finance",
            "/indicators/JY-OUT-01/revisions",
            {"definition": {**definition, "standard": "学籍与在校"}, "reason": "口径", "effective_on": "2020-08-02"},
        ),
        201,
    )
    ok(
        s.post("finance", "/indicators", {"code": "OLD-01", "definition": definition, "effective_on": "2020-08-01"}),
        201,
    )
    ok(s.post("finance", "/indicators/OLD-01/retirement", {"reason": "被取代", "effective_on": "2020-08-03"}))
    library = ok(s.get("education", "/indicators"))
    assert library["JY-OUT-01"]["version"] == 2
    assert library["OLD-01"]["retired"] is True
    # Overall goals (整体绩效目标) for 2022, a year of full coverage: returned, revised, approved, adjusted.
    overall = f"/overall-goals/{education['id']}/2022"
    submitted = ok(s.post("education", overall, {"indicators": OVERALL_GOALS, "effective_on": "2021-10-15"}))
    refused = s.post("finance", overall, {"indicators": OVERALL_GOALS, "effective_on": "2021-10-15"})
    assert (refused.status_code, refused.json()["code"]) == (403, "role-not-allowed")
    review = {"rating": "中", "required_fixes": "履职效能指标不够细化", "effective_on": "2021-10-20"}
    ok(s.post("finance", f"{overall}/review", review))
    ok(s.post("education", overall, {"indicators": OVERALL_GOALS, "effective_on": "2021-10-22"}))
    ok(s.post("finance", f"{overall}/review", {"rating": "优", "effective_on": "2021-10-25"}))
    adjustment = s.post(
        "education",
        f"{overall}/adjustments",
        {"indicators": OVERALL_GOALS, "reason": "机构职能调整", "effective_on": "2022-03-01"},
    )
    assert ok(adjustment, 201)
    assert adjustment.headers["location"] == f"{overall}/adjustments/1"
    ok(s.post("finance", f"{overall}/adjustments/1/decision", {"approve": True, "effective_on": "2022-03-10"}))
    record = ok(s.get("auditor", f"/objects/{submitted['id']}/state"))
    assert record["state"]["status"] == "approved"
    # Approved on 2021-10-25: the department discloses them (信息公开) within the ruleset's 20 days.
    disclosed = ok(
        s.post("education", f"/disclosures/overall-goals/{education['id']}/2022", {"effective_on": "2021-11-01"}), 201
    )
    [shown] = ok(s.get(None, "/disclosures", kind="overall_goals", min_position=disclosed["position"]))
    assert (shown["organisation"], len(shown["content"]["indicators"])) == ("教育局", len(OVERALL_GOALS))

    # 申报 → 事前评估 → 入库 → 目标 (中, revised, 优) → 预算批复.
    declared = ok(
        s.post(
            "education",
            "/projects",
            {
                "code": "JY-01",
                "name": "义务教育学生营养改善计划",
                "department": "教育局",
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": 4800000.00,
                "new_major": True,
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )
    pid = declared["id"]
    assert ok(s.get("education", "/projects/lookup", fiscal_year=2021, code="JY-01"))["project_id"] == pid
    refused = s.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-10"})
    assert refused.json()["code"] == "ex-ante-required"
    # The department commissions an agency, which files its report (出具绩效评估报告); finance returns it (审核) and
    # then assesses the project itself (tests/api/test_ex_ante.py follows a report to its approval).
    ok(
        s.post(
            "education",
            f"/projects/{pid}/ex-ante-agency",
            {"agency": "某咨询评估有限公司", "effective_on": "2020-09-05"},
        )
    )
    ex_ante_report = EX_ANTE_REPORT_EXAMPLE  # as the API documents it
    filed = s.post("agency", f"/projects/{pid}/ex-ante-reports", {**ex_ante_report, "effective_on": "2020-09-12"})
    assert ok(filed, 201)["events"][0]["references"]["filing_no"] == 1
    assert filed.headers["location"] == f"/projects/{pid}/ex-ante-reports/1"
    pending = s.post("finance", f"/projects/{pid}/ex-ante-assessment", {"scores": {}, "effective_on": "2020-09-13"})
    assert (pending.status_code, pending.json()["code"]) == (409, "ex-ante-under-review")
    returned = {"approved": False, "reason": "另行组织专家评估", "effective_on": "2020-09-15"}
    ok(s.post("finance", f"/projects/{pid}/ex-ante-reports/1/review", returned))
    ok(
        s.post(
            "finance",
            f"/projects/{pid}/ex-ante-assessment",
            {
                "scores": {
                    "necessity": 18,
                    "economy": 17,
                    "goal_rationality": 16,
                    "feasibility": 17,
                    "funding_compliance": 18,
                },
                "evidence": [{"digest": "4d" * 32, "type": "ex_ante_report", "name": "事前绩效评估报告.pdf"}],
                "effective_on": "2020-09-20",
            },
        )
    )
    ok(s.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-30"}))
    ok(s.post("education", f"/projects/{pid}/goals", {"indicators": GOALS, "effective_on": "2020-10-20"}))
    ok(
        s.post(
            "finance",
            f"/projects/{pid}/goals/review",
            {"rating": "中", "required_fixes": "供餐天数偏低", "effective_on": "2020-11-05"},
        )
    )
    assert s.post("finance", f"/projects/{pid}/budget-approval", {"amount": "4800000.00"}).json()["code"] == (
        "goals-not-approved"
    )
    ok(s.post("education", f"/projects/{pid}/goals", {"indicators": GOALS, "effective_on": "2020-11-12"}))
    ok(s.post("finance", f"/projects/{pid}/goals/review", {"rating": "优", "effective_on": "2020-11-20"}))
    approved = ok(
        s.post("finance", f"/projects/{pid}/budget-approval", {"amount": "4800000.00", "effective_on": "2021-01-15"})
    )
    ok(s.post("finance", f"/projects/{pid}/disclosures", {"what": "goals", "effective_on": "2021-01-20"}), 201)

    # Implementation: a goal adjustment, monitoring with a deviation, a corrective action.
    adjusted = [{**GOALS[0], "target": 4800}, *GOALS[1:]]
    adjustment = ok(
        s.post(
            "education",
            f"/projects/{pid}/goal-adjustments",
            {"indicators": adjusted, "reason": "学校合并", "effective_on": "2021-04-01"},
        ),
        201,
    )
    assert adjustment["events"][0]["references"]["adjustment_no"] == 1
    ok(
        s.post(
            "finance", f"/projects/{pid}/goal-adjustments/1/decision", {"approve": True, "effective_on": "2021-04-10"}
        )
    )
    ok(
        s.post(
            "education",
            f"/projects/{pid}/monitoring-reports",
            {"month": 6, "executed": "600000.00", "indicator_progress": {"I1": 40}, "effective_on": "2021-07-05"},
        ),
        201,
    )
    reviewed = ok(
        s.post(
            "finance",
            f"/projects/{pid}/monitoring-reports/6/review",
            {"opinion": "执行进度严重滞后", "effective_on": "2021-07-10"},
        )
    )
    assert [event["type"] for event in reviewed["events"]] == [
        "Project.MonitoringReviewed",
        "Project.DeviationDetected",
    ]
    ok(
        s.post(
            "finance",
            f"/projects/{pid}/corrective-actions",
            {
                "decision": "reduce_budget",
                "amount": "800000.00",
                "deviation_month": 6,
                "reason": "调减预算",
                "effective_on": "2021-07-20",
            },
        ),
        201,
    )
    status = ok(s.get("finance", f"/projects/{pid}", min_position=reviewed["position"] + 1))
    assert (status["latest_deviation"], status["approved"]) == ("red", "4000000.00")

    # After the year: self-evaluation, the sample, re-evaluation, a key evaluation by an agency.
    ok(
        s.post(
            "education",
            f"/projects/{pid}/self-evaluation",
            {
                "actuals": {"I1": 4900, "I2": 200, "I3": 93, "I4": 95},
                "executed": "3900000.00",
                "evidence": [{"digest": "5e" * 32, "type": "self_evaluation_report"}],
                "effective_on": "2022-02-25",
            },
        )
    )
    # 再评价抽查, nobody steering it alone: the single-party draw is retired; finance announces the SHA-256 of its
    # secret, the audit office contributes its own random bytes, finance reveals.
    retired = s.post("finance", "/re-evaluation-samples", {"fiscal_year": 2021, "seed": "抽签"})
    assert (retired.status_code, retired.json()["code"]) == (409, "draw-retired")
    secret = hashlib.sha256("财政局抽查密钥".encode()).hexdigest()
    commitment = hashlib.sha256(bytes.fromhex(secret)).hexdigest()
    ok(
        s.post(
            "finance",
            "/re-evaluation-samples/2021/announcement",
            {"commitment": commitment, "effective_on": "2022-04-01", "reason": "2021年度财政再评价抽查公告"},
        ),
        201,
    )
    contribution = hashlib.sha256("审计局随机数".encode()).hexdigest()
    ok(
        s.post(
            "auditor",
            "/re-evaluation-samples/2021/contribution",
            {"contribution": contribution, "effective_on": "2022-04-06"},
        )
    )
    ok(s.post("finance", "/re-evaluation-samples/2021/reveal", {"secret": secret, "effective_on": "2022-04-08"}))
    sample = ok(s.get("auditor", "/re-evaluation-samples/2021"))
    assert sample["selected"] == [pid]
    assert sample["drawn"] is True
    assert [(draw["status"], draw["status_zh"]) for draw in sample["draws"]] == [("revealed", "已揭示，抽查结果产生")]
    assert sample["draws"][0]["secret"] == secret
    re_evaluated = ok(
        s.post(
            "finance",
            f"/projects/{pid}/re-evaluation",
            {"scores": {"decision": 12, "process": 15, "output": 25, "effect": 20}, "effective_on": "2022-05-16"},
        )
    )
    assert re_evaluated["events"][0]["type"] == "Project.ReEvaluated"
    late = s.post("finance", f"/projects/{pid}/re-evaluation/commission", {"agency": "某咨询评估有限公司"})
    assert (late.status_code, late.json()["code"]) == (409, "already-decided")  # finance re-evaluated itself
    commissioned = ok(
        s.post(
            "finance",
            f"/projects/{pid}/key-evaluations",
            {"agency": "某咨询评估有限公司", "effective_on": "2022-04-10"},
        ),
        201,
    )
    evaluation = commissioned["events"][0]["references"]["evaluation_id"]
    base = f"/projects/{pid}/key-evaluations/{evaluation}"
    # 两审一督导: the agency submits its plan, finance reviews it, supervises, the agency answers the findings and
    # submits its report, finance reviews it: only then is the score accepted. The plan and the report are typed
    # documents, cited by the submission and by the review of it.
    plan = {"digest": "6f" * 32, "type": "evaluation_plan"}
    reviewed = {"digest": "7a" * 32, "type": "evaluation_report"}
    ok(s.post("agency", f"{base}/plan", {"evidence": [plan], "effective_on": "2022-04-15"}))
    ok(s.post("finance", f"{base}/plan-review", {"approved": True, "evidence": [plan], "effective_on": "2022-04-20"}))
    supervised = ok(
        s.post(
            "finance",
            f"{base}/supervision",
            {"notes": "现场督导", "findings": ["样本不足"], "effective_on": "2022-05-01"},
        ),
        201,
    )
    assert supervised["events"][0]["references"]["supervision_no"] == 1
    ok(s.post("agency", f"{base}/supervision/1/answer", {"answer": "已补充样本", "effective_on": "2022-05-03"}))
    ok(s.post("agency", f"{base}/report", {"evidence": [reviewed], "effective_on": "2022-05-06"}))
    ok(
        s.post(
            "finance", f"{base}/report-review", {"approved": True, "evidence": [reviewed], "effective_on": "2022-05-10"}
        )
    )
    ok(
        s.post(
            "agency",
            f"{base}/score",
            {"scores": {"decision": 14, "process": 18, "output": 30, "effect": 26}, "effective_on": "2022-05-12"},
        )
    )

    # Results, rectification, disclosure, closure.
    ok(s.post("finance", f"/projects/{pid}/result-application", {"effective_on": "2022-06-10"}))
    required = ok(
        s.post(
            "finance",
            f"/projects/{pid}/rectifications",
            {
                "issues": ["供餐记录不完整"],
                "source": "re_evaluation",
                "deadline": "2022-09-30",
                "effective_on": "2022-06-15",
            },
        ),
        201,
    )
    number = required["events"][0]["references"]["rectification_no"]
    ok(
        s.post(
            "education",
            f"/projects/{pid}/rectifications/{number}/report",
            {
                "measures": "补齐供餐台账",
                "evidence": [
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    {"digest": "8b" * 32, "type": "rectification_report"},
                ],
                "effective_on": "2022-08-01",
            },
        )
    )
    ok(
        s.post(
            "finance",
            f"/projects/{pid}/rectifications/{number}/decision",
            {"accept": True, "effective_on": "2022-08-10"},
        )
    )
    ok(s.post("finance", f"/projects/{pid}/disclosures", {"what": "results", "effective_on": "2022-08-15"}), 201)
    closed = ok(s.post("finance", f"/projects/{pid}/closure", {"effective_on": "2022-09-30"}))

    # Departments, agencies, the blacklist, rulesets.
    health = ok(s.get("finance", "/departments", min_position=closed["position"]))
    assert {item["name"] for item in health} == {"教育局", "卫生健康委员会"}
    assert [(item["id"], item["department"]) for item in ok(s.get("education", "/units"))] == [(school["id"], "教育局")]
    ok(
        s.post(
            "finance",
            f"/departments/{education['id']}/assessments",
            {
                "fiscal_year": 2021,
                "scores": {
                    "running_cost": 88,
                    "management_efficiency": 90,
                    "duty_performance": 92,
                    "social_effect": 91,
                    "sustainability": 85,
                    "satisfaction": 93,
                },
                "effective_on": "2022-06-30",
            },
        )
    )
    ok(
        s.post(
            "finance",
            f"/agencies/{agency['id']}/quality-reviews",
            {"project_id": pid, "evaluation_id": evaluation, "score": "85", "effective_on": "2022-06-01"},
        ),
        201,
    )
    ok(
        s.post(
            "finance",
            f"/agencies/{bad['id']}/misconduct",
            {"kind": "untrue_results", "description": "评价结果不实", "effective_on": "2022-03-10"},
        ),
        201,
    )
    listed = ok(
        s.post(
            "finance", f"/agencies/{bad['id']}/blacklisting", {"reason": "评价结果不实", "effective_on": "2022-03-18"}
        ),
        201,
    )
    public_blacklist = ok(s.get(None, "/blacklist", min_position=listed["position"]))
    assert [entry["agency_name"] for entry in public_blacklist] == ["青海某会计师事务所"]
    ok(
        s.post(
            "finance", f"/agencies/{bad['id']}/blacklisting/lift", {"reason": "申诉成立", "effective_on": "2022-12-01"}
        )
    )
    agencies = ok(s.get("finance", "/agencies"))
    assert len(agencies) == 2
    assert {item["credit_code"] for item in agencies} == {"91632800864542843F", code_of("青海某会计师事务所")}
    # 资格: suspended, then reinstated, by finance with its reason; a code recorded at registration is not replaced
    suspended = {"qualification": "suspended", "reason": "年检材料不全", "effective_on": "2022-12-02"}
    ok(s.post("finance", f"/agencies/{agency['id']}/qualification", suspended))
    reinstated = {"qualification": "qualified", "reason": "补齐材料", "effective_on": "2022-12-03"}
    ok(s.post("finance", f"/agencies/{agency['id']}/qualification", reinstated))
    code = {"credit_code": "916300001036648540", "effective_on": "2022-12-03"}
    assert s.post("finance", f"/agencies/{agency['id']}/credit-code", code).json()["code"] == "credit-code-recorded"
    ok(
        s.post(
            "finance",
            "/rulesets",
            {
                "version": 2,
                "parameters": {"re_evaluation_rate": "0.15"},
                "reason": "提高抽查比例",
                "effective_on": "2023-01-01",
            },
        ),
        201,
    )
    assert ok(s.get("auditor", "/rulesets"))["current_version"] == 2
    year = ok(s.get(None, "/calendar/2023"))  # the working calendar: public, amended by finance with a reason
    local = {"holidays": [*year["holidays"], {"date": "2023-03-03", "name": "地方假日"}], "reason": "州政府通知"}
    amended = {**local, "working_weekends": year["working_weekends"]}
    last = ok(s.post("finance", "/calendar/2023/amendments", amended), 201)
    assert ok(s.get(None, "/calendar"))["differs_from_source"] == [2023]

    # The bureau's queries.
    page = ok(s.get("finance", "/projects", department="教育局", fiscal_year=2021, min_position=last["position"]))
    assert [item["code"] for item in page["items"]] == ["JY-01"]
    assert page["items"][0]["stage"] == "closed"
    assert page["items"][0]["grade"] == "良"
    public = ok(s.get(None, "/projects"))["items"]
    assert set(public[0]) == {
        "project_id",
        "code",
        "name",
        "department",
        "fiscal_year",
        "budget_book",
        "approved",
        "goals_disclosed",
        "results_disclosed",
        "goals",
        "results",
        "grade",
        "self_score",
        "result_decision",
        "budget_book_zh",  # each code's Chinese beside it
        "grade_zh",
        "result_decision_zh",
    }
    trail = ok(s.get("auditor", "/trail", object=pid, limit=5))
    assert trail["items"][0]["event_type_zh"] == "项目申报"
    assert trail["next_cursor"] is not None
    ranking = ok(s.get("finance", "/departments/ranking", fiscal_year=2021))
    assert ranking[0]["department"] == "教育局"
    coverage = ok(s.get("finance", "/coverage", fiscal_year=2021))
    assert ok(s.get("auditor", "/budget-linkage", fiscal_year=2021)) == []  # continues nothing (test_budget_linkage.py)
    assert coverage[0]["self_evaluation_coverage"] == "100.00"
    assert isinstance(ok(s.get("finance", "/deadlines", on="2021-08-01")), list)

    # The auditor: history, as-of, proofs, an offline bundle.
    history = ok(s.get("auditor", f"/projects/{pid}/history"))
    assert [entry["version"] for entry in history] == list(range(1, len(history) + 1))
    assert all(len(entry["leaf_hash"]) == 64 for entry in history)
    budget_event = next(entry for entry in history if entry["event_type"] == "Project.BudgetApproved")
    as_then = ok(s.get("auditor", f"/projects/{pid}/state", as_of=budget_event["recorded_at"]))
    assert (as_then["version"], as_then["state"]["stage"]) == (approved["version"], "budget_approved")
    assert ok(s.get("auditor", f"/projects/{pid}/state", version=1))["state"]["stage"] == "declared"
    assert ok(s.get("auditor", f"/objects/{bad['id']}/state"))["type"] == "Agency"
    assert ok(s.get("auditor", f"/objects/{bad['id']}/history"))[-1]["event_type"] == "Agency.BlacklistLifted"
    key = ok(s.get(None, "/log/key"))["verifier_key"]
    checkpoint = ok(s.get(None, "/log/checkpoint"))
    assert s.get(None, "/log/checkpoint/note").text == checkpoint["note"]
    assert ok(s.get(None, "/log/checkpoints"))[-1]["tree_size"] == checkpoint["tree_size"]
    leaf = history[0]["leaf_index"]
    proof = ok(s.get(None, "/log/proofs/inclusion", leaf_index=leaf, tree_size=checkpoint["tree_size"]))
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        leaf,
        proof["tree_size"],
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(proof["root_hash"]),
    )
    consistency = ok(s.get(None, "/log/proofs/consistency", first=5))
    assert merkle.verify_consistency(
        5,
        consistency["second"],
        bytes.fromhex(consistency["first_root"]),
        bytes.fromhex(consistency["second_root"]),
        [bytes.fromhex(node) for node in consistency["proof"]],
    )
    assert ok(s.get("auditor", f"/log/leaves/{leaf}"))["leaf_hash"] == history[0]["leaf_hash"]
    keys = ok(s.get(None, "/log/keys"))  # the chain of keys, public: no rotation yet, the key in force
    assert keys == {
        "origin": checkpoint["origin"],
        "verifier_key": ok(s.get(None, "/log/key"))["verifier_key"],
        "rotations": [],
    }
    bundle = s.get("auditor", f"/projects/{pid}/bundle")
    assert bundle.status_code == 200
    report = verify_bundle(bundle.content)
    assert report.ok, report.failures
    assert report.events == len(history)
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_bytes(bundle.content)
    offline = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", "--bundle", str(bundle_file), "--key", key],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(bundle.content)["verifier_key"] == key

    # Operations and the admin's tokens.
    assert ok(s.get(None, "/healthz"))["status"] == "ok"
    assert ok(s.get(None, "/readyz"))["log_size"] == s.ledger.head()
    assert "jixiao_log_size" in s.get(None, "/metrics").text
    assert any(item["code"] == "goals-not-approved" for item in ok(s.get(None, "/problems")))
    assert ok(s.get(None, "/labels"))["stage"]["closed"] == "已关闭"
    issued = ok(
        s.post("admin", "/admin/tokens", {"name": "aud-qian", "role": "auditor", "organisation": "市审计局"}), 201
    )
    assert issued["token"] not in json.dumps(ok(s.get("admin", "/admin/tokens")))
    assert ok(s.client.delete(f"/admin/tokens/{issued['token_id']}", headers=s.headers("admin")))["revoked_at"]

    # Decisions (通报/表彰/约谈) and the submission to the people's congress: their rules are tested in
    # tests/api/test_decisions.py and test_congress.py; here each route answers as the roles say.
    decision = {
        "kind": "interview",
        "organisation": "教育局",
        "basis": "ranking",
        "fiscal_year": 2021,
        "reason": "排名末位",
    }
    assert s.post("education", "/decisions", {**decision, "effective_on": "2022-06-10"}).status_code == 403
    assert isinstance(ok(s.get("finance", "/decisions")), list)
    nowhere = "/decisions/00000000-0000-5000-8000-000000000000/rectification"
    measures = {"measures": "已整改", "effective_on": "2022-07-01"}
    assert s.post("education", f"{nowhere}/report", measures).status_code == 404
    assert s.post("finance", f"{nowhere}/decision", {"accept": True, "effective_on": "2022-07-05"}).status_code == 404
    congress = {"fiscal_year": 2021, "what": "goals", "project_ids": [pid], "effective_on": "2020-12-28"}
    assert s.post("education", "/congress-submissions", congress).status_code == 403

    # 教育局's 2022 overall performance: self-evaluated, evaluated by the agency (两审一督导), its results setting the
    # 2023 control figure; a project is no policy to adjust. The rules: tests/api/test_overall_evaluation.py.
    actuals = {"actuals": OVERALL_ACTUALS, "effective_on": "2023-02-20"}
    ok(s.post("education", f"{overall}/self-evaluation", actuals))
    agency_of = {"agency": "某咨询评估有限公司", "effective_on": "2023-03-01"}
    evaluation = ok(s.post("finance", f"{overall}/evaluations", agency_of), 201)
    at = f"{overall}/evaluations/{evaluation['events'][0]['references']['evaluation_no']}"
    plan_document, final = [typed_document("evaluation_plan")], [typed_document("evaluation_report")]
    ok(s.post("agency", f"{at}/plan", {"evidence": plan_document, "effective_on": "2023-03-05"}))
    ok(
        s.post(
            "finance", f"{at}/plan-review", {"approved": True, "evidence": plan_document, "effective_on": "2023-03-10"}
        )
    )
    supervision = {"notes": "抽查三所学校", "findings": ["样本不足"], "effective_on": "2023-04-01"}
    ok(s.post("finance", f"{at}/supervision", supervision))
    ok(s.post("agency", f"{at}/supervision/1/answer", {"answer": "已补充", "effective_on": "2023-04-08"}))
    ok(s.post("agency", f"{at}/report", {"evidence": final, "effective_on": "2023-04-25"}))
    ok(s.post("finance", f"{at}/report-review", {"approved": True, "evidence": final, "effective_on": "2023-05-01"}))
    ok(s.post("agency", f"{at}/score", {"scores": OVERALL_SCORES, "effective_on": "2023-05-10"}))
    figure = {"control_figure": "12000000.00", "effective_on": "2023-06-01"}
    applied = ok(s.post("finance", f"{overall}/result-application", figure))
    row = ok(s.get("finance", overall, min_position=applied["position"]))
    assert (row["result_grade"], row["next_control_figure"]) == ("良", "12000000.00")
    assert [item["organisation"] for item in ok(s.get("education", "/overall-goals", fiscal_year=2022))] == ["教育局"]
    assert ok(s.get("auditor", "/overall-goals/coverage", fiscal_year=2022))[0]["departments_approved"] == 1
    policy = s.post("finance", f"/projects/{pid}/policy-decision", {"effective_on": "2023-06-02"})
    assert (policy.status_code, policy.json()["code"]) == (409, "not-a-policy")

    # Assurance: a spot check and an escalation need a project still open (tests/api/test_assurance.py has them);
    # here the closed one refuses both, and an audit finding about the department is recorded and answered.
    checked = s.post("finance", f"/projects/{pid}/spot-checks", {"subject": "self_evaluation", "findings": ["抽查"]})
    assert (checked.status_code, checked.json()["code"]) == (409, "project-closed")
    escalation = {"decision": "reduce", "amount": "1.00", "reason": "调减"}
    decided = s.post("finance", f"/projects/{pid}/rectifications/1/escalation", escalation)
    assert (decided.status_code, decided.json()["code"]) == (409, "project-closed")
    audit = {"subject_kind": "department", "subject": "教育局", "reference": "审报1", "findings": ["台账不全"]}
    finding = ok(
        s.post("auditor", "/audit-findings", {**audit, "evidence": [{"digest": "9c" * 32, "type": "audit_report"}]}),
        201,
    )
    answered = ok(s.post("education", f"/audit-findings/{finding['id']}/response", {"response": "已整改"}))
    own = ok(s.get("education", "/audit-findings", min_position=answered["position"]))
    assert [(row["reference"], row["response"]) for row in own] == [("审报1", "已整改")]
    assert ok(s.get("finance", "/spot-checks")) == ok(s.get("finance", "/escalations")) == []
    filed = ok(s.get("auditor", "/documents", type="audit_report"))
    assert {(row["object_type"], row["event_object_id"]) for row in filed} == {
        ("AuditFinding", finding["id"]),
        ("Department", finding["id"]),  # filed under the department it is about too
    }

    hook = ok(s.post("auditor", "/subscriptions", {"url": "http://hooks.test:9/nowhere", "topics": ["Project.*"]}), 201)
    assert len(hook["secret"]) >= 16
    assert [item["id"] for item in ok(s.get("auditor", "/subscriptions"))] == [hook["id"]]
    assert ok(s.post("auditor", f"/subscriptions/{hook['id']}/disable"))["status"] == "disabled"
    assert ok(s.post("auditor", f"/subscriptions/{hook['id']}/enable"))["status"] == "active"
    assert ok(s.get("auditor", f"/subscriptions/{hook['id']}"))["topics"] == ["Project.*"]
    assert isinstance(ok(s.get("auditor", f"/subscriptions/{hook['id']}/deliveries")), list)
    assert s.client.delete(f"/subscriptions/{hook['id']}", headers=s.headers("auditor")).status_code == 204
    feed = ok(s.get("auditor", "/events", after=-1, limit=1000))
    assert [event["position"] for event in feed["events"]] == list(range(feed["head"]))

    document = s.client.get("/openapi.json").json()
    for path in document["paths"]:  # every read model as a download (tests/api/test_downloads.py reads them back)
        if path.endswith(".{format}"):
            for form in ("csv", "xlsx"):
                assert s.get("finance", path.replace("{format}", form), fiscal_year=2021).status_code == 200, path
    routes = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes -= {("GET", "/events/stream")}  # an endless response: followed over real HTTP in test_events.py
    hit = {
        (sample.labels["method"], sample.labels["route"])
        for metric in s.app.state.metrics.registry.collect()
        if metric.name == "jixiao_http_requests"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    assert len(routes) > 60
    assert routes - hit == set(), "routes no test exercises"
    assert Decimal(status["execution_rate"]) == Decimal("15.00")
