"""The whole schema in one place: what ``jixiao db migrate`` creates, and what the service role may do with it.

Two roles, as a serious deployment separates them:

- the **owner** creates and upgrades the schema (``jixiao db migrate``, idempotent) and runs the read-model
  worker (a rebuild swaps tables);
- the **service role** (``jixiao db service-role``) may append to the log — only through ``ledger_events_append``,
  which assigns positions and folds the chain itself — and read it; never update, delete or truncate it, nor
  disable its triggers; plus keep its own bookkeeping (webhook cursors, the scheduler's book, the relay's
  position) and add tokens and revocations, which it can neither change nor remove (signed records, triggers).
  It reads the read models, including tables a rebuild creates later.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from api.auth import TokenStore
from api.config.settings import Settings
from api.roles.relay import SCHEMA as RELAY_SCHEMA
from api.roles.scheduler import JobBook
from api.roles.webhooks import WebhookStore
from ledger.application.ledger import Ledger
from ledger.store.recorder import APPEND_SIGNATURE
from ledger.store.tlog import TransparencyLog
from projections.registry import read_models
from projections.runner import Runner

# (privileges, tables) the service role is granted beyond SELECT on everything.
# The log itself (ledger_events, ledger_commands) is appended only through ledger_events_append (below), which
# computes positions and the chain itself: the service role cannot insert a row of its own making.
# Tokens and revocations are INSERT only too: a token record counts only if signed with the log's key (which the
# database does not hold), and triggers refuse UPDATE, DELETE and TRUNCATE (api/auth/store.py).
APPEND_ONLY = ("ledger_checkpoints", "ledger_cosignatures", "ledger_snapshots", "api_tokens", "api_token_revocations")
# Written only by functions of the owner's that compute what they write: granted EXECUTE, never INSERT. (Revoked
# explicitly too: a role granted by an earlier version could insert tree nodes of its own making.)
OWNER_WRITTEN = ("ledger_tree_nodes",)
BOOKKEEPING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("INSERT", APPEND_ONLY),
    ("INSERT, UPDATE", ("relay_positions", "ledger_sweep_positions", "ledger_sweep_watch", "scheduler_jobs")),
    ("INSERT, UPDATE, DELETE", ("webhook_subscriptions", "webhook_deliveries")),
)
SEQUENCES = ("webhook_deliveries_id_seq",)


def migrate(url: str, settings: Settings) -> None:
    """Create or upgrade every table, function and trigger (as the owner), then record ruleset version 1."""
    ledger = Ledger(url, create_schema=True)
    try:
        ledger.bootstrap()
    finally:
        ledger.close()
    log = TransparencyLog(url, origin=settings.log_origin)
    try:
        log.create_tables()
    finally:
        log.close()
    Runner(url, read_models()).setup()
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}, name="jixiao-migrate") as pool:
        TokenStore(pool).create_table()
    WebhookStore(url).create_tables()
    JobBook(url).create_table()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RELAY_SCHEMA)


def service_role_statements(role: str, password: str | None) -> list[sql.Composed]:
    """The statements that make (or update) the service role; run them as the owner, after ``migrate``."""
    who = sql.Identifier(role)
    statements = [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN CREATE ROLE {who} "
            "LOGIN; END IF; END $$"
        ).format(name=sql.Literal(role), who=who),
    ]
    if password is not None:
        statements.append(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(who, sql.Literal(password)))
    statements += [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who),
        # Reads: everything, and the tables a projection rebuild creates later (they replace the read models).
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(who),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(who),
    ]
    for privileges, tables in BOOKKEEPING:
        statements.append(
            sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(privileges), sql.SQL(", ").join(map(sql.Identifier, tables)), who
            )
        )
    # What earlier versions granted beyond that goes (api_tokens was INSERT, UPDATE: revived by an UPDATE).
    statements.append(
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, APPEND_ONLY)), who
        )
    )
    statements += [
        sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.SQL(", ").join(map(sql.Identifier, SEQUENCES)), who),
        # Appends: the owner's SECURITY DEFINER function takes the EXCLUSIVE lock (PostgreSQL grants it only with
        # UPDATE/DELETE/TRUNCATE rights), reads the head, folds the chain and inserts — and nothing else.
        sql.SQL("GRANT EXECUTE ON FUNCTION ledger_events_append({}) TO {}").format(sql.SQL(APPEND_SIGNATURE), who),
        # The Merkle tree's nodes: hashed by the owner's function from the leaves the log holds.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, OWNER_WRITTEN)), who
        ),
        sql.SQL("GRANT EXECUTE ON FUNCTION ledger_tree_nodes_extend() TO {}").format(who),
    ]
    return statements


def grant_service_role(url: str, role: str, password: str | None) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        for statement in service_role_statements(role, password):
            conn.execute(statement)


def service_role_sql(role: str, url: str) -> str:
    """The same statements as text, for a DBA who applies them by hand (the password left to ALTER ROLE)."""
    with psycopg.connect(url) as conn:
        return "".join(statement.as_string(conn) + ";\n" for statement in service_role_statements(role, None))
