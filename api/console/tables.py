"""The read models as tables (数据表): every downloadable list route of the API as a page with its filters, paging,
sorting and the CSV / Excel downloads.

Generic over the routes :func:`api.downloads.downloadable` marks (each names its read model in the registry): a
table is found by the route's path (``/console/tables/projects`` is ``GET /projects``,
``/console/tables/departments-ranking`` is ``GET /departments/ranking``); its filter form is made from the route's
own query parameters (a choice list where the parameter is an enum, a pattern of alternatives or a vocabulary's
codes); its rows are the route's answer to the reader's token (:func:`api.console.pages.forward`), so a table shows
exactly what the API shows that reader, refuses what it refuses, and names the problem.

Paging: a route that pages by cursor (``Page``) is followed by its ``next_cursor``; a list route's rows are paged
here. Sorting: a list route's rows are sorted whole; a cursor-paged table sorts the page shown (the API orders its
pages by id), which the page says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlencode
from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup, escape
from pydantic import BaseModel

from api.console.pages import (
    LoginRequired,
    SignedIn,
    error_page,
    forward,
    lang_of,
    project_pages,
    render,
    router,
    url_with,
)
from api.console.strings import STRINGS, Lang, translate
from api.downloads import Download, download_of
from api.downloads.labels import english as column_english
from api.downloads.labels import label as column_label
from api.downloads.tables import Column, Kind, columns_of
from api.labels import SUFFIX, VOCABULARIES
from api.schemas.common import Page

PAGE_SIZES = (10, 20, 50, 100, 200)
DEFAULT_PAGE = 50
LIST_PAGE = 50  # rows shown at a time of a list route's answer
OWN = ("cursor", "limit")  # the route's parameters the table itself sets
CONSOLE_PARAMS = frozenset({"sort", "dir", "page", "size", "lang", "cursor", "first"})
TEXT_CELL = Markup("<td>{}</td>")
NUMERIC_CELL = Markup('<td class="num">{}</td>')
LINK = Markup('<a href="{}">{}</a>')  # format() escapes what fills it
_ALTERNATIVES = re.compile(r"^\^\(([\w|]+)\)\$$")


@dataclass(frozen=True)
class Filter:
    """One of a route's query parameters, as a field of the filter form."""

    name: str  # as sent (the alias)
    kind: str  # text, integer, boolean, date, datetime, choice
    choices: tuple[str, ...] = ()
    vocabulary: str | None = None  # where the choices' labels come from

    def label(self, lang: Lang) -> str:
        """The console's own word where a filter means more than its column (``q``, ``from``), else the column's
        header in the downloads' glossary (api/downloads/labels.py), else the parameter's name."""
        key = f"param_{self.name}"
        if key in STRINGS:
            return translate(lang, key)
        return (column_label("", self.name) if lang == "zh" else column_english("", self.name)) or self.name


@dataclass(frozen=True)
class Table:
    slug: str
    path: str
    title: str  # Chinese, the download's title
    title_en: str  # English, the download's too
    read_model: str
    paged: bool
    filters: tuple[Filter, ...]
    models: tuple[type[BaseModel], ...]

    def title_in(self, lang: Lang) -> str:
        return self.title if lang == "zh" else self.title_en


def tables(request: Request) -> dict[str, Table]:
    """Every table of the service (made once per app from its routes)."""
    state = request.app.state
    found: dict[str, Table] | None = getattr(state, "console_tables", None)
    if found is None:
        found = {}
        for route in request.app.router.routes:
            spec = download_of(route)
            if spec is None:
                continue
            assert isinstance(route, APIRoute)
            table = _table(route, spec)
            found[table.slug] = table
        state.console_tables = found
    return found


def _table(route: APIRoute, spec: Download) -> Table:
    filters = tuple(_filter(field) for field in route.dependant.query_params if field.alias not in OWN)
    members = get_args(route.response_model) if get_origin(route.response_model) in (Union, UnionType) else ()
    listed = members or (route.response_model,)
    paged = all(isinstance(member, type) and issubclass(member, Page) for member in listed)
    models = []
    for member in listed:
        if paged:
            (item,) = get_args(member.model_fields["items"].annotation)
        else:
            (item,) = get_args(member)
        models.append(item)
    slug = route.path.strip("/").replace("/", "-")
    return Table(slug, route.path, spec.title, spec.title_en, spec.read_model, paged, filters, tuple(models))


def _filter(field: Any) -> Filter:
    annotation = field.field_info.annotation
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(member for member in get_args(annotation) if member is not NoneType)
    name = field.alias
    if annotation is bool:
        return Filter(name, "boolean")
    if annotation is int:
        return Filter(name, "integer")
    if annotation is date:
        return Filter(name, "date")
    if annotation is datetime:
        return Filter(name, "datetime")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = tuple(str(member.value) for member in annotation)
        return Filter(name, "choice", choices, _vocabulary(name, choices))
    if annotation is UUID:
        return Filter(name, "text")
    for meta in field.field_info.metadata:
        pattern = getattr(meta, "pattern", None)
        found = _ALTERNATIVES.match(pattern) if isinstance(pattern, str) else None
        if found is not None:
            choices = tuple(found.group(1).split("|"))
            return Filter(name, "choice", choices, _vocabulary(name, choices))
    if name in VOCABULARIES:  # a code of a known vocabulary (stage)
        choices = tuple(VOCABULARIES[name])
        return Filter(name, "choice", choices, name)
    return Filter(name, "text")


def _vocabulary(name: str, choices: tuple[str, ...]) -> str | None:
    """The vocabulary naming ``choices``: the parameter's own, else the first that holds them all."""
    if name in VOCABULARIES and set(choices) <= set(VOCABULARIES[name]):
        return name
    return next((vocab for vocab, codes in VOCABULARIES.items() if set(choices) <= set(codes)), None)


# --------------------------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    href: str | None = None
    code: str | None = None  # the code shown beside its label


def columns_for(table: Table, rows: list[dict[str, Any]]) -> list[Column]:
    """The columns of the rows answered: the model whose fields they are (the reader's view of a union)."""
    keys = {key for row in rows[:1] for key in row if not key.endswith(SUFFIX)}
    # The narrowest model holding every key answered (a union's members overlap: the public's fields are a part of
    # finance's); with no rows, the narrowest of all, so an empty table heads no column its reader could not see.
    fitting = [model for model in table.models if keys <= set(model.model_fields)] or list(table.models)
    model = min(fitting, key=lambda model: len(model.model_fields))
    return [column for column in columns_of(model) if not column.key.endswith(SUFFIX)]


def row_html(columns: list[Column], row: dict[str, Any], lang: Lang, project_pages: str | None) -> Markup:
    """A row's cells as HTML, every value escaped: made here rather than cell by cell in the template, which took
    most of a 200-row page's time."""
    parts = []
    for column in columns:
        found = cell(column, row, lang, project_pages)
        text = escape(found.text)
        if found.href is not None:
            text = LINK.format(found.href, found.text)
        parts.append((NUMERIC_CELL if found.numeric else TEXT_CELL).format(text))
    return Markup("").join(parts)


def cell(column: Column, row: dict[str, Any], lang: Lang, project_pages: str | None) -> Cell:
    """One cell; a project id links to its page under ``project_pages`` (None: the reader may not open one)."""
    value = row.get(column.key)
    labelled = row.get(column.key + SUFFIX)
    numeric = column.kind in (Kind.INTEGER, Kind.DECIMAL)
    if value is None:
        return Cell("", numeric)
    href = None
    if column.key == "project_id" and project_pages is not None:
        href = f"{project_pages}/{value}"
    if column.kind is Kind.BOOLEAN:
        return Cell(translate(lang, "yes" if value else "no"))
    if lang == "zh" and labelled is not None and labelled != value:
        shown = "、".join(map(str, labelled)) if isinstance(labelled, list) else str(labelled)
        return Cell(shown, numeric, href, code=None if isinstance(value, list | dict) else str(value))
    if isinstance(value, list | dict):
        return Cell(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    if column.kind is Kind.DATETIME and isinstance(value, str):
        return Cell(value.replace("T", " ")[:19], False, href)
    return Cell(str(value), numeric, href)


def _sort_key(kind: Kind, value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if kind in (Kind.INTEGER, Kind.DECIMAL):
        try:
            return (0, Decimal(str(value)))
        except InvalidOperation:
            return (0, Decimal(0))
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, list | dict):
        return (0, json.dumps(value, ensure_ascii=False))
    return (0, str(value))


def sort_rows(rows: list[dict[str, Any]], columns: list[Column], by: str | None, descending: bool) -> str | None:
    """Sort ``rows`` in place by the column ``by`` (empty values last); the column sorted by, if any."""
    column = next((column for column in columns if column.key == by), None)
    if column is None:
        return None
    present = [row for row in rows if row.get(column.key) is not None]
    empty = [row for row in rows if row.get(column.key) is None]
    present.sort(key=lambda row: _sort_key(column.kind, row.get(column.key)), reverse=descending)
    rows[:] = present + empty
    return column.key


# --------------------------------------------------------------------------------------------- the page


def api_params(request: Request, table: Table) -> dict[str, str]:
    """The filters asked for, as the route takes them: empty fields dropped, a day for a time parameter sent as the
    start of that day in the service's time zone."""
    sent: dict[str, str] = {}
    for item in table.filters:
        value = request.query_params.get(item.name, "").strip()
        if not value:
            continue
        if item.kind == "datetime" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                zone = request.app.state.settings.zone
                value = datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()
        sent[item.name] = value
    return sent


def problem_of(status: int, body: bytes) -> tuple[str, str]:
    """The code and detail of a problem the API answered."""
    try:
        problem = json.loads(body)
        return str(problem.get("code", "internal-error")), str(problem.get("detail", ""))
    except (ValueError, AttributeError):
        return "internal-error", ""


async def table_page(
    request: Request,
    table: Table,
    *,
    template: str = "table.html",
    public: bool = False,
    withheld: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """The table's page for the reader (``public``: as the public, whoever is signed in; ``withheld``: filters left
    out of the form, which the API would refuse this reader)."""
    lang = lang_of(request)
    filters = tuple(item for item in table.filters if item.name not in withheld)
    params = api_params(request, table)
    query = dict(params)
    size = _int(request.query_params.get("size"), DEFAULT_PAGE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE
    cursor = request.query_params.get("cursor") or None
    if table.paged:
        query["limit"] = str(size)
        if cursor is not None:
            query["cursor"] = cursor
    status, body = await forward(request, table.path, query, public=public)
    if status != 200:
        code, detail = problem_of(status, body)
        if status == 401 and not public:
            raise LoginRequired(expired=True)
        if status in (401, 403):
            return error_page(request, code, detail, status=status)
        return render(
            request,
            template,
            status_code=status,
            table=table,
            filters=filters,
            problem={"code": code, "detail": detail, "status": status},
            columns=[],
            rows=[],
            sorted_by=None,
            descending=False,
            next_url=None,
            first_url=None,
            prev_url=None,
            page=1,
            pages=1,
            total=None,
            size=size,
            page_sizes=PAGE_SIZES,
            downloads=_downloads(request, table, params, public),
            **context,
        )
    answer = json.loads(body)
    rows: list[dict[str, Any]] = answer["items"] if table.paged else answer
    columns = columns_for(table, rows)
    descending = request.query_params.get("dir") == "desc"
    sorted_by = sort_rows(rows, columns, request.query_params.get("sort"), descending)
    page = max(1, _int(request.query_params.get("page"), 1))
    total = None
    prev_url = next_url = first_url = None
    pages = 1
    if table.paged:
        if answer.get("next_cursor"):
            next_url = _url(request, cursor=answer["next_cursor"], page=page + 1)
        if cursor is not None:
            first_url = _url(request, cursor=None, page=None)
    else:
        total = len(rows)
        pages = max(1, -(-total // LIST_PAGE))
        page = min(page, pages)
        rows = rows[(page - 1) * LIST_PAGE : page * LIST_PAGE]
        if page < pages:
            next_url = _url(request, page=page + 1)
        if page > 1:
            prev_url = _url(request, page=page - 1)
            first_url = _url(request, page=None)
    return render(
        request,
        template,
        table=table,
        filters=filters,
        problem=None,
        columns=columns,
        rows=[row_html(columns, row, lang, project_pages(request)) for row in rows],
        sorted_by=sorted_by,
        descending=descending,
        next_url=next_url,
        first_url=first_url,
        prev_url=prev_url,
        page=page,
        pages=pages,
        total=total,
        size=size,
        page_sizes=PAGE_SIZES,
        downloads=_downloads(request, table, params, public),
        **context,
    )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None and len(text) < 10 else default
    except ValueError:
        return default


def _url(request: Request, **changes: Any) -> str:
    return url_with(request, **changes)


def _downloads(request: Request, table: Table, params: dict[str, str], public: bool) -> dict[str, str]:
    base = str(request.scope.get("root_path", "")).rstrip("/")
    query = urlencode(params)
    where = "/console/public/api" if public else "/console/api"
    return {form: f"{base}{where}{table.path}.{form}" + (f"?{query}" if query else "") for form in ("csv", "xlsx")}


@router.get("/tables")
async def table_list(request: Request, principal: SignedIn) -> HTMLResponse:
    """Every table the service has; a table the reader's role may not read answers the refusal page."""
    return render(request, "tables.html", tables=sorted(tables(request).values(), key=lambda table: table.path))


@router.get("/tables/{slug}")
async def table(request: Request, slug: str, principal: SignedIn) -> Response:
    """One read model's rows, filtered, sorted and paged, as the reader's token reads them."""
    found = tables(request).get(slug)
    if found is None:
        return error_page(request, "not-found", translate(lang_of(request), "page_not_found"))
    return await table_page(request, found)
