"""A read model's rows as a CSV or an Excel (.xlsx) table: columns typed from the rows' schema, written page by page.

Both take the rows a JSON route answers (pydantic models), so a download holds exactly what the JSON holds:

- **CSV** is UTF-8 with a byte order mark, lines ending CRLF (RFC 4180). Without the mark, Excel reads a CSV in the
  system's ANSI code page — GBK (CP936) on a Chinese Windows — and every Chinese character comes out garbled; with
  it, Excel (and WPS) read UTF-8. Each value is its JSON text: an amount as its exact decimal (``4800000.10``), a
  date as ``2021-03-19``, a time in ISO 8601 with its offset, true / false, lists and objects as compact JSON. A
  text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written after an apostrophe
  (``'=…``), so that a name or reason typed by anyone is shown, never run, as a formula (CSV injection); Excel
  shows such a cell without the apostrophe.
- **xlsx** holds typed cells: integers and amounts as numbers, amounts with a fixed two-place format (``#,##0.00``);
  dates as dates (``yyyy-mm-dd``), times as date-times in the service's time zone (Excel's have none: the header
  says which), booleans as booleans, text as text (never a formula, never a link). xlsxwriter writes a Decimal's own
  digits into the file (``f"{value:.16G}"`` on the Decimal: ``9.95`` stays ``9.95``, where a float would be written
  ``9.949999999999999``); a number of more than 15 significant digits, which Excel cannot hold exactly, is written
  as text rather than changed. xlsxwriter's constant-memory mode writes each row to a temporary file as it comes,
  and a sheet holds at most Excel's 1,048,576 rows: the rows go on in another sheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from types import NoneType, UnionType
from typing import IO, Any, Literal, Union, get_args, get_origin
from uuid import UUID
from zoneinfo import ZoneInfo

import pydantic_core
import xlsxwriter
from pydantic import BaseModel

from api.downloads.labels import english, label
from api.labels import SUFFIX as LABEL_SUFFIX

Header = Literal["zh", "en", "both"]
BOM = "\ufeff"
EXCEL_ROWS = 1_048_576  # rows in one sheet, headers included
EXCEL_DIGITS = 15  # significant digits an Excel number holds exactly
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    JSON = "json"  # a list or an object


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field
    label: str  # the Chinese header (api.downloads.labels)
    kind: Kind
    english: str = ""  # the English header (api.downloads.labels), for the console's pages in English


def kind_of(annotation: Any) -> Kind:
    """How a field's values are written, from its annotation (``X | None`` as ``X``)."""
    if get_origin(annotation) in (Union, UnionType):
        members = [member for member in get_args(annotation) if member is not NoneType]
        if len(members) != 1:
            return Kind.JSON
        annotation = members[0]
    if annotation is bool:
        return Kind.BOOLEAN
    if annotation is int:
        return Kind.INTEGER
    if annotation is Decimal:
        return Kind.DECIMAL
    if annotation is datetime:
        return Kind.DATETIME
    if annotation is date:
        return Kind.DATE
    if annotation in (str, UUID) or (isinstance(annotation, type) and issubclass(annotation, str)):
        return Kind.TEXT
    return Kind.JSON


def columns_of(model: type[BaseModel]) -> list[Column]:
    """The columns of ``model``'s rows, in its fields' order; a field with no label is headed by its key. A
    field holding codes is followed by their Chinese labels (``stage``, then ``stage_zh``: api.labels), as in JSON."""
    coded: dict[str, str] = getattr(model, "__coded__", {})
    columns = []
    for name, field in model.model_fields.items():
        kind = kind_of(field.annotation)
        heading = label(model.__name__, name) or name
        in_english = english(model.__name__, name) or name
        columns.append(Column(name, heading, kind, in_english))
        if name in coded:
            columns.append(
                Column(
                    name + LABEL_SUFFIX,
                    f"{heading}（中文）",
                    Kind.JSON if kind is Kind.JSON else Kind.TEXT,
                    f"{in_english} (Chinese)",
                )
            )
    return columns


def header_rows(columns: Sequence[Column], header: Header, *, zone: ZoneInfo | None = None) -> list[list[str]]:
    """The header row(s): Chinese labels (``zh``), the JSON keys (``en``), or both, Chinese first."""

    def zh(column: Column) -> str:
        if zone is not None and column.kind is Kind.DATETIME:
            return f"{column.label}（{zone.key}）"
        return column.label

    rows = {"zh": [[zh(c) for c in columns]], "en": [[c.key for c in columns]]}
    if header == "both":
        return rows["zh"] + rows["en"]
    return rows[header]


# --------------------------------------------------------------------------------------------------------- CSV


def _defused(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv_cell(kind: Kind, value: Any) -> str:
    """One value of a row dumped in JSON mode, as its CSV text."""
    if value is None:
        return ""
    if kind is Kind.JSON:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if kind is Kind.TEXT:
        return _defused(str(value))
    return str(value)  # numbers and dates: their JSON text (an amount's exact decimal digits)


def csv_chunks(columns: Sequence[Column], header: Header, pages: Iterable[Sequence[BaseModel]]) -> Iterator[bytes]:
    """The CSV, UTF-8 with a byte order mark: the header, then one chunk per page of rows (never the whole table)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerows(header_rows(columns, header))
    for page in pages:
        for item in page:
            row = item.model_dump(mode="json")
            writer.writerow([_csv_cell(column.kind, row[column.key]) for column in columns])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest.encode("utf-8")


# -------------------------------------------------------------------------------------------------------- xlsx

WIDTHS = {
    Kind.TEXT: 20,
    Kind.INTEGER: 10,
    Kind.DECIMAL: 18,
    Kind.BOOLEAN: 8,
    Kind.DATE: 12,
    Kind.DATETIME: 20,
    Kind.JSON: 30,
}
AMOUNT_FORMAT = "#,##0.00"


class _Sheets:
    """The workbook's sheets, a new one begun whenever one is full."""

    def __init__(
        self, workbook: xlsxwriter.Workbook, title: str, columns: Sequence[Column], headers: list[list[str]], rows: int
    ) -> None:
        self.workbook = workbook
        self.title = _sheet_name(title)
        self.columns = columns
        self.headers = headers
        self.rows = rows
        self.heading = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.count = 0
        self.sheet: Any = None
        self.row = rows  # full: the first row begins a sheet

    def next_row(self) -> tuple[Any, int]:
        if self.row >= self.rows:
            self._finish()
            self.count += 1
            name = self.title if self.count == 1 else _sheet_name(f"{self.title} ({self.count})")
            self.sheet = self.workbook.add_worksheet(name)
            for index, column in enumerate(self.columns):
                self.sheet.set_column(index, index, WIDTHS[column.kind])
            for index, header in enumerate(self.headers):
                self.sheet.write_row(index, 0, header, self.heading)
            self.sheet.freeze_panes(len(self.headers), 0)
            self.row = len(self.headers)
        self.row += 1
        return self.sheet, self.row - 1

    def _finish(self) -> None:
        if self.sheet is not None and self.columns:
            self.sheet.autofilter(len(self.headers) - 1, 0, self.row - 1, len(self.columns) - 1)

    def close(self) -> None:
        if self.sheet is None:
            self.next_row()  # no rows: a sheet with the header alone
            self.row -= 1
        self._finish()


def _sheet_name(title: str) -> str:
    """A valid sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    for character in "[]:*?/\\":
        title = title.replace(character, "_")
    return title[:31] or "Sheet1"


def write_xlsx(
    out: IO[bytes],
    title: str,
    columns: Sequence[Column],
    header: Header,
    pages: Iterable[Sequence[BaseModel]],
    zone: ZoneInfo,
    *,
    sheet_rows: int = EXCEL_ROWS,
) -> int:
    """Write the rows of ``pages`` as an .xlsx workbook to ``out`` (seekable); the number of rows written."""
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    places: dict[int, Any] = {2: workbook.add_format({"num_format": AMOUNT_FORMAT})}
    sheets = _Sheets(workbook, title, columns, header_rows(columns, header, zone=zone), sheet_rows)
    written = 0
    for page in pages:
        for item in page:
            sheet, row = sheets.next_row()
            values = item.model_dump()
            for index, column in enumerate(columns):
                value = values[column.key]
                if value is None:
                    continue
                kind = column.kind
                if kind is Kind.TEXT:
                    sheet.write_string(row, index, value.value if isinstance(value, Enum) else str(value))
                elif kind is Kind.DECIMAL:
                    _write_decimal(workbook, sheet, row, index, value, places)
                elif kind is Kind.INTEGER:
                    sheet.write_number(row, index, value)
                elif kind is Kind.BOOLEAN:
                    sheet.write_boolean(row, index, value)
                elif kind is Kind.DATETIME:
                    sheet.write_datetime(row, index, value.astimezone(zone).replace(tzinfo=None), moment)
                elif kind is Kind.DATE:
                    sheet.write_datetime(row, index, value, day)
                else:
                    sheet.write_string(row, index, pydantic_core.to_json(value).decode())
            written += 1
    sheets.close()
    workbook.close()
    return written


def _write_decimal(
    workbook: xlsxwriter.Workbook, sheet: Any, row: int, column: int, value: Decimal, places: dict[int, Any]
) -> None:
    """An amount as a number with two places shown (more if it has more), or as text if Excel would change it."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or len(value.normalize().as_tuple().digits) > EXCEL_DIGITS:
        sheet.write_string(row, column, str(value))
        return
    shown = max(2, -exponent)
    if shown not in places:
        places[shown] = workbook.add_format({"num_format": f"#,##0.{'0' * shown}"})
    sheet.write_number(row, column, value, places[shown])
