"""Bearer tokens bound to a principal (id, role, organisation), stored hashed.

A token is ``jxl_`` and 32 random bytes (URL-safe base64); only its SHA-256 is stored, so a copy of the table
lets nobody act. ``public`` needs no token and sees only what was disclosed; ``system`` is the scheduler's and
is never issued. Lookups are cached for a few seconds, so a revocation takes effect within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.problems import EdgeProblem
from ledger.errors import Forbidden, InvalidInput
from ledger.recorder import lock_schema
from ledger.values import Principal, Role, enum_value, text

TOKENS = "api_tokens"
PREFIX = "jxl_"
CACHE_SECONDS = 5.0
PUBLIC = Principal("public", Role.PUBLIC, "")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TOKENS} (
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
ISSUABLE = frozenset(role for role in Role if role not in (Role.PUBLIC, Role.SYSTEM))


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    name: str
    role: str
    organisation: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _record(row: dict[str, Any]) -> TokenRecord:
    return TokenRecord(row["token_id"], row["principal_id"], row["role"], row["organisation"], row["created_at"],
                       row["created_by"], row["revoked_at"])


class TokenStore:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self.pool = pool
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def create_table(self) -> None:
        with self.pool.connection() as conn, conn.transaction():
            lock_schema(conn)
            conn.execute(SCHEMA)

    def issue(self, name: str, role: str, organisation: str, created_by: str) -> tuple[str, TokenRecord]:
        """A new token for a principal; returns the token (shown once) and its record."""
        principal = Principal(text(name, "name"), role, text(organisation, "organisation", required=False))
        if principal.role not in ISSUABLE:
            raise InvalidInput(f"no token is issued for role {principal.role}", field="role")
        if principal.role == Role.DEPARTMENT and not principal.organisation.strip():
            raise InvalidInput("a department principal names its department as organisation", field="organisation")
        token = PREFIX + secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(6)
        with self.pool.connection() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"INSERT INTO {TOKENS} (token_id, token_hash, principal_id, role, organisation, created_by) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                (token_id, _hash(token), principal.id, principal.role, principal.organisation, created_by),
            ).fetchone()
        assert row is not None
        return token, _record(row)

    def list(self) -> list[TokenRecord]:
        with self.pool.connection() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(
                f"SELECT * FROM {TOKENS} ORDER BY created_at, token_id").fetchall()  # noqa: S608
        return [_record(row) for row in rows]

    def revoke(self, token_id: str) -> TokenRecord | None:
        with self.pool.connection() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"UPDATE {TOKENS} SET revoked_at = coalesce(revoked_at, clock_timestamp()) "  # noqa: S608
                "WHERE token_id = %s RETURNING *", (token_id,)).fetchone()
        with self._lock:
            self._cache.clear()
        return None if row is None else _record(row)

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        """(found, principal) from the cache alone: no database, so callers on the event loop may use it."""
        with self._lock:
            cached = self._cache.get(_hash(token))
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return True, cached[1]
        return False, None

    def principal(self, token: str) -> Principal | None:
        """The principal a live token stands for, or None."""
        found, principal = self.cached(token)
        if found:
            return principal
        digest = _hash(token)
        now = time.monotonic()
        with self.pool.connection() as conn:
            row = conn.execute(f"SELECT principal_id, role, organisation FROM {TOKENS} "  # noqa: S608
                               "WHERE token_hash = %s AND revoked_at IS NULL", (digest,)).fetchone()
        principal = None if row is None else Principal(row[0], row[1], row[2])
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, principal)
        return principal


bearer = HTTPBearer(auto_error=False, description="A token from `jixiao token create` (or POST /admin/tokens)")


async def current_principal(request: Request,
                            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller: the token's principal, or ``public`` without a token. A bad token is refused, not downgraded."""
    return await authenticate(request, credentials)


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The principal of a request's bearer token (see :func:`current_principal`).

    Async, with the database asked (in a worker thread) only on a cache miss: a sync dependency costs every
    request a hand-off to the thread pool and back, which on a small machine is most of a cheap request.
    """
    header = request.headers.get("authorization")
    if header is None:
        return PUBLIC
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise EdgeProblem("unauthenticated", "send Authorization: Bearer <token>",
                          headers={"WWW-Authenticate": "Bearer"})
    store: TokenStore = request.app.state.tokens
    found, principal = store.cached(credentials.credentials)
    if not found:
        principal = await run_in_threadpool(store.principal, credentials.credentials)
    if principal is None:
        raise EdgeProblem("unauthenticated", "the token is unknown or revoked",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only ``roles``; anyone else gets 403 (or 401 when they sent no token)."""
    async def check(principal: PrincipalDep) -> Principal:
        return admit(principal, roles)

    return check


def admit(principal: Principal, roles: tuple[Role, ...]) -> Principal:
    """``principal`` if its role is one of ``roles``; else 403 (or 401 when it sent no token)."""
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        if principal.role == Role.PUBLIC:
            raise EdgeProblem("unauthenticated", f"this needs a token of role {allowed}",
                              headers={"WWW-Authenticate": "Bearer"})
        raise Forbidden(f"role {principal.role} may not do this (allowed: {allowed})", code="role-not-allowed")
    return principal


Reader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT, Role.AGENCY))]
Overseer = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
ACTORS = (Role.FINANCE, Role.DEPARTMENT, Role.AGENCY, Role.ADMIN)  # who may send commands at all
Actor = Annotated[Principal, Depends(require(*ACTORS))]


def role_of(principal: Principal) -> Role:
    return enum_value(Role, principal.role, "role")
