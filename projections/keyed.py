"""Bulk load and store of keyed rows: how read models fold a page of events in memory.

A page touches some keys; their rows are read in one query, changed in Python, and written back with one
UPSERT of a JSON document — two statements per page and table, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
from psycopg import sql
from psycopg.types.json import Json

from projections.base import Conn, Row, composed


def create_table(
    conn: Conn, table: str, columns: dict[str, str], key: Sequence[str], indexes: Iterable[Sequence[str]] = ()
) -> None:
    definition = sql.SQL(", ").join(
        [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in columns.items()]
        + [sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, key)))]
    )
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(sql.Identifier(table), definition))
    for columns_ in indexes:
        name = f"{table}_{'_'.join(columns_)}_idx"
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(name), sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns_))
            )
        )


def load(
    conn: Conn, table: str, columns: Sequence[str], key: Sequence[str], keys: Iterable[tuple[Any, ...]]
) -> dict[tuple[Any, ...], Row]:
    """The rows of ``keys`` (best distinct: a key given twice is read twice), by key."""
    wanted = list(keys)
    if not wanted:
        return {}
    arrays = [list(values) for values in zip(*wanted, strict=True)]

    def build() -> sql.Composable:
        # unnest needs typed arrays: let PostgreSQL infer them from the table's own columns.
        typed = sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(_column_type(conn, table, k))) for k in key)
        return sql.SQL("SELECT {} FROM {} t JOIN unnest({}) AS k({}) USING ({})").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns),
            sql.Identifier(table),
            typed,
            sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.SQL(", ").join(map(sql.Identifier, key)),
        )

    query = composed(conn, ("keyed.load", table, tuple(columns), tuple(key)), build)
    rows = {}
    for values in conn.execute(query, arrays, prepare=True).fetchall():
        row = dict(zip(columns, values, strict=True))
        rows[tuple(row[k] for k in key)] = row
    return rows


def store(conn: Conn, table: str, columns: Sequence[str], key: Sequence[str], rows: Iterable[Row]) -> None:
    """Upsert ``rows`` in one statement. Rows with the same key: the last one wins, as one upsert after another
    would leave it.

    The rows travel as one JSON document that PostgreSQL turns back into the table's row type
    (``json_populate_recordset``, each value through its column type's input function): msgspec's encoder writes it
    in C, Decimals, UUIDs, dates and times included (as their text, which their input functions read exactly: a
    Decimal as ``str()`` gives it, a time in ISO 8601), where the stdlib's called back into Python for each of those
    and psycopg's executemany sent a statement per row.
    """
    latest = {tuple(row[k] for k in key): row for row in rows}
    if not latest:
        return
    # Keys that are not columns are ignored by json_populate_recordset; every column is in every row.
    document = Json(list(latest.values()), dumps=msgspec.json.encode)

    def build() -> sql.Composable:
        updates = [c for c in columns if c not in key]
        action = (
            sql.SQL("DO UPDATE SET {}").format(
                sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates)
            )
            if updates
            else sql.SQL("DO NOTHING")
        )
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        return sql.SQL(
            "INSERT INTO {t} ({c}) SELECT {c} FROM json_populate_recordset(NULL::{t}, %s::json) ON CONFLICT ({k}) {a}"
        ).format(t=sql.Identifier(table), c=names, k=sql.SQL(", ").join(map(sql.Identifier, key)), a=action)

    query = composed(conn, ("keyed.store", table, tuple(columns), tuple(key)), build)
    conn.execute(query, (document,), prepare=True)


def add_counts(
    conn: Conn,
    table: str,
    key: Sequence[str],
    columns: Sequence[str],
    changes: Iterable[tuple[Row | None, Row | None]],
    counts: Callable[[Row], tuple[tuple[Any, ...], Sequence[int]]],
) -> None:
    """Keep counters in ``table`` (one row per ``key``, integer ``columns``) as sums over rows of another table.

    ``changes`` are rows before and after a page (None: absent); ``counts(row)`` gives the key a row counts under
    and what it adds to each column. The page's difference is added to the counters in one statement, so an
    aggregate over a fiscal year costs what the page touched, not what the year holds.
    """
    deltas: dict[tuple[Any, ...], list[int]] = {}
    for before, after in changes:
        for row, sign in ((before, -1), (after, 1)):
            if row is None:
                continue
            group, values = counts(row)
            total = deltas.setdefault(group, [0] * len(columns))
            for i, value in enumerate(values):
                total[i] += sign * value
    changed = [(group, total) for group, total in deltas.items() if any(total)]
    if not changed:
        return
    arrays = [[group[i] for group, _ in changed] for i in range(len(key))]
    arrays += [[total[i] for _, total in changed] for i in range(len(columns))]
    names = [*key, *columns]

    def build() -> sql.Composable:
        return sql.SQL("INSERT INTO {t} AS t ({}) SELECT * FROM unnest({}) ON CONFLICT ({}) DO UPDATE SET {}").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(_column_type(conn, table, c))) for c in names),
            sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.SQL(", ").join(sql.SQL("{0} = t.{0} + EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns),
            t=sql.Identifier(table),
        )

    query = composed(conn, ("keyed.add_counts", table, tuple(key), tuple(columns)), build)
    conn.execute(query, arrays, prepare=True)


_TYPES: dict[tuple[str, str], str] = {}


def _column_type(conn: Conn, table: str, column: str) -> str:
    cached = _TYPES.get((table, column))
    if cached is None:
        row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
            (table, column),
        ).fetchone()
        assert row is not None, f"{table}.{column} does not exist"
        cached = _TYPES[(table, column)] = str(row[0])
    return cached
