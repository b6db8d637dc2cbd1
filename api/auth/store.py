"""The token store: records kept hashed and signed in two append-only tables, issued, listed, revoked, and looked
up through a cache each service process keeps coherent (LISTEN for revocations, acknowledge each one).

The tables are named here once and every statement over them is built once with ``psycopg.sql``.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.auth.records import (
    ISSUABLE,
    PREFIX,
    RESERVED,
    UNKNOWN,
    Lookup,
    PrincipalConflict,
    Revoked,
    TokenKeys,
    TokenRecord,
    describe,
    identity_of,
    live_identities,
    lookalike,
    record_of,
    token_hash,
)
from api.metrics import Rejections
from api.roles.webhooks import disable_subscriptions, wait_for_dispatchers
from ledger.domain.errors import InvalidInput
from ledger.domain.values import Principal, Role, text
from ledger.store.recorder import lock_schema

logger = logging.getLogger("api.auth")  # the package's name, as before the split: what logs are filtered by

TOKENS = "api_tokens"
REVOCATIONS = "api_token_revocations"
CHANNEL = "jixiao_token_revoked"  # revocations (and re-signed records): drop the cache
ACK_CHANNEL = "jixiao_token_revoked_ack"  # each listening process: "I dropped it"
LISTENERS = (0x6A78_746B, 1)  # ("jxtk", 1): the shared advisory lock a listening process holds, so a revoker sees it
PRINCIPAL_LOCKS = 0x6A78_7470  # "jxtp": one issuance or revocation per principal id at a time
CACHE_SECONDS = 5.0  # a backstop only: the notification drops the cache at once
ACK_SECONDS = 10.0  # how long a revoker waits for the listening processes
RENOTIFY_SECONDS = 0.5  # a process that began listening just after the commit missed it: say it again
DISPATCH_SECONDS = 30.0  # how long a revoker waits for a delivery in flight to the principal's subscriptions

_ids = {"tokens": sql.Identifier(TOKENS), "revocations": sql.Identifier(REVOCATIONS)}
SCHEMA = sql.SQL("""
CREATE TABLE IF NOT EXISTS {tokens} (
    token_id text PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    principal_id text NOT NULL,
    role text NOT NULL,
    organisation text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    key_id bytea,
    signature bytea
);
ALTER TABLE {tokens} ADD COLUMN IF NOT EXISTS key_id bytea, ADD COLUMN IF NOT EXISTS signature bytea;
CREATE INDEX IF NOT EXISTS api_tokens_principal_idx ON {tokens} (principal_id);
CREATE TABLE IF NOT EXISTS {revocations} (
    token_id text PRIMARY KEY REFERENCES {tokens} (token_id),
    revoked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_by text NOT NULL
);
-- Every record from now on is signed; NOT VALID leaves the rows of earlier versions to `jixiao token resign`,
-- so the unsigned rows are exactly those that existed at the upgrade.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'api_tokens_signed'
                   AND conrelid = 'api_tokens'::regclass) THEN
        ALTER TABLE {tokens} ADD CONSTRAINT api_tokens_signed
            CHECK (coalesce(length(key_id), 0) = 4 AND coalesce(length(signature), 0) = 64) NOT VALID;
    END IF;
END $$;
-- Earlier versions revoked by setting revoked_at: those revocations become rows.
DO $$ BEGIN
    IF EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema()
               AND table_name = 'api_tokens' AND column_name = 'revoked_at') THEN
        INSERT INTO {revocations} (token_id, revoked_at, revoked_by)
        SELECT token_id, revoked_at, 'upgrade' FROM {tokens} WHERE revoked_at IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
END $$;
CREATE OR REPLACE FUNCTION api_tokens_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The one change allowed: a record from before signatures receiving its signature, nothing else altered.
    IF TG_OP = 'UPDATE' AND OLD.signature IS NULL
       AND to_jsonb(NEW) - 'key_id' - 'signature' = to_jsonb(OLD) - 'key_id' - 'signature' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'tokens are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION api_token_revocations_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revocations are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER api_tokens_no_change BEFORE UPDATE OR DELETE ON {tokens}
    FOR EACH ROW EXECUTE FUNCTION api_tokens_refuse_change();
CREATE OR REPLACE TRIGGER api_tokens_no_truncate BEFORE TRUNCATE ON {tokens}
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_refuse_change();
CREATE OR REPLACE TRIGGER api_token_revocations_no_change BEFORE UPDATE OR DELETE ON {revocations}
    FOR EACH ROW EXECUTE FUNCTION api_token_revocations_refuse_change();
CREATE OR REPLACE TRIGGER api_token_revocations_no_truncate BEFORE TRUNCATE ON {revocations}
    FOR EACH STATEMENT EXECUTE FUNCTION api_token_revocations_refuse_change();
""").format(**_ids)
COLUMNS = sql.SQL(
    "t.token_id, t.token_hash, t.principal_id, t.role, t.organisation, t.created_at, t.created_by, "
    "t.key_id, t.signature, r.revoked_at"
)
FROM = sql.SQL("{tokens} t LEFT JOIN {revocations} r ON r.token_id = t.token_id").format(**_ids)
# The token's record and every other record of its principal (to see a clash), with their revocations.
LOOKUP = sql.SQL(
    "SELECT {columns} FROM {source} WHERE t.principal_id = (SELECT principal_id FROM {tokens} WHERE token_hash = %s)"
).format(columns=COLUMNS, source=FROM, **_ids)
OF_PRINCIPAL = sql.SQL("SELECT {columns} FROM {source} WHERE t.principal_id = %s").format(columns=COLUMNS, source=FROM)
OF_TOKEN = sql.SQL("SELECT {columns} FROM {source} WHERE t.token_id = %s").format(columns=COLUMNS, source=FROM)
ALL = sql.SQL("SELECT {columns} FROM {source} ORDER BY t.created_at, t.token_id").format(columns=COLUMNS, source=FROM)
UNSIGNED = sql.SQL("SELECT {columns} FROM {source} WHERE t.signature IS NULL ORDER BY t.created_at, t.token_id").format(
    columns=COLUMNS, source=FROM
)
INSERT = sql.SQL(
    "INSERT INTO {tokens} (token_id, token_hash, principal_id, role, organisation, created_at, "
    "created_by, key_id, signature) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
).format(**_ids)
RESIGN = sql.SQL("UPDATE {tokens} SET key_id = %s, signature = %s WHERE token_id = %s AND signature IS NULL").format(
    **_ids
)
REVOKE = sql.SQL("INSERT INTO {revocations} (token_id, revoked_by) VALUES (%s, %s) ON CONFLICT DO NOTHING").format(
    **_ids
)
LOCK_PRINCIPAL = sql.SQL("SELECT pg_advisory_xact_lock({namespace}, hashtext(%s))").format(
    namespace=sql.Literal(PRINCIPAL_LOCKS)
)
LISTENING = sql.SQL(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid::bigint = {namespace} AND objid::bigint = {key}"
).format(namespace=sql.Literal(LISTENERS[0]), key=sql.Literal(LISTENERS[1]))
# For the webhook dispatcher: a subscription is served while its principal, as it was when it subscribed, holds a
# token that is not revoked. Signatures are not checked here: the subscriptions table is itself the service
# role's to write, so the question is only whether the token's holder lost it.
LIVE_IDENTITY = sql.SQL(
    "SELECT EXISTS (SELECT FROM {tokens} t WHERE t.principal_id = %s AND t.role = %s "
    "AND t.organisation = %s AND NOT EXISTS (SELECT FROM {revocations} r "
    "WHERE r.token_id = t.token_id))"
).format(**_ids)


@dataclass
class _Cached:
    at: float
    generation: int
    lookup: Lookup


class TokenStore:
    def __init__(
        self,
        pool: ConnectionPool[psycopg.Connection[Any]],
        keys: TokenKeys | None = None,
        *,
        rejections: Rejections | None = None,
    ) -> None:
        self.pool = pool
        self.keys = keys or TokenKeys(None, origin="")  # enough to create the tables
        self.rejections = rejections or Rejections()
        self._cache: dict[bytes, _Cached] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._coherent = False  # the cache is used only while the listener is connected
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    def _conninfo(self) -> str:
        """For the connections of its own: the listener's, a revoker's (LISTEN does not go back to a pool)."""
        conninfo = self.pool.conninfo
        return conninfo() if callable(conninfo) else conninfo

    def create_table(self) -> None:
        with self.pool.connection() as conn, conn.transaction():
            lock_schema(conn)
            conn.execute(SCHEMA)

    # Issuing, listing, revoking ------------------------------------------------------------------------------

    def issue(self, name: str, role: str, organisation: str, created_by: str) -> tuple[str, TokenRecord]:
        """A new token for a principal; returns the token (shown once) and its record."""
        principal = Principal(text(name, "name"), role, text(organisation, "organisation", required=False))
        if principal.role not in ISSUABLE:
            raise InvalidInput(f"no token is issued for role {principal.role}", field="role")
        if principal.role == Role.DEPARTMENT and not principal.organisation.strip():
            raise InvalidInput(
                "a department principal names its department (or budget unit) as organisation", field="organisation"
            )
        if lookalike(principal.id) in RESERVED:
            raise PrincipalConflict(
                f"principal id {principal.id} is the service's own (主体编号为系统保留)", field="name"
            )
        token = PREFIX + secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(6)
        digest = token_hash(token)
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(LOCK_PRINCIPAL, (lookalike(principal.id),))
            wanted = (principal.role, principal.organisation)
            for row in conn.cursor(row_factory=dict_row).execute(ALL):
                if lookalike(row["principal_id"]) != lookalike(principal.id):
                    continue
                if self.keys.problem(row) is not None and row["signature"] is not None:
                    continue  # a forgery binds no one (a record from before signatures does)
                if row["principal_id"] != principal.id:
                    raise PrincipalConflict(
                        f"principal id {principal.id} looks like the existing {row['principal_id']} "
                        f"({describe(identity_of(row))}): use that id exactly, or another name "
                        "(主体编号与已有编号近似，请使用原编号或另取名称)",
                        field="name",
                    )
                if identity_of(row) != wanted:
                    raise PrincipalConflict(
                        f"principal id {principal.id} is already {describe(identity_of(row))}: a principal id is one "
                        "identity; choose another name (主体编号已被其他角色或单位使用，请另取名称)",
                        field="name",
                    )
            now = conn.execute("SELECT clock_timestamp()").fetchone()
            assert now is not None
            created_at: datetime = now[0]
            key_id, signature = self.keys.sign(
                {
                    "token_id": token_id,
                    "token_hash": digest,
                    "principal_id": principal.id,
                    "role": principal.role,
                    "organisation": principal.organisation,
                    "created_by": created_by,
                    "created_at": created_at,
                }
            )
            conn.execute(
                INSERT,
                (
                    token_id,
                    digest,
                    principal.id,
                    principal.role,
                    principal.organisation,
                    created_at,
                    created_by,
                    key_id,
                    signature,
                ),
            )
        return token, TokenRecord(
            token_id, principal.id, principal.role, principal.organisation, created_at, created_by, None
        )

    def revoke(self, token_id: str, revoked_by: str = "cli") -> Revoked | None:
        """Revoke a token; when its principal has no live token left, disable its webhook subscriptions too.

        Returns once every service process listening has dropped its cache and no dispatcher is delivering to
        those subscriptions any more: from then on the token is refused everywhere and nothing more is delivered.
        """
        nonce = secrets.token_hex(8)
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(ACK_CHANNEL)))
            with conn.transaction():
                cursor = conn.cursor(row_factory=dict_row)
                found = cursor.execute(OF_TOKEN, (token_id,)).fetchone()
                if found is None:
                    return None
                principal_id = found["principal_id"]
                conn.execute(LOCK_PRINCIPAL, (lookalike(principal_id),))
                conn.execute(REVOKE, (token_id, revoked_by))
                rows = cursor.execute(OF_PRINCIPAL, (principal_id,)).fetchall()
                live = live_identities(rows, self.keys)
                reason = (
                    f"disabled: token {token_id} was revoked and principal {principal_id} has no live token "
                    "left (令牌已撤销，该主体已无有效令牌，订阅已停用)"
                )
                disabled = disable_subscriptions(conn, principal_id, live, reason)
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, nonce))
            self._invalidate()
            unconfirmed = _await_listeners(conn, nonce)
            busy = wait_for_dispatchers(conn, disabled, reason, DISPATCH_SECONDS)
        if unconfirmed:
            logger.warning(
                "revoked %s: %d service process(es) did not confirm within %.0f s; they refuse it within %.0f s",
                token_id,
                len(unconfirmed),
                ACK_SECONDS,
                CACHE_SECONDS,
            )
        record = next(row for row in rows if row["token_id"] == token_id)
        return Revoked(record_of(record), disabled, len(unconfirmed), busy)

    def resign(self, *, confirm: bool) -> list[TokenRecord]:
        """The records from before signatures; with ``confirm``, sign them (as the schema owner, with the key).

        Only rows that existed at the upgrade can be unsigned (a NOT VALID check refuses new ones), so what this
        shows is the whole of what it would bless: review it first.
        """
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(UNSIGNED).fetchall()
            if confirm and rows:
                with conn.transaction():
                    for row in rows:
                        key_id, signature = self.keys.sign(row)
                        conn.execute(RESIGN, (key_id, signature, row["token_id"]))
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "resigned"))
        return [record_of(row) for row in rows]

    def list(self) -> list[TokenRecord]:
        """Every record, each with why it is refused if it is (unsigned, forged, its principal id clashing)."""
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(ALL).fetchall()
        problems = [self.keys.problem(row) for row in rows]
        live: dict[str, set[tuple[str, str]]] = {}
        for row, problem in zip(rows, problems, strict=True):
            if problem is None and row["revoked_at"] is None:
                live.setdefault(row["principal_id"], set()).add(identity_of(row))
        records = []
        for row, problem in zip(rows, problems, strict=True):
            others = live.get(row["principal_id"], set()) - {identity_of(row)}
            if problem is None and row["revoked_at"] is None and others:
                problem = "principal id clash: also live as " + ", ".join(map(describe, sorted(others)))
            records.append(record_of(row, problem))
        return records

    # Looking tokens up -----------------------------------------------------------------------------------------

    def cached(self, token: str) -> Lookup | None:
        """The lookup from the cache alone, if it holds a current one: no database, so the event loop may call it."""
        if not self._coherent:
            return None
        with self._lock:
            entry = self._cache.get(token_hash(token))
        if entry is None or entry.generation != self._generation or time.monotonic() - entry.at >= CACHE_SECONDS:
            return None
        return entry.lookup

    def lookup(self, token: str) -> Lookup:
        """The principal a live token stands for, or why there is none."""
        hit = self.cached(token)
        if hit is not None:
            return hit
        digest = token_hash(token)
        generation = self._generation  # taken before reading: a revocation meanwhile voids what is read
        now = time.monotonic()
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(LOOKUP, (digest,)).fetchall()
        found = self._judge(rows, digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = _Cached(now, generation, found)
        return found

    def principal(self, token: str) -> Principal | None:
        """The principal a live token stands for, or None."""
        return self.lookup(token).principal

    def _judge(self, rows: Sequence[dict[str, Any]], digest: bytes) -> Lookup:
        own = next((row for row in rows if bytes(row["token_hash"]) == digest), None)
        if own is None:
            return UNKNOWN
        problem = self.keys.problem(own)
        if problem is not None:
            logger.warning("token record %s (principal %s) refused: %s", own["token_id"], own["principal_id"], problem)
            # Unsigned rows are those an upgrade left until `jixiao token resign`; any other is a forgery.
            self.rejections.add("token", "unsigned" if own["signature"] is None else "invalid")
            return UNKNOWN
        if own["revoked_at"] is not None:
            return UNKNOWN
        clashing = live_identities(rows, self.keys) - {identity_of(own)}
        if clashing:
            logger.warning(
                "token %s refused: principal id %s is also live as %s",
                own["token_id"],
                own["principal_id"],
                ", ".join(map(describe, sorted(clashing))),
            )
            return Lookup(
                None,
                f"principal id {own['principal_id']} is held by another role or organisation too; "
                "an administrator must revoke the wrong tokens (jixiao token list) "
                "(主体编号冲突，须由管理员处理)",
            )
        return Lookup(Principal(own["principal_id"], own["role"], own["organisation"]), "")

    # Keeping the cache coherent ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen for revocations (a service process; without it nothing is cached)."""
        self._stop.clear()
        self._listener = threading.Thread(target=self._listen, name="jixiao-token-listener", daemon=True)
        self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=10)

    def _invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    # Present (the lock) before listening, listening before trusting the cache: a revoker that sees
                    # this process waits for it, and this process hears every revocation committed after it looked.
                    conn.execute(sql.SQL("SELECT pg_advisory_lock_shared({}, {})").format(*map(sql.Literal, LISTENERS)))
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self._invalidate()
                    self._coherent = True
                    while not self._stop.is_set():
                        for notify in list(conn.notifies(timeout=1.0, stop_after=1)):
                            self._invalidate()
                            conn.execute("SELECT pg_notify(%s, %s)", (ACK_CHANNEL, notify.payload))
            except psycopg.Error:
                logger.warning("token listener lost its connection; caching nothing until it is back", exc_info=True)
                self._stop.wait(1.0)
            finally:
                self._coherent = False
                self._invalidate()


def _await_listeners(conn: psycopg.Connection[Any], nonce: str) -> set[int]:
    """Wait until every process listening for revocations has acknowledged ``nonce``; return those that did not.

    ``conn`` listens on the acknowledgements since before the revocation committed. The processes are those
    holding the listeners' lock now, after the commit: one that joins later looked at the tokens after it.
    """
    pending = {row[0] for row in conn.execute(LISTENING)}
    deadline = time.monotonic() + ACK_SECONDS
    said = time.monotonic()
    while pending and time.monotonic() < deadline:
        for notify in list(conn.notifies(timeout=0.1, stop_after=1)):
            if notify.channel == ACK_CHANNEL and notify.payload == nonce:
                pending.discard(notify.pid)
        if pending:
            pending &= {row[0] for row in conn.execute(LISTENING)}  # a process that went away has no cache
        if pending and time.monotonic() - said >= RENOTIFY_SECONDS:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, nonce))
            said = time.monotonic()
    return pending


class TokenGuard:
    """What the webhook dispatcher asks before delivering: may this subscription's principal still receive?"""

    channel = CHANNEL

    def refusal(self, conn: psycopg.Connection[Any], principal: Principal) -> str | None:
        row = conn.execute(
            LIVE_IDENTITY, (principal.id, principal.role, principal.organisation), prepare=True
        ).fetchone()
        if row is not None and row[0]:
            return None
        return (
            f"disabled: principal {principal.id} ({principal.role}) has no live token (该主体已无有效令牌，订阅已停用)"
        )
