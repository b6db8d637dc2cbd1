"""Every read model's list routes as downloads: ``GET <route>.csv`` and ``GET <route>.xlsx`` (下载 CSV / Excel).

A list route marked :func:`downloadable` gets a sibling route made from it (:func:`download_routes`, called by
``create_app``): the same parameters, the same dependencies, the route's own function called to read the rows. So a
download honours exactly the filters, the roles and the scopes of the JSON route — a department downloads its own
rows, the public the disclosed ones — and refuses what it refuses, with the same problems, before a byte is sent.

- A paginated route (it answers a :class:`~api.schemas.common.Page`) is read page after page at its largest page
  size (at most :data:`PAGE` rows), following ``next_cursor``; its ``cursor`` and ``limit`` are not parameters of
  the download. A route with a ``limit`` and no cursor is read up to its largest ``limit`` unless the download asks
  for fewer.
- Every page is read in one ``REPEATABLE READ READ ONLY`` transaction: the download is one snapshot of the read
  model, at the log position it names in ``X-Ledger-Position``, however long it takes.
- A CSV streams as it is read, a page at a time. An .xlsx is a zip whose directory comes last: it is written to a
  temporary file as the pages are read (constant memory), then sent.
- ``?header=`` chooses the header: ``zh`` (default) one row of Chinese labels, which is what Excel's filters,
  sorting and pivot tables want; ``en`` one row of the JSON keys, for programs that read the file as they read the
  JSON; ``both`` the Chinese row, then the keys.

Exports add no state: they read the read models, which are derived from the log.
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import UnionType
from typing import IO, Annotated, Any, TypeVar, Union, get_args, get_origin
from urllib.parse import quote

from annotated_types import Le
from fastapi import Path, Query, Request, Response
from fastapi.dependencies.utils import get_typed_signature
from fastapi.params import Depends
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.routing import BaseRoute

from api.body import LedgerRoute
from api.deps import read_connection
from api.downloads.tables import Column, Header, columns_of, csv_chunks, write_xlsx
from api.problems import documented
from api.schemas.common import Page
from ledger.domain.errors import NotFound
from projections.base import Conn
from projections.positions import positions

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024
PAGE = 1000  # rows read at a time, at most: what one page of a download holds in memory
_MARK = "__jixiao_download__"
_ADDED = ("format", "header", "download_request")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class Download:
    """What a list route's downloads are of: its read model (registry name) and their title, Chinese and English."""

    read_model: str
    title: str  # the sheet's name, and the file's
    title_en: str  # the console's table in English


def downloadable(read_model: str, title: str, title_en: str) -> Callable[[Endpoint], Endpoint]:
    """Mark a list route of ``read_model`` (its name in the registry) as downloadable, titled ``title`` (English:
    ``title_en``)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _MARK, Download(read_model, title, title_en))
        return endpoint

    return mark


def download_of(route: BaseRoute) -> Download | None:
    """The download a route is marked with, if it is a marked GET route."""
    if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
        return None
    found = getattr(route.endpoint, _MARK, None)
    return found if isinstance(found, Download) else None


def download_routes(routes: Iterable[BaseRoute]) -> list[APIRoute]:
    """The download routes of every marked route among ``routes``."""
    made = []
    for route in routes:
        spec = download_of(route)
        if spec is not None:
            assert isinstance(route, APIRoute)
            made.append(_download_route(route, spec))
    return made


# ------------------------------------------------------------------------------------------------ the route


@dataclass(frozen=True)
class _Paging:
    size: int  # the route's largest page
    cursor: TypeAdapter[Any]  # next_cursor (text) as the route's cursor parameter takes it


def _download_route(route: APIRoute, spec: Download) -> APIRoute:
    endpoint = route.endpoint
    if inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{route.path}: a downloadable list route is a plain function (it is called page by page)")
    parameters = {
        name: parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name, parameter in get_typed_signature(endpoint).parameters.items()
    }
    clash = set(_ADDED) & set(parameters)
    if clash:
        raise TypeError(f"{route.path}: parameters {sorted(clash)} are the download's own")
    connections = [name for name, parameter in parameters.items() if _is_read_connection(parameter.annotation)]
    if len(connections) != 1:
        raise TypeError(f"{route.path}: a downloadable list route reads one read-model connection (ReadConn)")
    conn_name = connections[0]
    paging = None
    if _is_paged(route.response_model):
        paging = _Paging(_largest(parameters.pop("limit")), TypeAdapter(_plain(parameters.pop("cursor").annotation)))
    elif "limit" in parameters:
        parameters["limit"] = parameters["limit"].replace(default=_largest(parameters["limit"]))
    listed = None if paging else _listed_model(route.response_model)
    base = route.path.strip("/").replace("/", "-") or "rows"

    def download(**kwargs: Any) -> Response:
        form = kwargs.pop("format")
        header = kwargs.pop("header")
        request: Request = kwargs.pop("download_request")
        if form not in MEDIA_TYPES:
            raise NotFound(
                f"no download as {form!r}: {route.path}.csv or {route.path}.xlsx",
                code="download-format-unknown",
                field="path.format",
            )
        export = _Export(spec.read_model, kwargs[conn_name], lambda cursor: _call(endpoint, kwargs, paging, cursor))
        export.start(paging, listed)
        # RFC 6266: an ASCII name for old clients, the Chinese title (RFC 8187) for the others
        disposition = f"attachment; filename=\"{base}.{form}\"; filename*=UTF-8''{quote(spec.title)}.{form}"
        headers = {
            "Content-Disposition": disposition,
            "X-Ledger-Position": str(export.position),
            "Cache-Control": "no-store",
        }
        if form == "csv":
            return StreamingResponse(
                csv_chunks(export.columns, header, export.pages()), media_type=MEDIA_TYPES[form], headers=headers
            )
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _sent once sent)
        try:
            write_xlsx(file, spec.title, export.columns, header, export.pages(), request.app.state.settings.zone)
            headers["Content-Length"] = str(file.tell())
            file.seek(0)
        except BaseException:
            file.close()
            raise
        return StreamingResponse(_sent(file), media_type=MEDIA_TYPES[form], headers=headers)

    added = [
        inspect.Parameter(
            "format",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str,
                Path(
                    max_length=16,
                    description="csv (UTF-8 with BOM) or xlsx (Excel)",
                    json_schema_extra={"enum": list(MEDIA_TYPES)},
                ),
            ],
        ),
        inspect.Parameter(
            "header",
            inspect.Parameter.KEYWORD_ONLY,
            default="zh",
            annotation=Annotated[
                Header,
                Query(description="The header: zh Chinese labels (default), en the JSON keys, both (Chinese first)"),
            ],
        ),
        inspect.Parameter("download_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
    ]
    download.__signature__ = inspect.Signature([*parameters.values(), *added], return_annotation=Response)  # type: ignore[attr-defined]
    download.__name__ = f"{endpoint.__name__}_download"
    download.made_from = endpoint  # type: ignore[attr-defined]  # its problems are the list route's (api.openapi)
    download.problem_codes = ("download-format-unknown",)  # type: ignore[attr-defined]  # and its own
    return LedgerRoute(
        f"{route.path}.{{format}}",
        download,
        methods=["GET"],
        response_class=StreamingResponse,
        name=download.__name__,
        tags=route.tags,
        dependencies=route.dependencies,
        summary=f"{spec.title}: download as CSV or Excel (下载)",
        description=(
            f"The rows of `GET {route.path}` as a CSV (UTF-8 with BOM) or an Excel workbook: the same filters, roles "
            "and scopes, every page, one snapshot (its log position in `X-Ledger-Position`). Chinese headers by "
            "default (`header=en`: the JSON keys; `both`: both rows); amounts exact, as numbers with two places in "
            "Excel; dates as dates."
        ),
        responses={
            200: {
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
                "description": "The table, as an attachment",
            },
            **documented(401, 403, 404, 422, 503),
        },
    )


class _Export:
    """A route's answers, page after page, in one read-only snapshot."""

    def __init__(self, read_model: str, conn: Conn, call: Callable[[Any], Any]) -> None:
        self.read_model = read_model
        self.conn = conn
        self.call = call
        self.position = 0
        self.columns: list[Column] = []
        self.first: Any = None
        self.paging: _Paging | None = None

    def start(self, paging: _Paging | None, listed: tuple[type[BaseModel], ...] | None) -> None:
        """Read the first page (the route refuses here, if it refuses), and the position it reflects."""
        self.paging = paging
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            self.position = positions(self.conn, [self.read_model])
            self.first = self.call(None)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        model = _page_model(type(self.first)) if listed is None else _row_model(listed, self.first)
        self.columns = columns_of(model)

    def pages(self) -> Iterator[list[BaseModel]]:
        """Each page's rows; the snapshot ends with the last page read. (Cut short — the client gone — the
        connection goes back to the pool inside the transaction, which the pool rolls back.)"""
        result = self.first
        self.first = None
        while True:
            cursor = result.next_cursor if self.paging is not None else None
            if cursor is None:
                self.conn.execute("COMMIT")
            yield list(result.items) if self.paging is not None else list(result)
            if cursor is None:
                return
            assert self.paging is not None
            result = self.call(self.paging.cursor.validate_python(cursor))


def _row_model(models: tuple[type[BaseModel], ...], rows: list[Any]) -> type[BaseModel]:
    """The model of the rows the route answered; with none, the one of fewest fields (a reader's narrowest view: the
    header of an empty download names no column the reader could not see)."""
    if rows:
        return type(rows[0])
    return min(models, key=lambda model: len(model.model_fields))


def _call(endpoint: Callable[..., Any], kwargs: dict[str, Any], paging: _Paging | None, cursor: Any) -> Any:
    if paging is None:
        return endpoint(**kwargs)
    return endpoint(**kwargs, cursor=cursor, limit=min(paging.size, PAGE))


def _sent(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk


# ------------------------------------------------------------------------------------------ reading the route


def _is_read_connection(annotation: Any) -> bool:
    return any(isinstance(meta, Depends) and meta.dependency is read_connection for meta in get_args(annotation)[1:])


def _largest(parameter: inspect.Parameter) -> int:
    """The largest value a route's ``limit`` takes (its ``le``)."""
    for meta in get_args(parameter.annotation)[1:]:
        for bound in getattr(meta, "metadata", []):
            if isinstance(bound, Le):
                return int(bound.le)  # type: ignore[call-overload,no-any-return]
    raise TypeError(f"{parameter.name} has no upper bound: a download could not read it all")


def _plain(annotation: Any) -> Any:
    """``X`` of ``Annotated[X, ...]``."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _members(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)


def _is_paged(response_model: Any) -> bool:
    return all(isinstance(member, type) and issubclass(member, Page) for member in _members(response_model))


def _page_model(page: type[BaseModel]) -> type[BaseModel]:
    (item,) = get_args(page.model_fields["items"].annotation)
    assert isinstance(item, type), page
    assert issubclass(item, BaseModel), page
    return item


def _listed_model(response_model: Any) -> tuple[type[BaseModel], ...]:
    """The models a list route's rows may be: one, or one per reader where the route answers a union of lists
    (``list[DisclosureRow] | list[DisclosurePublic]``: what finance reads, what the public reads)."""
    lists = get_args(response_model) if get_origin(response_model) in (Union, UnionType) else (response_model,)
    models = []
    for listed in lists:
        item = get_args(listed)[0] if get_origin(listed) is list and len(get_args(listed)) == 1 else None
        if not (isinstance(item, type) and issubclass(item, BaseModel)):
            raise TypeError(f"a downloadable list route answers a list of one model or a Page, not {response_model}")
        models.append(item)
    return tuple(models)
