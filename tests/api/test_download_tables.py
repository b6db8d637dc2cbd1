"""The download tables on their own (no database): typed columns, exact amounts, dates as dates, CSV for Excel."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import openpyxl
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from api.downloads.tables import BOM, Kind, columns_of, csv_chunks, write_xlsx
from ledger.domain.values import key
from projections.search import grams, query_grams

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Row(BaseModel):
    project_id: UUID
    name: str
    requested: Decimal
    approved: Decimal | None
    fiscal_year: int
    due_on: date
    recorded_at: datetime
    inflated: bool
    evidence: list[str]


ROWS = [
    Row(
        project_id=UUID(int=1),
        name='=HYPERLINK("http://example.com")',
        requested=Decimal("9.95"),  # a float would be written 9.949999999999999
        approved=Decimal("123456789012.34"),  # numeric(14,2) at its largest
        fiscal_year=2021,
        due_on=date(2021, 3, 19),
        recorded_at=datetime(2021, 3, 19, 1, 30, 5, tzinfo=UTC),
        inflated=True,
        evidence=["a" * 64],
    ),
    Row(
        project_id=UUID(int=2),
        name="营养改善",
        requested=Decimal("0.10"),
        approved=None,
        fiscal_year=2022,
        due_on=date(2022, 1, 1),
        recorded_at=datetime(2022, 1, 1, 16, 0, tzinfo=UTC),
        inflated=False,
        evidence=[],
    ),
]


def xlsx(rows: list[Row], header: str = "both", sheet_rows: int = 1_048_576) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, "项目状态", columns_of(Row), header, [rows], SHANGHAI, sheet_rows=sheet_rows)  # type: ignore[arg-type]
    return out.getvalue()


def test_columns_are_typed_from_the_schema() -> None:
    kinds = {column.key: column.kind for column in columns_of(Row)}
    assert kinds == {
        "project_id": Kind.TEXT,
        "name": Kind.TEXT,
        "requested": Kind.DECIMAL,
        "approved": Kind.DECIMAL,
        "fiscal_year": Kind.INTEGER,
        "due_on": Kind.DATE,
        "recorded_at": Kind.DATETIME,
        "inflated": Kind.BOOLEAN,
        "evidence": Kind.JSON,
    }
    assert [column.label for column in columns_of(Row)][:3] == ["项目编号", "名称", "申报金额（元）"]


def test_amounts_are_numbers_with_their_exact_digits_and_two_places() -> None:
    data = xlsx(ROWS)
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    written = re.findall(r"<v>([^<]*)</v>", sheet_xml)
    assert {"9.95", "123456789012.34", "0.10"} <= set(written)
    assert "9.949999999999999" not in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = {sheet.cell(2, column).value: column for column in range(1, 10)}  # the keys' row
    requested = sheet.cell(3, cells["requested"])
    assert requested.data_type == "n"
    assert requested.number_format == "#,##0.00"
    assert Decimal(repr(requested.value)) == Decimal("9.95")
    assert sheet.cell(4, cells["approved"]).value is None  # null: an empty cell


def test_a_number_excel_cannot_hold_is_written_as_text() -> None:
    row = ROWS[1].model_copy(update={"requested": Decimal("1234567890123456.78")})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx([row]))).active
    assert sheet is not None
    assert sheet.cell(3, 3).value == "1234567890123456.78"


def test_dates_are_dates_and_times_are_in_the_service_zone() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx(ROWS))).active
    assert sheet is not None
    assert sheet.cell(1, 7).value == "记录时间（Asia/Shanghai）"
    due = sheet.cell(3, 6)
    assert due.is_date
    assert due.value == datetime(2021, 3, 19)
    assert due.number_format == "yyyy-mm-dd"
    recorded = sheet.cell(3, 7)
    assert recorded.is_date
    assert recorded.value == datetime(2021, 3, 19, 9, 30, 5)  # 01:30:05 UTC
    assert sheet.cell(3, 8).value is True
    assert sheet.cell(3, 5).value == 2021


def test_text_stays_text_in_excel() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx(ROWS))).active
    assert sheet is not None
    name = sheet.cell(3, 2)
    assert name.data_type == "s"
    assert name.value == ROWS[0].name
    assert sheet.cell(3, 9).value == f'["{"a" * 64}"]'


def test_a_full_sheet_goes_on_in_another() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx(ROWS * 3, header="zh", sheet_rows=3)))
    assert book.sheetnames == ["项目状态", "项目状态 (2)", "项目状态 (3)"]
    assert [sheet.max_row for sheet in book.worksheets] == [3, 3, 3]  # a header and two rows each
    empty = openpyxl.load_workbook(io.BytesIO(xlsx([], header="en")))
    assert [[cell.value for cell in row] for row in empty.active.iter_rows()] == [
        [column.key for column in columns_of(Row)]
    ]


def test_the_csv_is_utf8_with_a_bom_for_excel_and_holds_the_json_text() -> None:
    data = b"".join(csv_chunks(columns_of(Row), "both", [ROWS[:1], ROWS[1:]]))
    assert data.startswith(BOM.encode())
    assert b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["项目编号", "名称", "申报金额（元）"]
    assert rows[1] == [column.key for column in columns_of(Row)]
    first, second = rows[2], rows[3]
    assert first[1] == "'" + ROWS[0].name  # shown, never run, as a formula
    assert first[2:8] == ["9.95", "123456789012.34", "2021", "2021-03-19", "2021-03-19T01:30:05Z", "true"]
    assert first[8] == f'["{"a" * 64}"]'
    assert second[1:5] == ["营养改善", "0.10", "", "2022"]
    assert second[8] == "[]"


def test_one_header_row_of_either_language() -> None:
    for header, expected in (("zh", "申报金额（元）"), ("en", "requested")):
        data = b"".join(csv_chunks(columns_of(Row), header, [ROWS]))  # type: ignore[arg-type]
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert len(rows) == 3
        assert rows[0][2] == expected


@given(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=4))
def test_a_name_has_every_gram_of_a_part_of_it(name: str, part: str) -> None:
    folded = key(part)
    if folded and folded in key(name):
        assert set(query_grams(folded)) <= set(grams(name))


def test_grams_of_a_chinese_name() -> None:
    assert grams("校舍 改造") == sorted({"校", "舍", " ", "改", "造", "校舍", "舍 ", " 改", "改造"})
    assert query_grams("校舍") == ["校舍"]
    assert query_grams("舍") == ["舍"]
    assert set(query_grams(key("ＡＢＣ"))) <= set(grams("abc 公司"))
