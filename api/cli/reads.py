"""``jixiao read MODEL``: a read model's rows at the command line, as its HTTP list route answers them.

Each read model of the registry (:func:`projections.registry.read_models`) is read through the function of its list
route (``GET /projects``, ``/overall-goals``, ``/budget-linkage``, ``/disclosures``, ``/decisions``, …), called with
the command line's filters and as an auditor reads — every row, every column — so the rows, their order, the Chinese
labels beside each code (``stage_zh``) and the columns of a ``.csv`` are the route's, not a second reading of the
tables. ``--year`` and ``--department`` map to the route's own filter (``fiscal_year``; ``department`` or
``organisation``); a model whose route has no such filter refuses it (exit status 2). Nothing is written.

The table shows each row as a block, a line per column: its Chinese label and key, the value, and a code's Chinese
label beside it. ``--json`` prints one document (the model, the log position its rows reflect, the rows as the HTTP
JSON has them); ``--csv`` the route's download (UTF-8 with a byte order mark; ``--header`` as ``?header=``).
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

import click
import psycopg
from pydantic import BaseModel, TypeAdapter

from api.cli.options import STATE, current_settings, json_option, print_json, settings_options
from api.config.database import database_url
from ledger.domain.rules import RuleParameters
from ledger.domain.values import Principal
from projections import rulesets
from projections.registry import read_models

READER = Principal("jixiao-read", "auditor", "命令行")  # reads every row, as an auditor does; records nothing
PAGE = 500  # rows asked of a paginated route at a time (its largest page is at least this)


@dataclass(frozen=True)
class Read:
    """How a read model is read: its list route's function (``module:function`` in :mod:`api.routers`) and title."""

    route: str
    title: str

    def endpoint(self) -> Callable[..., Any]:
        module, name = self.route.split(":")
        function: Callable[..., Any] = getattr(__import__(f"api.routers.{module}", fromlist=[name]), name)
        return function


# One list route per read model: where a model has several (the ranking's directories), the one that lists its rows.
READS: dict[str, Read] = {
    "project_status": Read("projects:list_projects", "项目状态"),
    "accountability_trail": Read("reads:accountability_trail", "问责记录"),
    "blacklist": Read("organisations:get_blacklist", "失信黑名单"),
    "department_ranking": Read("organisations:department_ranking", "综合绩效考评排名"),
    "coverage": Read("reads:coverage", "覆盖率"),
    "deadlines": Read("reads:deadlines", "时限"),
    "budget_linkage": Read("linkage:continuations", "绩效结果与预算挂钩"),
    "decisions": Read("decisions:list_decisions", "通报表彰约谈"),
    "disclosure": Read("disclosures:list_disclosures", "信息公开"),
    "department_overall": Read("overall:list_overall", "部门和单位整体绩效"),
    "spot_checks": Read("assurance:list_spot_checks", "不定期核查"),
    "escalations": Read("assurance:list_escalations", "整改逾期升级"),
    "audit_findings": Read("assurance:list_audit_findings", "审计发现"),
    "documents": Read("assurance:list_documents", "佐证文书"),
}
YEAR_PARAMETERS = ("fiscal_year",)
DEPARTMENT_PARAMETERS = ("department", "organisation")


def filters(model: str, parameters: Any, year: int | None, department: str | None) -> dict[str, Any]:
    """The route's keyword arguments for ``--year`` and ``--department``; a UsageError if it has no such filter."""
    chosen: dict[str, Any] = {}
    for option, value, names in (
        ("--year", year, YEAR_PARAMETERS),
        ("--department", department, DEPARTMENT_PARAMETERS),
    ):
        if value is None:
            continue
        found = next((name for name in names if name in parameters), None)
        if found is None:
            raise click.UsageError(f"{model} has no {option} filter (按{'年度' if option == '--year' else '部门'}筛选)")
        chosen[found] = value
    return chosen


class ReadOnlyLedger:
    """What a list route asks of the ledger — today where it is, the ruleset in force — answered without opening it
    (which needs the log's signing key): today in the deployment's timezone, the ruleset from the read models (the
    one in force at their position, as ``deadlines`` keeps it)."""

    def __init__(self, conn: Any, zone: ZoneInfo) -> None:
        self.conn = conn
        self.zone = zone

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def ruleset(self) -> ReadOnlyLedger:
        return self

    def parameters(self) -> RuleParameters:
        return rulesets.load(self.conn, "deadlines_rules")


def rows_of(
    model: str, conn: Any, ledger: ReadOnlyLedger, year: int | None, department: str | None
) -> Iterator[BaseModel]:
    """The rows of ``model`` its list route answers an auditor with those filters, page after page."""
    endpoint = READS[model].endpoint()
    parameters = inspect.signature(endpoint).parameters
    kwargs: dict[str, Any] = {"conn": conn, "principal": READER, **filters(model, parameters, year, department)}
    if "ledger" in parameters:
        kwargs["ledger"] = ledger
    if "cursor" not in parameters:
        yield from endpoint(**kwargs)
        return
    cursor = None
    while True:
        page = endpoint(**kwargs, cursor=cursor, limit=PAGE)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = TypeAdapter(hints(endpoint)["cursor"]).validate_python(page.next_cursor)  # the route's cursor type


def hints(endpoint: Callable[..., Any]) -> dict[str, Any]:
    return get_type_hints(endpoint)


def row_model(model: str) -> type[BaseModel]:
    """The model of the rows ``model``'s route answers an auditor (the first of a union: the full view)."""
    answer = hints(READS[model].endpoint())["return"]
    if get_origin(answer) in (Union, UnionType):
        answer = get_args(answer)[0]
    if get_origin(answer) is list:
        answer = get_args(answer)[0]
    elif isinstance(answer, type) and issubclass(answer, BaseModel) and "items" in answer.model_fields:  # a Page
        answer = get_args(answer.model_fields["items"].annotation)[0]
    if not (isinstance(answer, type) and issubclass(answer, BaseModel)):
        raise TypeError(f"{model}: its route answers {answer!r}, not rows of a model")
    return answer


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 true" if value else "否 false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def print_table(model: str, rows: list[BaseModel]) -> None:
    """Each row as a block: a line per column, its Chinese label and key, the value and a code's Chinese beside it."""
    from api.downloads.tables import columns_of
    from api.labels import SUFFIX

    click.echo(f"{READS[model].title} {model}: {len(rows)} 行 rows")
    if not rows:
        return
    columns = [column for column in columns_of(row_model(model)) if not column.key.endswith(SUFFIX)]
    width = max(len(f"{column.label} {column.key}") for column in columns)
    for number, row in enumerate(rows, 1):
        data = row.model_dump(mode="json")
        click.echo(f"\n#{number}")
        for column in columns:
            heading = f"{column.label} {column.key}"
            value = _text(data.get(column.key))
            label = data.get(column.key + SUFFIX)
            beside = f"  {_text(label)}" if label is not None and data.get(column.key) is not None else ""
            click.echo(f"  {heading:<{width}}  {value}{beside}")


@click.command("read")
@click.argument("model", metavar="MODEL", type=click.Choice(list(READS)))
@click.option("--year", "year", type=click.IntRange(2000, 2100), help="only this fiscal year's rows (年度)")
@click.option("--department", help="only this department's rows, its units' included, or a unit's (部门, any spelling)")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="print the route's CSV download instead (UTF-8 with BOM)")
@click.option(
    "--header",
    type=click.Choice(["zh", "en", "both"]),
    default="zh",
    show_default=True,
    help="the CSV's header: Chinese labels, the JSON keys, or both",
)
@settings_options(*STATE)
def read(model: str, year: int | None, department: str | None, as_json: bool, as_csv: bool, header: str) -> int:
    """A read model's rows (读取读模型), as its HTTP list route answers an auditor: project_status, deadlines,
    coverage, department_overall, budget_linkage, disclosure, decisions, …"""
    from api.downloads.tables import Header, columns_of, csv_chunks
    from projections.positions import positions

    if as_json and as_csv:
        raise click.UsageError("--json or --csv, not both")
    settings = current_settings()
    url = database_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot, as a download is
        position = positions(conn, [model])
        rows = list(rows_of(model, conn, ReadOnlyLedger(conn, settings.zone), year, department))
        conn.execute("COMMIT")
    if as_json:
        print_json({"read_model": model, "position": position, "rows": [row.model_dump(mode="json") for row in rows]})
    elif as_csv:
        header_choice: Header = "en" if header == "en" else "both" if header == "both" else "zh"
        for chunk in csv_chunks(columns_of(row_model(model)), header_choice, [rows]):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    else:
        print_table(model, rows)
    return 0


def registry_covered() -> set[str]:
    """The read models of the registry without a reading here (none, when every one can be read)."""
    return {model.name for model in read_models()} - set(READS)
