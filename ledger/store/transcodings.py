"""How event values are written as JSON in the log.

The stored bytes are what the leaf hashes commit to, so these encodings are
part of the ledger's format: change one only with a new ``_type_`` name.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from ledger.domain.calendar import CalendarYear
from ledger.domain.values import Indicator, Principal


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass of plain fields, written as an object of its fields."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        self._fields = [field.name for field in dataclasses.fields(cls)]

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_ledger_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(DataclassAsDict(Principal, "principal"))
    transcoder.register(DataclassAsDict(Indicator, "indicator"))
    transcoder.register(DataclassAsDict(CalendarYear, "calendar_year"))


def ledger_transcoder() -> JSONTranscoder:
    """The application's transcoder: the library's default transcodings and the ledger's."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_ledger_transcodings(transcoder)
    return transcoder


def ledger_mapper() -> Mapper[Any]:
    """Decodes stored events exactly as the application does (for readers that are not the application)."""
    return Mapper(ledger_transcoder())


def untyped(value: Any) -> Any:
    """A stored event's JSON (as the feed's ``payload`` gives it) with its typed values as Python values.

    ``{"_type_": "decimal_str", "_data_": "4800000.00"}`` becomes ``Decimal("4800000.00")``, dates and datetimes
    become ``date`` and ``datetime``, a ``uuid_hex`` a ``UUID``; a principal or indicator becomes a plain dict.
    """
    if isinstance(value, list):
        return [untyped(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"_type_", "_data_"}:
        kind, data = value["_type_"], value["_data_"]
        if kind == "decimal_str":
            return Decimal(data)
        if kind == "date_iso":
            return date.fromisoformat(data)
        if kind == "datetime_iso":
            return datetime.fromisoformat(data)
        if kind == "uuid_hex":
            return UUID(data)
        return untyped(data)
    return {key: untyped(item) for key, item in value.items()}
