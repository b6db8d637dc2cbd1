"""The ledger's notes and proofs, checked by an independent client built on the reference implementation.

``tests/reference/jixiaocheck.go`` is compiled here from Debian's ``golang-go`` and ``golang-golang-x-mod-dev``
(golang.org/x/mod's ``sumdb/note`` and ``sumdb/tlog``, GOPATH mode: nothing fetched) and run against a live
service over HTTP: it opens every signed checkpoint with the published verifier key (whose name must be the
checkpoint's origin), recomputes every leaf's hash from its stored bytes, and checks every leaf's inclusion proof
and a consistency proof from every earlier checkpoint. A byte changed in the database, or a key named otherwise
than the log, makes it fail.

Where Go or x/mod is missing the tests are skipped with the reason, unless ``JIXIAO_REQUIRE_GO=1`` (``.ci/run``
sets it after installing them), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from api.app import create_app
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, ROLES, LiveServer, Service, settings_for
from tests.api.world import build

pytestmark = pytest.mark.db

SOURCE = Path(__file__).resolve().parents[1] / "reference" / "jixiaocheck.go"
GOPATH = Path("/usr/share/gocode")  # where Debian's golang-*-dev packages put their sources
REQUIRED = os.environ.get("JIXIAO_REQUIRE_GO") == "1"


def _missing(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"{reason} (JIXIAO_REQUIRE_GO=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        _missing("Go is not installed (Debian: golang-go)")
    if not (GOPATH / "src/golang.org/x/mod/sumdb/note").is_dir():
        _missing("golang.org/x/mod is not installed (Debian: golang-golang-x-mod-dev)")
    out = tmp_path_factory.mktemp("go")
    binary = out / "jixiaocheck"
    environment = {
        **os.environ,
        "GO111MODULE": "off",  # GOPATH mode: x/mod from Debian's folder, no module proxy, no download
        "GOPATH": str(GOPATH),
        "GOCACHE": str(out / "cache"),
        "GOFLAGS": "",
    }
    built = subprocess.run(
        [go, "build", "-o", str(binary), str(SOURCE)], env=environment, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    return binary


@dataclass
class Live:
    base: str
    url: str
    verifier: str
    token: str

    def check(self, binary: Path, verifier: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), self.base, verifier or self.verifier],
            env={**os.environ, "JIXIAO_TOKEN": self.token},
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture
def live(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Live]:
    """A live service over the test world, with checkpoints signed at three sizes along the way; its key named as
    the log (or as the test's parameter says)."""
    key = SigningKey.generate(getattr(request, "param", ORIGIN))
    app = create_app(settings_for(database_url, tmp_path, key))
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        service = Service(client, app, key)
        for who, (name, role, organisation) in ROLES.items():
            service.tokens[who], _ = app.state.tokens.issue(name, role, organisation, created_by="test")
        log = app.state.log
        service.post("finance", "/departments", {"name": "农业农村局", "effective_on": "2020-08-01"})
        assert log.sign_checkpoint() is not None
        build(service)
        assert log.sign_checkpoint() is not None
        service.post("finance", "/departments", {"name": "水务局", "effective_on": "2020-08-02"})
        assert log.sign_checkpoint() is not None
        with LiveServer(app, started=True) as base:
            yield Live(base, database_url, key.verifier.to_string(), service.tokens["auditor"])


def test_the_reference_client_accepts_every_note_and_proof(checker: Path, live: Live) -> None:
    result = live.check(checker)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 3 checkpoints opened, "), result.stdout
    assert ", 2 consistency proofs " in result.stdout, result.stdout


def test_a_changed_byte_fails_the_reference_client(checker: Path, live: Live) -> None:
    with psycopg.connect(live.url) as conn:
        conn.execute("SET session_replication_role = replica")  # what a superuser can do: bypass the triggers
        conn.execute("UPDATE ledger_events SET state = set_byte(state, 0, get_byte(state, 0) # 1) WHERE leaf_index = 5")
    result = live.check(checker)
    assert result.returncode == 1, result.stdout
    assert "leaf 5: its bytes hash to " in result.stderr, result.stderr


@pytest.mark.parametrize("live", [ORIGIN.replace("/", "-")], indirect=True)
def test_a_key_named_otherwise_than_the_log_is_refused(checker: Path, live: Live) -> None:
    """C2SP tlog-checkpoint: the key's name SHOULD be the origin line. The reference's note.Open accepts any name;
    this client holds the ledger to the rule (as the service's own keys follow it: tests/api/cli)."""
    result = live.check(checker)
    assert result.returncode == 1, result.stdout
    assert "is not its key's name" in result.stderr, result.stderr
