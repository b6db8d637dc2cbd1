"""The comparison key of names and codes is the same whether Python computes it (most read models, the filters) or
PostgreSQL does (the trail, built in SQL from the log's rows): ``ledger.values.key`` and ``KEY_SQL`` agree."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.values import KEY_SQL, key

pytestmark = pytest.mark.db
Conn = psycopg.Connection[tuple[Any, ...]]

# What names are made of, and what makes two spellings of one: decomposed marks, compatibility ideographs,
# full-width forms, odd spaces, case — and, beside them, any character Python's Unicode database has assigned (the
# normalisation of an assigned character never changes between Unicode versions, so the two sides must agree).
TRICKY = list(
    "教育局卫生健康委员会（）()ＡＢＣabcXYZ-－_0０９一二 \t\n\u3000\u00a0\u2003\u0301\u0308\u030a"
    "\uf900\uf901\u8c48\u66f4\u2460\u00bd\u1e9b\u0130\u0131\u00df\u212b\u00c5AaIi\u0307"
)
ASSIGNED = st.characters(exclude_categories=["Cs", "Cc", "Cn", "Co"]).filter(lambda c: unicodedata.category(c) != "Cn")
TEXTS = st.lists(st.text(st.one_of(st.sampled_from(TRICKY), ASSIGNED), max_size=24), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def conn(pg_admin_url: str) -> Iterator[Conn]:
    with psycopg.connect(pg_admin_url, autocommit=True) as connection:
        yield connection


@given(texts=TEXTS)
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_postgresql_and_python_compute_the_same_key(conn: Conn, texts: list[str]) -> None:
    rows = conn.execute(
        f"SELECT {KEY_SQL.format('t')} FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n", (texts,)
    ).fetchall()
    assert [row[0] for row in rows] == [key(text) for text in texts]


def test_the_spellings_the_ledger_unifies_are_unified_in_sql(conn: Conn) -> None:
    pairs = [
        ("\uf900城区", "\u8c48城区"),
        ("ＡＢＣ公司", "abc公司"),
        ("某某（集团）", "某某(集团)"),
        (" 教育局\u3000", "教育局"),
        (unicodedata.normalize("NFD", "Zhōng"), "zhōng"),
        ("a \t\n b", "a b"),
    ]
    for one, other in pairs:
        row = conn.execute(f"SELECT {KEY_SQL.format('%s')}, {KEY_SQL.format('%s')}", (one, other)).fetchone()
        assert row is not None
        assert row[0] == row[1] == key(one) == key(other), (one, other)
