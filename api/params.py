"""Query and path parameters hold only what the ledger can store and compare.

A control character — NUL above all, which PostgreSQL's ``text`` refuses — or a lone surrogate in any parameter of
any route, named or not, is a 422 ``validation-failed`` problem naming the parameter (``query.department``),
answered before authentication and before any dependency or query runs: the same characters the ledger refuses in
the text of a command (:func:`ledger.values.text`), tab and newline aside.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from ledger.domain.values import CONTROL_CHARACTER, SURROGATE, key
from projections.search import MAX_QUERY


def _searchable(value: str | None) -> str | None:
    if value is not None and not key(value):
        raise ValueError("a search needs at least one character that is not a space")
    return value


NameSearch = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_QUERY,
        description="Part of the name, in any spelling (full- or half-width, case): 教育, 校舍, ＡＢＣ",
        examples=["校舍"],
    ),
    AfterValidator(_searchable),
]


def _unstorable(value: str) -> str | None:
    found = CONTROL_CHARACTER.search(value) or SURROGATE.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_parameters(request: Request) -> None:
    """Refuse the request if a path or query parameter (its name or its value) holds a character the ledger cannot
    store or compare."""
    errors = []
    sources: tuple[tuple[str, Iterable[tuple[str, str]]], ...] = (
        ("path", request.path_params.items()),
        ("query", request.query_params.multi_items()),
    )
    for where, items in sources:
        for name, value in items:
            character = _unstorable(name) or _unstorable(str(value))
            if character is not None:
                errors.append(
                    {
                        "type": "string_pattern_mismatch",
                        "loc": (where, name),
                        "input": value,
                        "msg": f"contains {character}, a control character or lone surrogate, which the "
                        "ledger neither stores nor compares",
                        "ctx": {"zh": f"含有{character}（控制字符或孤立代理项），账本既不存储也不比较此类字符"},
                    }
                )
    if errors:
        raise RequestValidationError(errors)
