"""Token records against whoever holds the database: the service role can add rows, but a row it makes is not a
token, and it can neither revive a revoked token nor change one; an upgraded ledger's records work only once the
operator has signed them. A principal id is one identity."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from api.auth import PrincipalConflict, TokenKeys, TokenStore, token_message
from api.config.database import as_url
from api.config.migrations import grant_service_role, migrate
from api.config.settings import Settings
from ledger.log.checkpoint import SigningKey
from tests.conftest import service_client

pytestmark = pytest.mark.db

KEY = SigningKey.generate("test-log")
ORIGIN = "test/log"
FORGED = "jxl_" + "A" * 43  # a token of the attacker's choosing


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@pytest.fixture
def owner_url(database_url: str) -> str:
    migrate(database_url, Settings(database_url=database_url, log_origin=ORIGIN))
    return database_url


@pytest.fixture
def service_url(owner_url: str) -> Iterator[str]:
    """The service role, granted by the owner as a deployment does it."""
    role = f"jixiao_app_{uuid.uuid4().hex[:8]}"
    grant_service_role(owner_url, role, None)
    params = conninfo_to_dict(owner_url)
    params["user"] = role
    params.pop("password", None)
    try:
        yield as_url(make_conninfo(**params))  # type: ignore[arg-type]
    finally:
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


@contextmanager
def store(url: str, key: SigningKey | None = KEY) -> Iterator[TokenStore]:
    with ConnectionPool(url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        yield TokenStore(pool, TokenKeys(key, origin=ORIGIN))


def service(url: str, tmp_path: Path) -> AbstractContextManager[TestClient]:
    """The HTTP service connected as ``url``'s role, signing with KEY."""
    return service_client(url, tmp_path, KEY, ORIGIN)


def status(client: TestClient, token: str) -> int:
    return client.get("/trail", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_row_the_service_role_inserts_is_not_a_token(service_url: str, tmp_path: Path) -> None:
    with psycopg.connect(service_url, autocommit=True) as conn:
        # As earlier versions stored tokens: the database itself refuses a record without a signature.
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO api_tokens (token_id, token_hash, principal_id, role, organisation, created_at, "
                "created_by) VALUES ('tok_forged', %s, 'fin-wang', 'finance', '市财政局', now(), 'admin')",
                (digest(FORGED),),
            )
        # Signed, but not by the log's key: one row claims its key id, one names the attacker's own key; and one
        # signed by the log's key itself, but for another ledger (a staging copy sharing the key, say).
        mine = SigningKey.generate("attacker")
        now = datetime.now(UTC)
        for token_id, token, key, origin in (
            ("tok_forged1", FORGED, mine, ORIGIN),
            ("tok_forged2", FORGED + "B", mine, ORIGIN),
            ("tok_staging", FORGED + "C", KEY, "staging/log"),
        ):
            key_id = mine.verifier.key_id if token_id == "tok_forged2" else KEY.verifier.key_id
            signature = key.sign(
                token_message(origin, token_id, digest(token), "fin-wang", "finance", "市财政局", "admin", now)
            )
            conn.execute(
                "INSERT INTO api_tokens (token_id, token_hash, principal_id, role, organisation, created_at, "
                "created_by, key_id, signature) VALUES (%s, %s, 'fin-wang', 'finance', '市财政局', %s, "
                "'admin', %s, %s)",
                (token_id, digest(token), now, key_id, signature),
            )
    with service(service_url, tmp_path) as client:
        for token in (FORGED, FORGED + "B", FORGED + "C"):
            refused = client.get("/trail", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401, refused.text
            assert refused.json()["code"] == "unauthenticated"
        assert client.app.state.tokens.rejections.count("token") == 3  # type: ignore[attr-defined]
        assert 'jixiao_rejected_records_total{kind="token",reason="invalid"} 3.0' in client.get("/metrics").text
        issued, _ = client.app.state.tokens.issue("fin-wang", "finance", "市财政局", "test")  # type: ignore[attr-defined]
        assert status(client, issued) == 200  # the real finance principal is not locked out by the forgeries
    with store(service_url) as tokens:
        why = {record.token_id: record.refused for record in tokens.list()}
    assert why["tok_forged1"] == why["tok_staging"] == "its signature does not verify: forged or altered"
    assert "unknown key" in (why["tok_forged2"] or "")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE api_tokens SET role = 'finance'",
        "UPDATE api_tokens SET created_at = now()",
        "DELETE FROM api_tokens",
        "TRUNCATE api_tokens CASCADE",
        "DELETE FROM api_token_revocations",
        "UPDATE api_token_revocations SET revoked_at = now()",
        "TRUNCATE api_token_revocations",
        "ALTER TABLE api_tokens DISABLE TRIGGER ALL",
        "ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_signed",
    ],
)
def test_the_service_role_cannot_change_revive_or_remove_a_token(service_url: str, statement: str) -> None:
    with psycopg.connect(service_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_a_revoked_token_stays_revoked_whoever_holds_the_service_role(
    service_url: str, owner_url: str, tmp_path: Path
) -> None:
    with service(service_url, tmp_path) as client:
        tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
        token, record = tokens.issue("aud-zhao", "auditor", "市审计局", "test")
        assert status(client, token) == 200
        revoked = tokens.revoke(record.token_id, revoked_by="admin-sun")
        assert revoked is not None
        assert revoked.record.revoked_at is not None
        assert status(client, token) == 401
        with psycopg.connect(service_url) as conn:
            for revive in ("DELETE FROM api_token_revocations", "UPDATE api_token_revocations SET token_id = 'x'"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(revive)
                conn.rollback()
        # Not even the owner, without dropping the triggers first (which a superuser could: see the README).
        with psycopg.connect(owner_url) as conn:
            for change in (
                "DELETE FROM api_token_revocations",
                "UPDATE api_tokens SET role = 'finance'",
                "UPDATE api_tokens SET signature = signature",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    conn.execute(change)
                conn.rollback()
        assert status(client, token) == 401


def test_a_principal_id_is_one_identity(owner_url: str) -> None:
    with store(owner_url) as tokens:
        first, _ = tokens.issue("fin-wang", "finance", "市财政局", "test")
        second, _ = tokens.issue("fin-wang", "finance", "市财政局", "test")  # the same principal: rotation
        for role, organisation in (("department", "教育局"), ("finance", "县财政局"), ("auditor", "市财政局")):
            with pytest.raises(PrincipalConflict, match="already finance") as refused:
                tokens.issue("fin-wang", role, organisation, "test")
            assert refused.value.code == "principal-conflict"
            assert "主体编号" in refused.value.detail
        for lookalike in ("FIN-WANG", " fin-wang", "ｆｉｎ－ｗａｎｇ"):  # a name read as the same one is refused too
            with pytest.raises(PrincipalConflict, match="looks like the existing fin-wang"):
                tokens.issue(lookalike, "department", "教育局", "test")
        for reserved in ("scheduler", "public"):
            with pytest.raises(PrincipalConflict):
                tokens.issue(reserved, "finance", "市财政局", "test")
        assert tokens.principal(first) == tokens.principal(second)
        assert [record.name for record in tokens.list()] == ["fin-wang", "fin-wang"]


def signed_row(token: str, principal: tuple[str, str, str], token_id: str) -> dict[str, Any]:
    """A record as an earlier version could have left it: signed (after `resign`), but clashing."""
    now = datetime.now(UTC)
    name, role, organisation = principal
    signature = KEY.sign(token_message(ORIGIN, token_id, digest(token), name, role, organisation, "old", now))
    return {
        "token_id": token_id,
        "token_hash": digest(token),
        "principal_id": name,
        "role": role,
        "organisation": organisation,
        "created_at": now,
        "created_by": "old",
        "key_id": KEY.verifier.key_id,
        "signature": signature,
    }


def test_a_principal_id_clashing_in_an_older_ledger_is_flagged_and_refused_until_resolved(owner_url: str) -> None:
    rows = [
        signed_row("jxl_finance", ("wang", "finance", "市财政局"), "tok_fin"),
        signed_row("jxl_department", ("wang", "department", "教育局"), "tok_dept"),
    ]
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for row in rows:
            conn.execute(
                "INSERT INTO api_tokens (token_id, token_hash, principal_id, role, organisation, created_at, "
                "created_by, key_id, signature) VALUES (%(token_id)s, %(token_hash)s, %(principal_id)s, "
                "%(role)s, %(organisation)s, %(created_at)s, %(created_by)s, %(key_id)s, %(signature)s)",
                row,
            )
    with store(owner_url) as tokens:
        assert tokens.principal("jxl_finance") is None
        assert "principal id wang" in tokens.lookup("jxl_department").refusal
        flagged = {record.token_id: record.refused or "" for record in tokens.list()}
        assert "principal id clash: also live as department" in flagged["tok_fin"]
        assert "principal id clash: also live as finance" in flagged["tok_dept"]
        assert tokens.revoke("tok_dept") is not None  # resolved: the department's token was the wrong one
        principal = tokens.principal("jxl_finance")
        assert principal is not None
        assert principal.role == "finance"
        assert [record.refused for record in tokens.list()] == [None, None]
        with pytest.raises(PrincipalConflict):  # and the id stays the finance user's
            tokens.issue("wang", "department", "教育局", "test")


OLD_SCHEMA = """
CREATE TABLE api_tokens (
    token_id text PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    principal_id text NOT NULL,
    role text NOT NULL,
    organisation text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by text NOT NULL,
    revoked_at timestamptz
)
"""


def test_an_upgraded_ledger_honours_its_tokens_only_once_the_operator_has_signed_them(
    database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:  # the table as the version before left it
        conn.execute(OLD_SCHEMA)
        for token_id, token, revoked in (("tok_live", "jxl_live", None), ("tok_gone", "jxl_gone", datetime.now(UTC))):
            conn.execute(
                "INSERT INTO api_tokens (token_id, token_hash, principal_id, role, organisation, created_by, "
                "revoked_at) VALUES (%s, %s, 'aud-zhao', 'auditor', '市审计局', 'cli', %s)",
                (token_id, digest(token), revoked),
            )
    migrate(database_url, Settings(database_url=database_url, log_origin=ORIGIN))
    role = f"jixiao_app_{uuid.uuid4().hex[:8]}"
    grant_service_role(database_url, role, None)
    try:
        with store(database_url) as tokens:
            assert tokens.principal("jxl_live") is None  # unsigned: refused until the operator signs it
            assert {
                record.token_id: (record.revoked_at is not None, (record.refused or "")[:8]) for record in tokens.list()
            } == {"tok_live": (False, "unsigned"), "tok_gone": (True, "unsigned")}
            listed = tokens.resign(confirm=False)
            assert [record.token_id for record in listed] == ["tok_live", "tok_gone"]
            assert tokens.principal("jxl_live") is None  # only listed, nothing signed
            assert [record.token_id for record in tokens.resign(confirm=True)] == ["tok_live", "tok_gone"]
            assert tokens.resign(confirm=True) == []
            principal = tokens.principal("jxl_live")
            assert principal is not None
            assert principal.id == "aud-zhao"
            assert tokens.principal("jxl_gone") is None  # revoked before the upgrade, still revoked
        with psycopg.connect(database_url, autocommit=True) as conn:  # the service role lost its UPDATE
            conn.execute(f"SET ROLE {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE api_tokens SET revoked_at = NULL")
            with pytest.raises(psycopg.errors.CheckViolation):  # and an unsigned row is no longer possible
                conn.execute(
                    "INSERT INTO api_tokens (token_id, token_hash, principal_id, role, organisation, "
                    "created_at, created_by) VALUES ('tok_new', %s, 'x', 'finance', '', now(), 'x')",
                    (digest("jxl_new"),),
                )
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
