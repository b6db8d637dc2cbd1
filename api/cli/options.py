"""What the ``jixiao`` commands share: options that override settings (each shown in ``--help`` with its environment
variable and default), dates and project references as people write them, and JSON output."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import click
from pydantic import ValidationError

from api.config.settings import Settings, load_settings
from api.logs import configure_logging

if TYPE_CHECKING:
    from ledger.application import Ledger

F = TypeVar("F", bound=Callable[..., Any])


class ParseOnly:
    """Given as the context's object: every command parses its command line and returns 0 without running (what
    :func:`api.cli.main.parse_only` checks command lines with)."""


class Command(click.Command):
    """A ``jixiao`` command: runs, or under :class:`ParseOnly` only parses."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.find_object(ParseOnly) is not None:
            return 0
        return super().invoke(ctx)


class Group(click.Group):
    """A group of ``jixiao`` commands; its commands and subgroups are :class:`Command` and :class:`Group`."""

    command_class = Command
    group_class = type  # subgroups of this class too


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}

SETTINGS = "jixiao.settings"  # ctx.meta: the settings the command line gave, by field name
STATE = ("data_dir", "database_url")  # where a command finds the ledger: every command that opens it takes these


def env_var(name: str) -> str:
    """The environment variable that sets the setting ``name``."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else f"JIXIAO_{name.upper()}"


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def default_text(name: str) -> str:
    """The setting's default as ``--help`` shows it (computed where it is computed: the data folder)."""
    field = Settings.model_fields[name]
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is None or value == []:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def setting_option(name: str, *, help: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """An option that overrides the setting ``name`` for this command (over its environment variable and .env);
    its help names the variable and the default. The command reads it through :func:`current_settings`."""
    field = Settings.model_fields[name]
    text = help or field.description or ""
    kwargs.setdefault("help", f"{text} [env var: {env_var(name)}; default: {default_text(name)}]")

    def remember(ctx: click.Context, _: click.Parameter, value: object) -> object:
        if value is not None:
            ctx.meta.setdefault(SETTINGS, {})[name] = value
        return value

    decls = [option_name(name)]
    annotation = field.annotation
    if annotation is bool:
        decls = [f"{option_name(name)}/--no-{name.replace('_', '-')}"]
    elif annotation in (int, int | None):
        kwargs.setdefault("type", click.INT)
    elif annotation is float:
        kwargs.setdefault("type", click.FLOAT)
        kwargs.setdefault("metavar", "SECONDS" if "Seconds" in text else "NUMBER")
    elif annotation in (Path, Path | None):
        kwargs.setdefault("type", click.Path(path_type=Path))
    return click.option(*decls, default=None, expose_value=False, callback=remember, **kwargs)


def settings_options(*names: str) -> Callable[[F], F]:
    """:func:`setting_option` for each of ``names``, listed in that order in ``--help``."""

    def decorate(command: F) -> F:
        for name in reversed(names):
            command = setting_option(name)(command)
        return command

    return decorate


ROLES = frozenset({"serve", "worker", "dispatcher", "nats", "scheduler"})  # the commands that run until stopped


def current_settings() -> Settings:
    """The settings of the running command: its options, over the environment, over ``.env``. The process logs as
    they say (JIXIAO_LOG_FORMAT): the long-running roles at JIXIAO_LOG_LEVEL, a command that answers and ends its
    warnings only."""
    context = click.get_current_context()
    settings = load_settings(**context.meta.get(SETTINGS, {}))
    configure_logging(settings.log_format, settings.log_level if context.info_name in ROLES else "warning")
    return settings


def describe_settings_error(error: ValidationError) -> str:
    """A settings error in plain words, naming the variable and the option that set it."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        where = f"{env_var(name)} ({option_name(name)})" if name in Settings.model_fields else name
        given = item.get("input")
        given = str(given) if isinstance(given, Path) else given
        shown = f" = {given!r}" if isinstance(given, str | int | float) else ""
        lines.append(f"设置无效 invalid setting {where}{shown}: {item['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------ dates

_SEPARATED = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_CHINESE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
DATE_FORMS = "2025-03-19、2025/03/19、2025.03.19、20250319 或 2025年3月19日"
DATE_FORMS_EN = "2025-03-19, 2025/03/19, 2025.03.19, 20250319 or 2025年3月19日"


def parse_date(text: str) -> date:
    """A calendar day as people write it: ISO ``2025-03-19``, ``2025/03/19``, ``2025.03.19``, ``20250319`` or
    ``2025年3月19日`` (full-width digits too); anything else is a ValueError saying what was expected."""
    given = unicodedata.normalize("NFKC", text).replace(" ", "")
    found = _SEPARATED.fullmatch(given) or _CHINESE.fullmatch(given) or _COMPACT.fullmatch(given)
    if found is None:
        raise ValueError(
            f"日期格式无法识别：{text!r}，应写作 {DATE_FORMS}。\nnot a date: {text!r}; expected {DATE_FORMS_EN}"
        )
    year, month, day = (int(part) for part in found.groups() if part.isdigit())
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"没有这一天：{text!r}（{error}）。\nno such day: {text!r} ({error})") from None


class DateType(click.ParamType[date]):
    """A business day, in any of the forms :func:`parse_date` reads."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATE"


DATE = DateType()


# ------------------------------------------------------------------------------------------------------- projects

YEARS = range(2000, 2101)  # the fiscal years the ledger accepts


@dataclass(frozen=True)
class ProjectRef:
    """A project as it was named on the command line: its id, or its code with (perhaps) its fiscal year."""

    text: str
    id: UUID | None = None
    year: int | None = None
    code: str = ""


def parse_project(text: str) -> ProjectRef:
    """``UUID``, ``YEAR/CODE`` (``2021/NY-01``) or ``CODE`` (its year given apart, by ``--year``)."""
    given = text.strip()
    try:
        return ProjectRef(text, id=UUID(given))
    except ValueError:
        pass
    head, slash, rest = given.partition("/")
    if slash and re.fullmatch(r"\d{4}", head):
        if int(head) not in YEARS:
            raise ValueError(
                f"年度须在 2000 至 2100 之间：{text!r}。\na fiscal year is between 2000 and 2100: {text!r}"
            )
        given, year = rest.strip(), int(head)
    else:
        year = None
    if not given:
        raise ValueError(f"缺少项目编号：{text!r}。\nno project code in {text!r}")
    return ProjectRef(text, year=year, code=given)


class ProjectType(click.ParamType[ProjectRef]):
    name = "project"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> ProjectRef:
        if isinstance(value, ProjectRef):
            return value
        try:
            return parse_project(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "YEAR/CODE|ID"


PROJECT = ProjectType()


def years_with(ledger: Ledger, code: str) -> list[int]:
    """The fiscal years in which a project was declared under ``code`` (however spelled)."""
    return [year for year in YEARS if ledger.exists(ledger.project_id_of(year, code))]


def _recorded(code: str, years: list[int]) -> tuple[str, str]:
    """Where ``code`` is recorded, in both languages."""
    if not years:
        return f"任何年度都没有编号为 {code} 的项目", f"no fiscal year has a project {code}"
    listed = ", ".join(map(str, years))
    return f"{code} 见于 {listed} 年度", f"{code} is recorded in {listed}"


def project_id(ledger: Ledger, ref: ProjectRef, year: int | None) -> UUID:
    """The id of the project ``ref`` names (its year from the reference or from ``year``); a missing year, two
    different years or a code no project has is a :class:`click.BadParameter` saying what was expected."""
    ctx = click.get_current_context(silent=True)
    if ref.id is not None:
        if year is not None:
            raise click.BadParameter(
                "--year 只与项目编号连用，项目 id 不需要年度。\n--year goes with a project code; an id needs no year",
                ctx,
                param_hint="'--year'",
            )
        return ref.id
    if ref.year is not None and year is not None and ref.year != year:
        raise click.BadParameter(
            f"年度不一致：{ref.text!r} 与 --year {year}。\n{ref.text!r} and --year {year} name two fiscal years",
            ctx,
            param_hint="'--project'",
        )
    fiscal_year = ref.year or year
    if fiscal_year is None:
        found = years_with(ledger, ref.code)
        example = str(found[-1]) if found else "YEAR"
        zh, en = _recorded(ref.code, found)
        raise click.BadParameter(
            f"项目编号须注明年度：--project {example}/{ref.code}，或 --project {ref.code} --year {example}（{zh}）。\n"
            f"a project code needs its fiscal year: --project {example}/{ref.code}, or --project {ref.code} --year "
            f"{example} ({en})",
            ctx,
            param_hint="'--project'",
        )
    found_id = ledger.project_id_of(fiscal_year, ref.code)
    if not ledger.exists(found_id):
        zh, en = _recorded(ref.code, years_with(ledger, ref.code))
        raise click.BadParameter(
            f"未找到 {fiscal_year} 年度编号为 {ref.code} 的项目（{zh}）。\n"
            f"no project {ref.code} in fiscal year {fiscal_year} ({en})",
            ctx,
            param_hint="'--project'",
        )
    return found_id


# ------------------------------------------------------------------------------------------------------------ JSON


def json_option(command: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="print one JSON document instead of the table (for scripts, jq)"
    )(command)


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal | Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def print_json(document: object) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=_plain))
