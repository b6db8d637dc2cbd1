"""Principals and their tokens (系统管理员): issue, list, revoke. Administrators make no domain writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.auth import Admin, TokenStore
from api.body import LedgerRoute
from api.problems import COMMAND_PROBLEMS, documented
from api.schemas.tokens import TokenCreate, TokenIssued, TokenOut
from ledger.domain.errors import NotFound

router = APIRouter(prefix="/admin/tokens", tags=["admin"], route_class=LedgerRoute)


def _store(request: Request) -> TokenStore:
    store: TokenStore = request.app.state.tokens
    return store


@router.post("", status_code=201, responses=COMMAND_PROBLEMS)
def issue_token(body: TokenCreate, admin: Admin, request: Request) -> TokenIssued:
    """Issue a token for a principal (one id, one role and organisation); shown once, only its SHA-256 is kept."""
    token, record = _store(request).issue(body.name, body.role.value, body.organisation, created_by=admin.id)
    return TokenIssued(token=token, **TokenOut.model_validate(record).model_dump())


@router.get("", responses=documented(401, 403))
def list_tokens(admin: Admin, request: Request) -> list[TokenOut]:
    """Every token issued, live or revoked, and why the service refuses one (never the token itself)."""
    return [TokenOut.model_validate(record) for record in _store(request).list()]


@router.delete("/{token_id}", responses=documented(401, 403, 404))
def revoke_token(token_id: Annotated[str, Path(max_length=64)], admin: Admin, request: Request) -> TokenOut:
    """Revoke a token: refused everywhere once this returns; with the principal's last token, its subscriptions stop."""
    revoked = _store(request).revoke(token_id, revoked_by=admin.id)
    if revoked is None:
        raise NotFound(f"no token {token_id}", code="object-not-found")
    return TokenOut.model_validate(revoked.record)
