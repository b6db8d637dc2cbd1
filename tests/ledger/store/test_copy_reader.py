"""verify_log's COPY reader (``ledger.store.copy_reader.copy_out``): it reads libpq directly, so it must give exactly
what psycopg's own ``Copy`` gives, raise what psycopg would, and never leave a connection half-read."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from ledger.store.copy_reader import COPY_BATCH, copy_out, verifier_connection

pytestmark = pytest.mark.db

ROWS = (
    "COPY (SELECT i::bigint, repeat('x', i % 300) AS t, decode(md5(i::text), 'hex') AS b "
    "FROM generate_series(1, {n}) i ORDER BY i) TO STDOUT (FORMAT BINARY)"
)


def psycopg_rows(url: str, query: str) -> list[bytes]:
    """The same rows through psycopg's Copy, the header cut off the first as the verifier does."""
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur, cur.copy(query) as copy:
        blocks = [bytes(block) for block in copy]
    head = blocks[0]
    body = head[19 + int.from_bytes(head[15:19], "big") :]
    return ([body] if body else []) + blocks[1:]


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 1025, 5000])
def test_the_reader_gives_the_rows_psycopg_gives_in_batches(database_url: str, n: int) -> None:
    query = ROWS.format(n=n)
    with verifier_connection(database_url) as conn:
        batches = list(copy_out(conn, query))
        assert all(0 < len(batch) <= COPY_BATCH for batch in batches)
        rows = [bytes(row) for row in itertools.chain.from_iterable(batches)]
        assert rows == psycopg_rows(database_url, query)
        assert rows[-1] == b"\xff\xff"  # the trailer stays in
        assert len(rows) == n + 1
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is left ready


def test_an_error_before_the_rows_raises_psycopgs_class(database_url: str) -> None:
    query = "COPY (SELECT * FROM no_such_table) TO STDOUT (FORMAT BINARY)"
    with verifier_connection(database_url) as conn, pytest.raises(psycopg.errors.UndefinedTable, match="no_such_table"):
        list(copy_out(conn, query))


def test_an_error_in_the_middle_of_the_rows_raises_psycopgs_class(database_url: str) -> None:
    query = "COPY (SELECT 1 / (i - 3000) FROM generate_series(1, 5000) i) TO STDOUT (FORMAT BINARY)"
    received: list[int] = []

    def read() -> None:
        for batch in copy_out(conn, query):
            received.append(len(batch))

    with verifier_connection(database_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            read()
        assert 0 < sum(received) < 5000


def test_a_reader_left_before_the_end_closes_its_connection(database_url: str) -> None:
    with verifier_connection(database_url) as conn:
        batches = copy_out(conn, ROWS.format(n=5000))
        assert next(batches)
        batches.close()
        assert conn.closed


def test_the_reader_needs_an_idle_autocommit_connection(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.ProgrammingError, match="autocommit"):
        next(copy_out(conn, ROWS.format(n=1)))
