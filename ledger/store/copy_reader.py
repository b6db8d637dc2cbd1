"""The verifier's reader of a binary ``COPY … TO STDOUT``, straight from libpq, in batches of rows as they arrive.

psycopg's ``Copy.read()`` runs a generator and a wait per row, about a microsecond of Python each — as much as the C
accelerator's whole check of a row (:mod:`ledger.log.rows`). :func:`copy_out` reads through psycopg's low-level
interface (``Connection.pgconn``, :mod:`psycopg.pq`) instead, and must give exactly what psycopg's own ``Copy``
gives, raise what psycopg would, and never leave a connection half-read (``tests/ledger/store/test_copy_reader.py``).
"""

from __future__ import annotations

import selectors
import struct
from collections.abc import Generator
from typing import Any

import psycopg
from psycopg import pq, sql
from psycopg.abc import Buffer

COPY_BATCH = 1024
"""Rows read before they are handed over (fewer when no more have arrived yet)."""

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_LENGTH = struct.Struct(">i")


def verifier_connection(database_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection for :func:`copy_out`.

    The topic's UTF-8 bytes are hashed as the server sends them: it asks for UTF-8 whatever the server's default.
    """
    return psycopg.connect(database_url, autocommit=True, client_encoding="UTF8")


def copy_out(
    conn: psycopg.Connection[tuple[Any, ...]], query: str | sql.Composable
) -> Generator[list[Buffer], None, None]:
    """The rows of a binary ``COPY … TO STDOUT`` in batches as they arrive: PostgreSQL sends each row as one
    CopyData message, the file header with the first one (cut off here); the trailer stays in (a row of two bytes).

    A batch is handed over when it is full or when no more rows have arrived yet (checked while the server sends
    more). ``conn`` must be an idle autocommit connection (:func:`verifier_connection`); if the reader is left
    before the end, it closes ``conn`` (a COPY left half-read cannot be closed cleanly).
    """
    if not conn.autocommit or conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.ProgrammingError("the verifier's COPY needs an idle autocommit connection")
    text = query.encode() if isinstance(query, str) else query.as_bytes(conn)
    pgconn = conn.pgconn
    selector = selectors.DefaultSelector()
    done = False
    try:
        selector.register(pgconn.socket, selectors.EVENT_READ | selectors.EVENT_WRITE)
        pgconn.send_query(text)
        while pgconn.flush():  # not all sent yet: wait until the socket takes more (or answers)
            selector.select()
            pgconn.consume_input()
        selector.modify(pgconn.socket, selectors.EVENT_READ)
        result = _next_result(pgconn, selector)
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            raise _copy_error(pgconn, result)
        get = pgconn.get_copy_data
        batch: list[Buffer] = []
        head = True
        while True:
            size, data = get(1)  # a row already received, without waiting
            if size > 0:
                if head:  # the file header: signature, flags, header extension
                    if bytes(data[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
                        raise psycopg.DataError("the server's COPY output is not in PostgreSQL's binary format")
                    data = data[19 + _LENGTH.unpack_from(data, 15)[0] :]
                    head = False
                    if not len(data):
                        continue
                batch.append(data)
                if len(batch) == COPY_BATCH:
                    yield batch
                    batch = []
            elif size == 0:  # none received yet
                if batch:
                    yield batch
                    batch = []
                selector.select()
                pgconn.consume_input()
            else:  # -1: the end of the data (psycopg raises on -2, an error)
                break
        if batch:
            yield batch
        result = _next_result(pgconn, selector)
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            raise _copy_error(pgconn, result)
        if _next_result(pgconn, selector) is not None:
            raise psycopg.ProgrammingError("the verifier's COPY returned more than one result")
        done = True
    finally:
        selector.close()
        if not done:
            conn.close()


def _next_result(pgconn: pq.abc.PGconn, selector: selectors.BaseSelector) -> pq.abc.PGresult | None:
    """libpq's next result, waiting for it without blocking in libpq."""
    while pgconn.is_busy():
        selector.select()
        pgconn.consume_input()
    return pgconn.get_result()


def _copy_error(pgconn: pq.abc.PGconn, result: pq.abc.PGresult | None) -> psycopg.Error:
    if result is None:
        return psycopg.OperationalError(pgconn.error_message.decode(errors="replace"))
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    try:
        error = psycopg.errors.lookup(sqlstate.decode()) if sqlstate else psycopg.DatabaseError
    except KeyError:
        error = psycopg.DatabaseError
    return error(result.error_message.decode(errors="replace") or f"unexpected result {result.status!r}")
