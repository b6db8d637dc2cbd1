"""The eventsourcing library reads its settings from the process environment; the ledger pins the ones it depends
on, so nothing an operator (or another program sharing the environment) sets there changes what the ledger stores.

A compressor or a cipher would change the bytes every leaf hash commits to and the read models decode (start-up had
failed with ``UnicodeDecodeError`` under ``COMPRESSOR_TOPIC``); another persistence module would put the log
somewhere else entirely.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.log.integrity import leaf_hash
from tests.api.conftest import running_service
from tests.conftest import FINANCE, act

pytestmark = pytest.mark.db

# Each set on its own; the name-prefixed spelling (LEDGER_…) is the library's too, and wins over the plain one.
SETTINGS = [
    {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"},
    {"LEDGER_COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"},
    {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": "nVJ5q5ZgYkEFlVB3W9gT0yHhjNnGzbQ0bJZlQnw9T8I="},
    {"CIPHER_KEY": "nVJ5q5ZgYkEFlVB3W9gT0yHhjNnGzbQ0bJZlQnw9T8I="},
    {"PERSISTENCE_MODULE": "eventsourcing.popo"},
    {"LEDGER_PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
    {"POSTGRES_SCHEMA": "elsewhere"},
    {"TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder", "MAPPER_TOPIC": "nowhere.at:All"},
    {"POSTGRES_ENABLE_DB_FUNCTIONS": "y", "ORIGINATOR_ID_TYPE": "text"},
    {"LEDGER_POSTGRES_DBNAME": "postgres", "LEDGER_POSTGRES_LOCK_TIMEOUT": "not a number"},
]


@pytest.mark.parametrize("environ", SETTINGS, ids=lambda environ: ",".join(environ))
def test_library_settings_in_the_environment_change_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    ledger = Ledger(database_url)
    try:
        ledger.bootstrap()
        ledger.register_department(act(FINANCE, date(2021, 1, 4)), "教育局")
    finally:
        ledger.close()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state, leaf_hash FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
    assert len(rows) == 4  # the ruleset, the indicator library, the working calendar, the department: here
    for originator_id, version, topic, state, stored_hash in rows:
        assert isinstance(json.loads(state), dict)  # plain JSON: neither compressed nor enciphered
        assert leaf_hash(originator_id, version, topic, state) == stored_hash


def test_the_service_starts_with_a_compressor_in_the_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    with running_service(database_url, tmp_path) as service:
        created = service.post("finance", "/departments", {"name": "教育局", "effective_on": "2021-01-04"})
        assert created.status_code == 201, created.text
        assert service.get(None, "/readyz").status_code == 200
