"""Bearer tokens, as an administrator issues, lists and revokes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from api.labels import Coded
from api.schemas.common import (
    FromRecord,
    Strict,
    with_examples,
)
from ledger.domain.values import Role


class TokenCreate(Strict):
    model_config = with_examples({"name": "edu-zhang", "role": "department", "organisation": "教育局"})

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The principal's id, recorded on every event it causes"
    )
    role: Role
    organisation: Annotated[str, StringConstraints(max_length=200)] = Field(
        default="",
        description="The organisation it acts for: a department's name, or a budget unit's (预算单位) for a unit's "
        "staff, who then act for the unit's projects only",
    )


class TokenOut(FromRecord):
    token_id: str
    name: str
    role: Annotated[str, Coded("role")]
    organisation: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    refused: str | None = Field(
        default=None,
        description="Why the service does not honour this record (unsigned "
        "from an earlier version, a signature that does not verify, a principal id held "
        "by another role or organisation too); null when it does",
    )


class TokenIssued(TokenOut):
    token: str = Field(description="Shown once; only its SHA-256 is stored")
