"""``jixiao read MODEL``, run as a process: the issue's read models (department_overall, budget_linkage, disclosure,
decisions) and the others, read as their HTTP list routes answer an auditor — JSON, CSV with Chinese headers, a table
with each code's Chinese label beside it — filtered by year and department; a filter a model has not is refused."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.cli.reads import READS, registry_covered
from ledger.application import Ledger
from ledger.domain.project import project_id
from projections.registry import read_models
from projections.runner import Runner
from tests.api.cli.conftest import jixiao
from tests.conftest import EDUCATION, FINANCE, act
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS
from tests.ledger.domain.overall_support import overall_indicators
from tests.projections.overall_world import a_policy_decided, overall_evaluation_of_a_year


def test_every_read_model_of_the_registry_can_be_read() -> None:
    assert registry_covered() == set()
    assert set(READS) == {model.name for model in read_models()}


@pytest.fixture
def env(ledger: Ledger, database_url: str, tmp_path: Path) -> dict[str, str]:
    """文体旅游广电局's 2021 overall evaluation; 教育局's 2021 policy, its results applied, continued in 2022 within
    the result; 教育局's 2022 overall goals; a 通报表扬 on the policy's evaluation; the read models caught up."""
    for name in ("教育局", "卫生健康委员会", "文体旅游广电局"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), "某咨询评估有限公司", "甲级", credit_code=code_of("某咨询评估有限公司")
    )
    overall_evaluation_of_a_year(ledger)
    a_policy_decided(ledger)
    earlier = project_id(2021, "ZC-2021-99")
    ledger.submit_overall_goals(act(EDUCATION, date(2022, 7, 20)), "教育局", 2022, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2022, 7, 21)), "教育局", 2022, "良")
    ledger.declare_project(
        act(EDUCATION, date(2022, 7, 22)),
        code="ZC-2022-99",
        name="家庭经济困难学生资助政策（续）",
        kind="policy",
        department="教育局",
        fiscal_year_=2022,
        budget_book="general_public",
        special_category=None,
        requested="600000.00",
        new_major=False,
        continues=earlier,
    )
    pid = project_id(2022, "ZC-2022-99")
    ledger.admit_project(act(FINANCE, date(2022, 7, 23)), pid)
    ledger.submit_goals(act(EDUCATION, date(2022, 7, 24)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2022, 7, 25)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2022, 7, 26)), pid, "550000.00")
    ledger.record_decision(act(FINANCE, date(2022, 7, 27), "资助政策绩效良好"), "praise", "教育局", "evaluation",
                           project_id=earlier)  # fmt: skip
    runner = Runner(database_url, read_models())
    runner.setup()
    runner.catch_up()
    return {
        **{k: v for k, v in __import__("os").environ.items() if not k.startswith("JIXIAO_")},
        "DATABASE_URL": database_url,
        "JIXIAO_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }


def read(env: dict[str, str], *args: str) -> Any:
    run = jixiao(env, "read", *args, "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.db
def test_the_issues_read_models_as_json(env: dict[str, str]) -> None:
    overall = read(env, "department_overall", "--year", "2022")
    assert overall["read_model"] == "department_overall"
    assert overall["position"] > 0
    rows = {row["organisation"]: row for row in overall["rows"]}
    assert set(rows) == {"教育局"}
    assert rows["教育局"]["self_evaluation_due"] == "2023-03-31"
    [culture] = read(env, "department_overall", "--year", "2021")["rows"]
    assert culture["organisation"] == "文体旅游广电局"
    assert (culture["result_decision"], culture["result_decision_zh"]) == ("increase", "调增控制数")
    assert [
        row["organisation"] for row in read(env, "department_overall", "--department", "文体旅游广电局")["rows"]
    ] == ["文体旅游广电局"]
    assert read(env, "department_overall", "--year", "2030")["rows"] == []

    [linked] = read(env, "budget_linkage")["rows"]
    assert (linked["code"], linked["earlier_code"], linked["override"]) == ("ZC-2022-99", "ZC-2021-99", False)
    [decided] = read(env, "decisions", "--department", "教育局")["rows"]
    assert (decided["kind"], decided["kind_zh"]) == ("praise", "通报表扬")
    kinds = {(row["kind"], row["code"]) for row in read(env, "disclosure", "--year", "2022")["rows"]}
    assert ("project_goals", "ZC-2022-99") in kinds
    assert {row["fiscal_year"] for row in read(env, "coverage")["rows"]} >= {2021, 2022}
    assert [row["code"] for row in read(env, "project_status", "--year", "2022")["rows"]] == ["ZC-2022-99"]


@pytest.mark.db
def test_a_csv_with_chinese_headers_a_table_with_labels_and_refusals(env: dict[str, str]) -> None:
    run = jixiao(env, "read", "department_overall", "--csv")
    assert run.returncode == 0, run.stderr
    table = list(csv.reader(io.StringIO(run.stdout.removeprefix("\ufeff"))))
    assert "organisation" not in table[0]  # Chinese headers
    assert len(table) == 3  # the header and the two organisations' rows
    english = jixiao(env, "read", "budget_linkage", "--csv", "--header", "en")
    assert english.stdout.removeprefix("\ufeff").splitlines()[0].startswith("project_id,")
    empty = jixiao(env, "read", "decisions", "--year", "2030", "--csv")
    assert empty.returncode == 0
    assert len(empty.stdout.splitlines()) == 1  # the header alone

    shown = jixiao(env, "read", "decisions")
    assert shown.returncode == 0, shown.stderr
    assert "通报表彰约谈 decisions: 1 行 rows" in shown.stdout
    assert "praise  通报表扬" in shown.stdout

    for args, message in (
        (("coverage", "--department", "教育局"), "coverage has no --department filter"),
        (("blacklist", "--year", "2022"), "blacklist has no --year filter"),
        (("nonsense",), "Invalid value for 'MODEL'"),
        (("coverage", "--json", "--csv"), "--json or --csv, not both"),
    ):
        refused = jixiao(env, "read", *args)
        assert refused.returncode == 2, args
        assert message in refused.stderr, refused.stderr
