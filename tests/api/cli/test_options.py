"""What the ``jixiao`` commands share, without a database: settings options and their help, dates and project
references as people write them, and the check of a command line without running it."""

from __future__ import annotations

import socket
from datetime import date
from uuid import UUID

import click
import pytest
from pydantic import ValidationError

from api.cli.main import cli, parse_only
from api.cli.options import (
    SETTINGS,
    current_settings,
    default_text,
    describe_settings_error,
    env_var,
    parse_date,
    parse_project,
)
from api.cli.service import CannotListen, base_url, reserved
from api.config.settings import Settings
from api.config.state import default_data_dir


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def setting_options(command: click.Command) -> list[tuple[str, click.Option]]:
    """The options of ``command`` that override a setting, with the setting's name."""
    found = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.expose_value and param.callback is not None:
            found.append(((param.name or "").replace("-", "_"), param))
    return found


def test_every_settings_option_names_its_setting_its_variable_and_its_default() -> None:
    seen: set[str] = set()
    for path, command in commands(cli):
        for name, option in setting_options(command):
            assert name in Settings.model_fields, (path, name)
            assert option.help is not None
            assert f"[env var: {env_var(name)}; default: {default_text(name)}]" in option.help, (path, option.help)
            seen.add(name)
    assert {"host", "port", "workers", "log_level", "data_dir", "database_url", "progress_interval"} <= seen


def test_the_variable_and_the_default_are_the_settings_own() -> None:
    assert env_var("port") == "JIXIAO_PORT"
    assert env_var("database_url") == "DATABASE_URL"
    assert default_text("port") == "8000"
    assert default_text("run_scheduler") == "true"
    assert default_text("database_url") == "unset"
    assert default_text("data_dir") == str(default_data_dir())


def test_the_service_takes_its_address_and_processes_as_options() -> None:
    serve = cli.commands["serve"]
    names = {name for name, _ in setting_options(serve)}
    assert {"host", "port", "workers", "log_level", "data_dir", "database_url", "run_scheduler"} <= names
    for role, wanted in (("worker", "projection_page"), ("scheduler", "sweep_interval"), ("dispatcher", "data_dir")):
        assert wanted in {name for name, _ in setting_options(cli.commands[role])}, role


def test_an_option_overrides_the_environment_for_its_command_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIXIAO_PORT", "8100")
    with click.Context(click.Command("probe")) as ctx:
        ctx.meta[SETTINGS] = {"port": 9000}
        assert current_settings().port == 9000
    with click.Context(click.Command("probe")):
        assert current_settings().port == 8100


def test_a_setting_that_does_not_hold_is_named_with_its_variable_and_option() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(workers=0, port="abc")  # type: ignore[arg-type]
    text = describe_settings_error(refused.value)
    assert "设置无效 invalid setting JIXIAO_WORKERS (--workers) = 0" in text
    assert "JIXIAO_PORT (--port) = 'abc'" in text


@pytest.mark.parametrize(
    "written",
    [
        "2025-03-19",
        "2025/03/19",
        "2025/3/19",
        "2025.03.19",
        "20250319",
        "2025年3月19日",
        "2025年03月19号",
        "2025 年 3 月 19 日",
        "２０２５年３月１９日",
        "２０２５／０３／１９",
        " 2025-03-19 ",
    ],
)
def test_dates_are_read_as_people_write_them(written: str) -> None:
    assert parse_date(written) == date(2025, 3, 19)


@pytest.mark.parametrize("written", ["2025/03-19", "19/03/2025", "2025-3", "tomorrow", "", "2025年3月", "2025031"])
def test_a_date_in_no_known_form_says_what_was_expected_in_both_languages(written: str) -> None:
    with pytest.raises(ValueError, match="日期格式无法识别") as refused:
        parse_date(written)
    assert "应写作 2025-03-19、2025/03/19" in str(refused.value)
    assert "expected 2025-03-19, 2025/03/19" in str(refused.value)
    assert "2025年3月19日" in str(refused.value)


@pytest.mark.parametrize("written", ["2025-02-29", "2025/13/01", "2025年4月31日"])
def test_a_day_the_calendar_lacks_is_refused_as_such(written: str) -> None:
    with pytest.raises(ValueError, match="没有这一天") as refused:
        parse_date(written)
    assert f"no such day: {written!r}" in str(refused.value)


def test_project_references() -> None:
    uid = UUID("8d0f5a0e-7b6a-4b43-9a55-3c3f6bbcc6a1")
    assert parse_project(str(uid)).id == uid
    assert (parse_project("2021/NY-01").year, parse_project("2021/NY-01").code) == (2021, "NY-01")
    assert (parse_project("NY-01").year, parse_project("NY-01").code) == (None, "NY-01")
    assert (parse_project("NY/01").year, parse_project("NY/01").code) == (None, "NY/01")  # a code with a slash
    assert (parse_project("2021/NY/01").year, parse_project("2021/NY/01").code) == (2021, "NY/01")
    with pytest.raises(ValueError, match="2000 至 2100"):
        parse_project("1999/NY-01")
    with pytest.raises(ValueError, match="no project code"):
        parse_project("2021/")


def test_a_command_line_is_checked_without_running_it() -> None:
    parse_only(["serve", "--port", "9000", "--workers", "2"])
    parse_only(["jobs", "run", "deadlines", "--today", "2025/03/19"])
    parse_only(["export", "--project", "NY-01", "--year", "2021", "--out", "x.json"])
    for wrong in (["serve", "--bogus"], ["nonsense"], ["jobs", "run", "deadlines", "--today", "2025/13/45"]):
        with pytest.raises(click.UsageError):
            parse_only(wrong)


def test_the_service_holds_its_address_while_it_sets_up_and_then_lets_uvicorn_have_it() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with reserved("127.0.0.1", port), pytest.raises(CannotListen, match="already in use"), reserved("127.0.0.1", port):
        pass
    with reserved("127.0.0.1", port):  # released at the end of the block: free again at once
        pass


def test_the_banner_names_an_address_a_browser_can_open() -> None:
    assert base_url("127.0.0.1", 9000) == "http://127.0.0.1:9000"
    assert base_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert base_url("::", 9000) == "http://[::1]:9000"
    assert base_url("fd00::5", 9000) == "http://[fd00::5]:9000"
    assert base_url("ledger.intranet", 80) == "http://ledger.intranet:80"
