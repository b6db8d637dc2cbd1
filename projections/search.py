"""Search by part of a name (项目名称、机构名称中的任意片段), served by an index on any PostgreSQL.

A name's key (:func:`ledger.domain.values.key`: NFKC, ASCII case folded, spaces collapsed) is kept beside it with its
*grams*: every character and every pair of adjacent characters. A ``text[]`` column with a GIN index (PostgreSQL's
built-in ``array_ops``, no extension) finds the rows whose grams include all of the query's — every pair of adjacent
characters of the query's key, or its one character — and ``strpos`` on the key then keeps exactly the names that
contain the query. The bigrams of pg_bigm, computed in Python when a name is folded into a read model.

Why not pg_trgm, which both the embedded PostgreSQL and Debian's PostgreSQL 15 ship: a trigram index cannot serve a
query of one or two characters (教育, 校舍: the usual length of a Chinese search), and under ``LC_CTYPE=C`` pg_trgm
takes CJK characters for non-word characters and extracts no trigram from a Chinese name at all
(``show_trgm('教育局校舍改造')`` is ``{}`` on PostgreSQL 15 initialised with ``--locale=C``): such a search would
read the whole index. Creating the extension also needs a role allowed to; this needs nothing.
"""

from __future__ import annotations

from psycopg import sql

from ledger.domain.values import key

MAX_QUERY = 100  # characters of a search: a name is shorter


def grams(name: str) -> list[str]:
    """What a name is found by: every character and every two adjacent characters of its key (sorted, distinct)."""
    folded = key(name)
    return sorted({*folded, *(folded[i : i + 2] for i in range(len(folded) - 1))})


def query_grams(folded: str) -> list[str]:
    """The grams a name must all have to contain ``folded`` (a key): its adjacent pairs, or its one character."""
    if len(folded) == 1:
        return [folded]
    return sorted({folded[i : i + 2] for i in range(len(folded) - 1)})


def contains(grams_column: str, key_column: str) -> sql.Composed:
    """The condition "the name contains the query": two parameters, :func:`query_grams` of the query's key (the
    indexed look-up), then the key itself (the exact check)."""
    return sql.SQL("({} @> %s::text[] AND strpos({}, %s) > 0)").format(
        sql.Identifier(grams_column), sql.Identifier(key_column)
    )
