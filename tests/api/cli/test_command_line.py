"""The ``jixiao`` command line as an operator meets it, each command run as a process: the version, settings as
options (shown in --help with their variables and defaults), a port already taken, JSON listings, projects by code,
and dates as people write them."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import httpx

from projections.registry import read_models
from tests.api.cli.conftest import Signed, jixiao

ROOT = Path(__file__).resolve().parents[3]


def without_state(tmp_path: Path) -> dict[str, str]:
    """This environment with no setting naming a database or key, and a data folder that does not exist yet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "DATABASE_URL"}
    return {**env, "JIXIAO_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_version_prints_the_packages_version(tmp_path: Path) -> None:
    run = jixiao(without_state(tmp_path), "--version")
    assert (run.returncode, run.stdout, run.stderr) == (0, f"jixiao {version('jixiao-ledger')}\n", "")


def test_serve_help_shows_each_setting_with_its_variable_and_default(tmp_path: Path) -> None:
    run = jixiao(without_state(tmp_path), "serve", "--help")
    assert run.returncode == 0, run.stderr
    shown = one_line(run.stdout)
    for option, variable, default in (
        ("--host TEXT", "JIXIAO_HOST", "127.0.0.1"),
        ("--port PORT", "JIXIAO_PORT", "8000"),
        ("--workers N", "JIXIAO_WORKERS", "1"),
        ("--log-level", "JIXIAO_LOG_LEVEL", "info"),
        ("--data-dir PATH", "JIXIAO_DATA_DIR", str(ROOT / "var")),
        ("--database-url TEXT", "DATABASE_URL", "unset"),
        ("--run-scheduler / --no-run-scheduler", "JIXIAO_RUN_SCHEDULER", "true"),
    ):
        assert option in shown, option
        assert f"[env var: {variable}; default: {default}]" in shown, variable
    assert tree(tmp_path) == set(), "--help created something"


def tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_an_option_overrides_its_variable_and_a_bad_one_is_named(tmp_path: Path) -> None:
    env = {**without_state(tmp_path), "DATABASE_URL": "postgresql://other@db.example/elsewhere"}
    given = jixiao(env, "db", "url", "--database-url", "postgresql://clerk:secret@ledger.example/jixiao")
    assert given.returncode == 0, given.stderr
    assert "ledger.example" in given.stdout
    assert "secret" not in given.stdout
    assert "db.example" not in given.stdout
    relative = jixiao(env, "db", "url", "--data-dir", "var")
    assert relative.returncode == 2
    assert "设置无效 invalid setting JIXIAO_DATA_DIR (--data-dir) = 'var'" in relative.stderr
    assert "绝对路径" in relative.stderr
    assert "Traceback" not in relative.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_taken_port_fails_at_once_before_any_banner_and_sets_nothing_up(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = jixiao(without_state(tmp_path), "serve", "--port", str(port))
    assert run.returncode == 2
    assert run.stdout == "", "a banner was printed"
    assert f"端口已被占用：127.0.0.1:{port} 已有其他程序在监听" in run.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in run.stderr
    assert "--port (JIXIAO_PORT)" in run.stderr
    assert "Traceback" not in run.stderr
    assert tree(tmp_path) == set(), "the key or the database was set up before the address was checked"


def test_serve_listens_where_its_options_say_over_the_environment(signed: Signed) -> None:
    port, elsewhere = free_port(), free_port()
    env = {**signed.env, "JIXIAO_PORT": str(elsewhere), "JIXIAO_RUN_SCHEDULER": "true"}
    options = ["--port", str(port), "--workers", "2", "--log-level", "warning", "--no-run-scheduler"]
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", *options], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, "the service exited"
                try:
                    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                    if ready.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the service did not become ready"
                time.sleep(0.1)
            assert "scheduler" not in ready.json()["roles"]  # --no-run-scheduler over JIXIAO_RUN_SCHEDULER=true
        finally:
            process.terminate()
            process.wait(timeout=60)
        out.seek(0)
        banner = out.read().decode()
    assert banner.startswith(f"Jixiao Ledger on http://127.0.0.1:{port}  —  OpenAPI docs: http://127.0.0.1:{port}/docs")


def test_listings_print_json(signed: Signed) -> None:
    created = jixiao(signed.env, "token", "create", "--role", "auditor", "--org", "市审计局", "--name", "aud-json")
    assert created.returncode == 0, created.stderr
    token_id = created.stderr.split(":")[0]
    tokens = json.loads(jixiao(signed.env, "token", "list", "--json").stdout)["tokens"]
    mine = next(item for item in tokens if item["token_id"] == token_id)
    assert (mine["name"], mine["role"], mine["organisation"], mine["live"]) == ("aud-json", "auditor", "市审计局", True)
    assert mine["revoked_at"] is None
    assert created.stdout.strip() not in json.dumps(tokens)  # the secret is never listed

    status = json.loads(jixiao(signed.env, "projections", "status", "--json").stdout)["projections"]
    assert [item["name"] for item in status] == [model.name for model in read_models()]
    table = jixiao(signed.env, "projections", "status").stdout.splitlines()[1:]
    for item, row in zip(status, table, strict=True):
        name, position, head, lag, digest = row.split()
        assert (item["name"], f"{item['position']:,}", f"{item['head']:,}", f"{item['lag']:,}") == (
            name,
            position,
            head,
            lag,
        )
        assert item["digest"].startswith(digest)
        assert item["head"] == 35

    ran = jixiao(signed.env, "jobs", "run", "deadlines", "--today", "2021/08/16")
    assert ran.returncode == 0, ran.stderr
    listed = json.loads(jixiao(signed.env, "jobs", "list", "--json").stdout)
    assert listed["leader"] is None
    jobs = {item["name"]: item for item in listed["jobs"]}
    assert jobs["deadlines"]["runs"] == 1
    assert jobs["deadlines"]["last_run"]["today"] == "2021-08-16"
    assert jobs["deadlines"]["last_run"]["trigger"] == "manual"
    assert jobs["deadlines"]["last_run"]["status"] == "ok"
    assert jobs["deviations"]["last_run"] is None
    assert jobs["checkpoints"]["every_seconds"] == 60


def test_export_takes_a_project_by_its_code(signed: Signed, tmp_path: Path) -> None:
    def exported(*project: str) -> str:
        out = tmp_path / "bundle.json"
        run = jixiao(signed.env, "export", *project, "--out", str(out))
        assert run.returncode == 0, run.stderr
        return str(json.loads(out.read_text())["object_id"])

    by_code = exported("--project", "ny-01", "--year", "2021")  # however the code is spelled
    assert exported("--project", "2021/NY-01") == by_code
    assert exported("--project", by_code) == by_code
    no_year = jixiao(signed.env, "export", "--project", "NY-01", "--out", str(tmp_path / "x.json"))
    assert no_year.returncode == 2
    said = one_line(no_year.stderr)
    assert "项目编号须注明年度：--project 2021/NY-01，或 --project NY-01 --year 2021（NY-01 见于 2021 年度）" in said
    assert "a project code needs its fiscal year: --project 2021/NY-01, or --project NY-01 --year 2021" in said
    assert "badly formed" not in said
    wrong_year = jixiao(signed.env, "export", "--project", "2022/NY-01", "--out", str(tmp_path / "x.json"))
    assert wrong_year.returncode == 2
    assert "no project NY-01 in fiscal year 2022 (NY-01 is recorded in 2021)" in one_line(wrong_year.stderr)
    assert not (tmp_path / "x.json").exists()


def test_jobs_run_reads_dates_as_people_write_them(signed: Signed) -> None:
    for written, day in (("2021/08/16", "2021-08-16"), ("2021年8月17日", "2021-08-17")):
        ran = jixiao(signed.env, "jobs", "run", "deadlines", "--today", written)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith(f"deadlines for {day}: raised ")
    for written, zh, en in (
        ("2021/13/45", "没有这一天", "no such day: '2021/13/45'"),
        ("08/16/2021", "日期格式无法识别", "not a date: '08/16/2021'; expected 2025-03-19, 2025/03/19"),
    ):
        refused = jixiao(signed.env, "jobs", "run", "deadlines", "--today", written)
        assert refused.returncode == 2
        assert zh in refused.stderr
        assert en in refused.stderr
        assert "Invalid isoformat" not in refused.stderr


def test_the_install_step_shows_what_it_is_doing() -> None:
    """``make run`` on a fresh machine: pip's own progress, not a silent minute or two; and the service alone, the
    test tools installed only by the targets that need them."""
    makefile = (ROOT / "Makefile").read_text()
    pip = re.search(r"^PIP := (.*)$", makefile, re.M)
    assert pip, "the Makefile lost its pip command"
    assert "pip install" in pip.group(1)
    assert "--quiet" not in pip.group(1)
    assert " -q" not in pip.group(1)
    recipes = {}
    for target in ("RUNTIME", "INSTALLED"):
        recipe = re.search(rf"^\$\({target}\):.*\n((?:\t.*\n)+)", makefile, re.M)
        assert recipe, f"the Makefile lost its {target} install step"
        assert "echo" in recipe.group(1)
        recipes[target] = recipe.group(1)
    assert "$(PIP) -e '.[embedded]'" in recipes["RUNTIME"]
    assert "$(PIP) -e '.[embedded,dev]'" in recipes["INSTALLED"]
    assert re.search(r"^run: \$\(RUNTIME\)", makefile, re.M)
    assert re.search(r"^test: \$\(INSTALLED\)", makefile, re.M)
