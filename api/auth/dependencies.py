"""Who is asking, as FastAPI dependencies: the caller's principal from its bearer token (``public`` without one),
and the role checks routes declare (``Reader``, ``Overseer``, ``Admin``, ``require(...)``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.auth.records import PUBLIC
from api.auth.store import TokenStore
from api.logs import note_principal
from api.problems import EdgeProblem
from ledger.domain.errors import Forbidden
from ledger.domain.values import Principal, Role, enum_value

bearer = HTTPBearer(auto_error=False, description="A token from `jixiao token create` (or POST /admin/tokens)")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
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
        raise EdgeProblem(
            "unauthenticated", "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    store: TokenStore = request.app.state.tokens
    found = store.cached(credentials.credentials)
    if found is None:
        found = await run_in_threadpool(store.lookup, credentials.credentials)
    if found.principal is None:
        raise EdgeProblem(
            "unauthenticated", found.refusal, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    note_principal(found.principal.id)  # the request's lines in the log name who sent it
    return found.principal


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
            raise EdgeProblem(
                "unauthenticated", f"this needs a token of role {allowed}", headers={"WWW-Authenticate": "Bearer"}
            )
        raise Forbidden(f"role {principal.role} may not do this (allowed: {allowed})", code="role-not-allowed")
    return principal


Reader = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT, Role.AGENCY))]
Overseer = Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
ACTORS = (Role.FINANCE, Role.DEPARTMENT, Role.AGENCY, Role.AUDITOR, Role.ADMIN)  # who may send commands at all
# (the auditor: its contribution to the re-evaluation draw and its audit findings; every use case refuses it anything
# else)
Actor = Annotated[Principal, Depends(require(*ACTORS))]


def role_of(principal: Principal) -> Role:
    return enum_value(Role, principal.role, "role")
