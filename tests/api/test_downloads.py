"""Every read model's list routes as CSV and Excel downloads, read back (csv module, openpyxl) and compared with the
JSON the same route answers, as finance, a department (its own rows only) and the public (disclosed rows only)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal
from types import UnionType
from typing import Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.cli.demo import run_demo
from api.downloads import download_of, routes
from api.downloads.labels import BY_MODEL, BY_MODEL_ENGLISH, ENGLISH, GLOSSARY, english, label
from api.downloads.tables import Kind, columns_of
from api.schemas.common import Page
from api.schemas.disclosure import DisclosurePublic
from api.schemas.projects import ProjectDisclosedOut
from ledger.domain.values import key
from projections.registry import read_models
from tests.api.conftest import Service

pytestmark = pytest.mark.db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(shared_service: Service) -> Service:
    """The fiscal-year 2021 story (30-odd projects, a blacklisting, deadlines met and missed), read models caught up."""
    run_demo(shared_service.ledger)
    with psycopg.connect(shared_service.app.state.settings.database_url) as conn:
        row = conn.execute("SELECT max(leaf_index) FROM ledger_events").fetchone()
    assert row is not None
    deadline = time.monotonic() + 120
    while shared_service.get("finance", "/readyz", min_position=row[0]).status_code != 200:
        assert time.monotonic() < deadline, "the read models did not catch up with the demo"
    return shared_service


def marked(service: Service) -> dict[str, APIRoute]:
    """Every route marked downloadable, by path."""
    return {route.path: route for route in service.app.routes if isinstance(route, APIRoute) and download_of(route)}


LIST_ROUTES = [
    "/projects",
    "/departments",
    "/departments/ranking",
    "/units",
    "/agencies",
    "/blacklist",
    "/decisions",
    "/trail",
    "/coverage",
    "/deadlines",
    "/budget-linkage",
    "/disclosures",
    "/overall-goals",
    "/spot-checks",
    "/escalations",
    "/audit-findings",
    "/documents",
]


def test_every_read_model_has_list_routes_with_both_downloads(shared_service: Service) -> None:
    routes = marked(shared_service)
    assert sorted(routes) == sorted(LIST_ROUTES)
    paths = {route.path for route in shared_service.app.routes if isinstance(route, APIRoute)}
    covered = set()
    for path, route in routes.items():
        spec = download_of(route)
        assert spec is not None
        covered.add(spec.read_model)
        assert f"{path}.{{format}}" in paths, f"{path} has no download"
        for form in ("csv", "xlsx"):
            response = shared_service.get("finance", f"{path}.{form}")
            assert response.status_code == 200, (path, form, response.text)
    assert covered == {model.name for model in read_models()}, "a read model without a downloadable list route"


def test_every_column_of_every_download_has_a_chinese_header(shared_service: Service) -> None:
    for route in marked(shared_service).values():
        for model in item_models(route):
            missing = [name for name in model.model_fields if label(model.__name__, name) is None]
            assert not missing, (
                f"{route.path} ({model.__name__}): no Chinese label for {missing} (api/downloads/labels)"
            )


def test_every_download_has_an_english_title_and_every_column_an_english_header(shared_service: Service) -> None:
    """The console's tables in English are headed by these (the downloads' English header stays the JSON keys)."""
    assert set(ENGLISH) == set(GLOSSARY)
    assert set(BY_MODEL_ENGLISH) == set(BY_MODEL)
    for route in marked(shared_service).values():
        spec = download_of(route)
        assert spec is not None
        assert spec.title_en, route.path
        assert spec.title_en.isascii(), route.path
        for model in item_models(route):
            missing = [name for name in model.model_fields if english(model.__name__, name) is None]
            assert not missing, f"{route.path} ({model.__name__}): no English header for {missing}"


def item_models(route: APIRoute) -> list[type[BaseModel]]:
    answer = route.response_model
    members = get_args(answer) if get_origin(answer) in (Union, UnionType) else (answer,)
    models = []
    for member in members:
        if isinstance(member, type) and issubclass(member, Page):
            (item,) = get_args(member.model_fields["items"].annotation)
        else:
            (item,) = get_args(member)
        models.append(item)
    return models


# ------------------------------------------------------------------------------------------- reading back


def json_rows(s: Service, who: str | None, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row the JSON route answers, page after page."""
    response = s.get(who, path, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    if isinstance(body, list):
        return body
    rows = list(body["items"])
    while body["next_cursor"] is not None:
        body = s.get(who, path, **params, cursor=body["next_cursor"]).json()
        rows += body["items"]
    return rows


def csv_rows(s: Service, who: str | None, path: str, params: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    response = s.get(who, f"{path}.csv", **params, header="both")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    labels, keys, *rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
    return keys, [labels, *rows]


def xlsx_rows(
    s: Service, who: str | None, path: str, params: dict[str, Any]
) -> tuple[list[str], list[list[Any]], bytes]:
    response = s.get(who, f"{path}.xlsx", **params, header="both")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert len(book.worksheets) == 1
    labels, keys, *rows = (list(row) for row in sheet.iter_rows())
    return [str(cell.value) for cell in keys], [[cell.value for cell in labels], *rows], response.content


def same_csv(kind: Kind, value: Any, cell: str) -> bool:
    if value is None:
        return cell == ""
    if kind is Kind.JSON:
        return bool(json.loads(cell) == value)
    if kind is Kind.BOOLEAN:
        return cell == ("true" if value else "false")
    if kind is Kind.TEXT and str(value).startswith(("=", "+", "-", "@")):
        return cell == f"'{value}"
    return cell == str(value)


def same_xlsx(kind: Kind, value: Any, cell: Any) -> bool:
    if value is None:
        return cell.value is None
    if kind is Kind.DECIMAL:
        return (
            cell.data_type == "n" and cell.number_format == "#,##0.00" and Decimal(repr(cell.value)) == Decimal(value)
        )
    if kind is Kind.DATE:
        return bool(cell.is_date and cell.value == datetime.combine(date.fromisoformat(value), datetime.min.time()))
    if kind is Kind.DATETIME:
        local = datetime.fromisoformat(value).astimezone(SHANGHAI).replace(tzinfo=None)
        return bool(cell.is_date and abs((cell.value - local).total_seconds()) < 0.001)
    if kind is Kind.JSON:
        return bool(json.loads(cell.value) == value)
    if kind in (Kind.INTEGER, Kind.BOOLEAN):
        return bool(cell.value == value and type(cell.value) is type(value))
    return bool(cell.data_type == "s" and cell.value == value)


def compare(s: Service, who: str | None, path: str, model: type[BaseModel], **params: Any) -> list[dict[str, Any]]:
    """The JSON rows, after checking the CSV and the .xlsx hold exactly them."""
    expected = json_rows(s, who, path, params)
    columns = columns_of(model)
    keys = [column.key for column in columns]
    csv_keys, (csv_labels, *from_csv) = csv_rows(s, who, path, params)
    xlsx_keys, (xlsx_labels, *from_xlsx), data = xlsx_rows(s, who, path, params)
    assert csv_keys == xlsx_keys == keys == list(expected[0] if expected else keys)
    assert csv_labels == [column.label for column in columns]
    assert xlsx_labels == [
        f"{column.label}（Asia/Shanghai）" if column.kind is Kind.DATETIME else column.label for column in columns
    ]
    assert len(from_csv) == len(from_xlsx) == len(expected), path
    for row, csv_row, xlsx_row in zip(expected, from_csv, from_xlsx, strict=True):
        for column, cell, excel in zip(columns, csv_row, xlsx_row, strict=True):
            value = row[column.key]
            assert same_csv(column.kind, value, cell), (path, column.key, value, cell)
            assert same_xlsx(column.kind, value, excel), (path, column.key, value, excel.value)
    amounts = [row[c.key] for row in expected for c in columns if c.kind is Kind.DECIMAL and row[c.key] is not None]
    written = set(
        re.findall(r"<v>([^<]*)</v>", zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode())
    )
    assert set(amounts) <= written, "an amount not written with its exact digits"
    return expected


def model_for(route: APIRoute, public: bool = False) -> type[BaseModel]:
    models = item_models(route)
    return ProjectDisclosedOut if public else models[0]


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_finance_downloads_hold_what_the_json_holds(demo: Service, path: str) -> None:
    route = marked(demo)[path]
    rows = compare(demo, "finance", path, model_for(route))
    if path in (
        "/projects",
        "/departments",
        "/agencies",
        "/trail",
        "/deadlines",
        "/coverage",
        "/blacklist",
        "/disclosures",
    ):
        assert rows, f"the demo has {path} rows: the comparison compared something"


@pytest.mark.parametrize("path", ["/trail", "/projects"])
def test_a_paginated_download_reads_every_page(demo: Service, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "PAGE", 7)
    rows = compare(demo, "finance", path, model_for(marked(demo)[path]))
    assert len(rows) > 3 * 7  # the download followed next_cursor, page after page
    response = demo.get("finance", f"{path}.csv")
    assert int(response.headers["x-ledger-position"]) >= max(
        row["position" if path == "/projects" else "leaf_index"] for row in rows
    )


def test_filters_apply_to_downloads(demo: Service) -> None:
    route = marked(demo)["/projects"]
    rows = compare(demo, "finance", "/projects", model_for(route), fiscal_year=2021, budget_book="government_fund")
    assert rows
    assert {row["budget_book"] for row in rows} == {"government_fund"}
    found = compare(demo, "finance", "/agencies", model_for(marked(demo)["/agencies"]), q="评估")
    assert found
    assert all("评估" in row["name"] for row in found)
    limited = compare(demo, "finance", "/deadlines", model_for(marked(demo)["/deadlines"]), limit=1)
    assert len(limited) == 1


def test_a_department_downloads_only_its_own_rows(demo: Service) -> None:
    routes = marked(demo)
    projects = compare(demo, "education", "/projects", model_for(routes["/projects"]))
    every = json_rows(demo, "finance", "/projects", {})
    assert projects
    assert len(projects) < len(every)
    assert {key(row["department"]) for row in projects} == {key("教育局")}
    deadlines = compare(demo, "education", "/deadlines", model_for(routes["/deadlines"]))
    assert {key(row["department"]) for row in deadlines} <= {key("教育局")}
    trail = compare(demo, "education", "/trail", model_for(routes["/trail"]))
    assert 0 < len(trail) < len(json_rows(demo, "finance", "/trail", {}))
    refused = demo.get("education", "/projects.xlsx", department="卫生健康委员会")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:jixiao:problem:not-own-department"


def test_the_public_downloads_only_what_was_disclosed(demo: Service) -> None:
    rows = compare(demo, None, "/projects", model_for(marked(demo)["/projects"], public=True))
    assert rows
    assert all(row["goals_disclosed"] or row["results_disclosed"] for row in rows)
    assert "stage" not in rows[0]
    assert demo.get(None, "/projects.csv", stage="closed").json()["code"] == "role-not-allowed"
    assert demo.get(None, "/trail.csv").status_code == 401
    assert demo.get("agency", "/coverage.xlsx").json()["code"] == "role-not-allowed"


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/projects.pdf", {}, 404, "download-format-unknown", "path.format"),
        ("/coverage.json", {}, 404, "download-format-unknown", "path.format"),
        ("/projects.csv", {"header": "fr"}, 422, "validation-failed", "query.header"),
        ("/projects.xlsx", {"fiscal_year": "last"}, 422, "validation-failed", "query.fiscal_year"),
        ("/projects.csv", {"q": "  "}, 422, "validation-failed", "query.q"),
        ("/deadlines.csv", {"limit": 5001}, 422, "validation-failed", "query.limit"),
        ("/trail.csv", {"cursor": 3}, 200, None, None),  # not a parameter of a download: ignored
    ],
)
def test_bad_input_is_a_problem(
    shared_service: Service, path: str, params: dict[str, Any], status: int, code: str | None, field: str | None
) -> None:
    response = shared_service.get("finance", path, **params)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == f"urn:jixiao:problem:{code}"
        assert problem["field"] == field


def test_headers_in_either_language(shared_service: Service) -> None:
    chinese = shared_service.get("finance", "/coverage.csv").content.decode("utf-8-sig").splitlines()
    english = shared_service.get("finance", "/coverage.csv", header="en").content.decode("utf-8-sig").splitlines()
    assert chinese[0].startswith("年度,部门数,")
    assert english[0].startswith("fiscal_year,departments,")
    disposition = shared_service.get("finance", "/coverage.xlsx").headers["content-disposition"]
    assert disposition == "attachment; filename=\"coverage.xlsx\"; filename*=UTF-8''%E8%A6%86%E7%9B%96%E7%8E%87.xlsx"


def test_the_public_downloads_disclosures_in_its_own_view(demo: Service) -> None:
    """The public's disclosure rows are its narrower model's (no due day, no lateness, nobody's id), CSV and xlsx
    alike; an empty answer's header names no column the public could not see."""
    rows = compare(demo, None, "/disclosures", DisclosurePublic)
    assert rows, "the demo discloses"
    keys, _ = csv_rows(demo, None, "/disclosures", {"fiscal_year": 2099})
    assert keys == [column.key for column in columns_of(DisclosurePublic)]
    assert "due_on" not in keys
    assert "done_by_id" not in keys
