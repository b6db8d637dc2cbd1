"""``jixiao demo``: the whole cycle on realistic data, idempotent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from api.cli.demo import format_summary, run_demo
from api.cli.demo_story import BAD_AGENCY, DEPARTMENTS, PROJECTS, PROJECTS_2022, UNITS, WITH_OVERALL_GOALS
from ledger.application import Ledger
from tests.api.cli.test_progress import on_a_terminal
from tests.ledger.store.test_log_table import assert_log_is_intact

pytestmark = pytest.mark.db


def topics(url: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT split_part(topic, ':', 2), count(*) FROM ledger_events GROUP BY 1").fetchall()
    return Counter(dict(rows))


def payload_values(url: str, topic: str, key: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb ->> %s FROM ledger_events WHERE topic LIKE %s",
            (key, f"%:{topic}"),
        ).fetchall()
    return Counter(str(value) for (value,) in rows)


def recorded_by(url: str, topic: str) -> Counter[tuple[str, str]]:
    """Who recorded each event of ``topic``: (role, organisation)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT principal_role, principal_org FROM ledger_events WHERE topic LIKE %s", (f"%:{topic}",)
        ).fetchall()
    return Counter((role, org) for role, org in rows)


def document_types(url: str, topic: str) -> Counter[str]:
    """The types of the typed documents the events of ``topic`` cite."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT jsonb_array_elements(convert_from(state, 'UTF8')::jsonb -> 'documents') ->> 'type' "
            "FROM ledger_events WHERE topic LIKE %s",
            (f"%:{topic}",),
        ).fetchall()
    return Counter(str(kind) for (kind,) in rows)


def test_demo_tells_the_whole_story_once(ledger: Ledger, database_url: str) -> None:
    summary = run_demo(ledger)
    assert summary.projects == len(PROJECTS) + len(PROJECTS_2022)
    assert summary.by_year == {2021: len(PROJECTS), 2022: len(PROJECTS_2022)}
    assert len(PROJECTS) >= 30
    books = {project.book for project in PROJECTS}
    assert books == {"general_public", "government_fund", "state_capital", "social_insurance"}
    assert len({project.department for project in PROJECTS}) >= 4

    seen = topics(database_url)
    # 事前绩效评估: three 2021 departments' reports reviewed by finance (one through a commissioned agency, returned
    # once, one 不予支持 approved: the project rejected), 2022's new major WJ22-02's; one assessed by finance
    assert payload_values(database_url, "Project.ExAnteAssessed", "conclusion") == Counter({"support": 1})
    assert seen["Project.ExAnteAgencyCommissioned"] == 1
    assert payload_values(database_url, "Project.ExAnteFiled", "conclusion") == Counter({"support": 4, "reject": 1})
    assert payload_values(database_url, "Project.ExAnteReviewed", "approved") == Counter({"true": 4, "false": 1})
    assert payload_values(database_url, "Project.ExAnteReviewed", "conclusion")["reject"] == 1
    assert payload_values(database_url, "Project.GoalsReviewed", "rating")["中"] == 1
    assert seen["Project.GoalAdjustmentApproved"] == 1
    assert seen["Project.GoalAdjustmentRejected"] == 1
    levels = payload_values(database_url, "Project.DeviationDetected", "level")
    assert levels["yellow"] >= 1
    assert levels["red"] >= 1
    assert seen["Project.FundingSuspended"] == 1
    assert summary.scheduled == {
        "Project.DeadlineApproaching": 42 + len(PROJECTS_2022) - 1,  # the spot check's rectification among them; 2022's
        # January–July report: 8 approved
        "Project.DeadlineMissed": 5,
        "Project.DeviationDetected": 5,
        "Project.FundingSuspended": 1,
        "Project.RectificationOverdue": 1,
        "DisclosureDuty.DeadlineApproaching": 1,  # one unit's 2022 overall goals, disclosed late
        "DisclosureDuty.DeadlineMissed": 1,
        "Project.RectificationEscalated": 1,
        "AuditFinding.DeadlineApproaching": 1,  # 民政局's response to the audit finding, made late
        "AuditFinding.DeadlineMissed": 1,
    }  # all of them raised by the scheduler's sweeps
    # the two-party draw: announced by finance, the audit office's contribution, revealed (nobody steers it alone)
    assert [seen[f"ReEvaluationSample.{step}"] for step in ("Announced", "Contributed", "Revealed", "Drawn")] == [
        1,
        1,
        1,
        0,
    ]
    assert payload_values(database_url, "Project.ReEvaluated", "inflated")["true"] == 1
    # three key evaluations (one commissioned by a department), and a re-evaluation by an agency
    assert seen["Project.KeyEvaluationScored"] == 4
    assert seen["Project.ReEvaluationCommissioned"] == 1
    assert payload_values(database_url, "Project.ResultsApplied", "basis")["re_evaluation"] >= 2
    # 部门委托第三方机构: 民政局 commissions one; finance the others, and reviews and supervises all of them
    assert recorded_by(database_url, "Project.KeyEvaluationCommissioned") == Counter(
        {("finance", "市财政局"): 2, ("department", "民政局"): 1}
    )
    assert recorded_by(database_url, "Project.KeyEvaluationSupervised").keys() == {("finance", "市财政局")}
    assert payload_values(database_url, "Project.ResultsApplied", "basis")["key_evaluation"] == 2
    # 两审一督导 in full, four times: plan and report submitted by the agency, a supervision answered; the falsified
    # evaluation named by the misconduct is voided by the blacklisting, and redone by the other agency
    for step in ("PlanSubmitted", "ReportSubmitted", "Supervised", "SupervisionAnswered"):
        assert seen[f"Project.KeyEvaluation{step}"] == 4, step
    assert document_types(database_url, "Project.KeyEvaluationPlanSubmitted") == Counter({"evaluation_plan": 4})
    assert seen["Project.KeyEvaluationVoided"] == 1
    assert payload_values(database_url, "Agency.MisconductRecorded", "kind")["falsification"] == 1
    assert seen["Agency.Blacklisted"] == 1
    assert seen["Project.RectificationRejected"] == 1
    assert seen["Project.RectificationOverdue"] == 1
    assert seen["Project.SpotChecked"] == 1
    assert payload_values(database_url, "Project.RectificationRequired", "source")["spot_check"] == 1
    assert payload_values(database_url, "Project.EscalationDecided", "decision") == Counter({"recover": 1})
    # 审计发现: the audit office's, about a department and a project, citing its audit report; both answered
    assert recorded_by(database_url, "AuditFinding.Recorded") == Counter({("auditor", "市审计局"): 2})
    assert payload_values(database_url, "AuditFinding.Recorded", "subject_kind") == Counter(
        {"department": 1, "project": 1}
    )
    assert document_types(database_url, "AuditFinding.Recorded") == Counter({"audit_report": 2})
    assert recorded_by(database_url, "AuditFinding.Responded") == Counter(
        {("department", "住房和城乡建设局"): 1, ("department", "民政局"): 1}
    )
    assert payload_values(database_url, "Project.Disclosed", "what").keys() == {"goals", "results"}
    assert payload_values(database_url, "Project.Disclosed", "late").keys() == {"false"}  # within the 20 days
    assert payload_values(database_url, "CongressSubmission.Submitted", "late") == Counter({"false": 3})
    overall_goals = len(WITH_OVERALL_GOALS) + len(DEPARTMENTS) + len(UNITS)  # 2021's five, 2022's everyone
    assert seen["OverallGoals.Submitted"] == overall_goals
    assert seen["DisclosureDuty.Opened"] == 3 + overall_goals  # the congress's three, each organisation's goals
    assert payload_values(database_url, "DisclosureDuty.Disclosed", "late") == Counter(
        {"false": overall_goals - 1, "true": 1}
    )
    assert seen["DisclosureDuty.Fulfilled"] == 3  # the congress's submissions
    assert seen["OverallGoals.ControlFigureAdjusted"] == len(WITH_OVERALL_GOALS)
    assert seen["Project.BudgetApproved"] == len(PROJECTS) - 1 + len(PROJECTS_2022) - 1  # one rejected, one refused
    assert payload_values(database_url, "Project.BudgetApproved", "override") == Counter(
        {"false": len(PROJECTS) - 1 + len(PROJECTS_2022) - 2, "true": 1}
    )
    assert payload_values(database_url, "Decision.Recorded", "kind") == Counter({"praise": 1, "interview": 1})
    assert seen["Decision.RectificationAccepted"] == 1
    assert seen["Project.Closed"] >= 1
    assert [entry["agency"] for entry in summary.blacklist] == [BAD_AGENCY]
    assert any("agency-blacklisted" in refusal for refusal in summary.refusals)
    assert any("continuation-cancelled" in refusal for refusal in summary.refusals)
    shown = format_summary(summary)
    assert "青海某会计师事务所" in shown
    assert "Fiscal years 2021 and 2022" in shown
    assert "审财报〔2022〕9号 MZ-01: 2 findings, due 2022-08-11, answered 2022-08-19, late" in shown

    told: list[tuple[int, int]] = []
    again = run_demo(ledger, progress=lambda done, total: told.append((done, total)))
    assert again.events == summary.events, "running the demo twice recorded something twice"
    total = told[-1][1]
    assert told == [(done, total) for done in range(1, total + 1)]  # each step of the agenda, in order, to the end
    assert again.scheduled == {}
    # The refused budget is asked for again (a refusal records nothing); the blacklisted agency is not, as the second
    # agency's evaluation is recorded.
    assert [refusal.split(":")[0] for refusal in again.refusals] == ["continuation-cancelled"]
    assert topics(database_url) == seen
    assert assert_log_is_intact(database_url) == summary.events


def test_cli_demo_and_db_url_on_the_embedded_database(pg_admin_url: str) -> None:
    """What a new user runs: ``jixiao demo`` then ``jixiao db url``, in a fresh data folder."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("exercises the embedded PostgreSQL; DATABASE_URL is set for this run")
    # Not under pytest's tmp_path: any pytest run (another xdist worker's first tmp_path) makes that 0700 again, and
    # the server's own user then cannot reach its data folder. As in tests/conftest.py.
    folder = Path(tempfile.mkdtemp(prefix="jixiao-test-demo-"))
    env = {**os.environ, "JIXIAO_DATA_DIR": str(folder / "var")}
    jixiao = [sys.executable, "-m", "api.cli"]
    try:
        status, out, screen = on_a_terminal(env, "demo", columns=120)  # as `make demo` runs in a terminal
        assert status == 0, screen
        assert f"{len(PROJECTS) + len(PROJECTS_2022)} projects" in out
        assert "Raised by the scheduler" in out
        steps = re.search(
            r"演示数据 loading the demo: 100%\|.*\| (\d+)/(\d+) \[\d\d:\d\d<00:00, +[\d.]+ steps/s\]", screen
        )
        assert steps, screen[-2000:]
        assert steps.group(1) == steps.group(2)
        shown = [(int(done), int(total)) for done, total in re.findall(r"\| (\d+)/(\d+) \[", screen)]
        assert any(0 < done < total for done, total in shown), "no progress shown on the way"
        url = subprocess.run(
            [*jixiao, "db", "url"], env=env, capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
        with psycopg.connect(url) as conn:
            count = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
        assert count is not None
        assert count[0] > 400
    finally:
        subprocess.run([*jixiao, "db", "stop"], env=env, capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)
