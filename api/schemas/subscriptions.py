"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from api.labels import Coded
from api.schemas.common import (
    FromRecord,
    PrincipalOut,
    Strict,
    with_examples,
)


class SubscriptionCreate(Strict):
    model_config = with_examples(
        {
            "url": "https://budget.example.gov.cn/hooks/jixiao",
            "topics": ["Project.BudgetApproved", "Project.ResultsApplied"],
            "secret": "a-long-random-shared-secret",
        }
    )

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    topics: list[Annotated[str, StringConstraints(min_length=3, max_length=100)]] = Field(
        default_factory=list, max_length=100, description="Event types or Aggregate.*; empty: every event you may see"
    )
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = Field(
        default=None, description="For the HMAC-SHA256 signature; default: generated and returned once"
    )
    after: Annotated[int, Field(ge=-1)] | None = Field(
        default=None, description="Start after this position (-1: the whole log); default: from now on"
    )


class SubscriptionOut(FromRecord):
    id: UUID
    url: str
    topics: list[str]
    principal: PrincipalOut
    status: Annotated[str, Coded("subscription_status")] = Field(
        description="active, dead (dead-lettered: re-enable it once the receiver is fixed) or disabled"
    )
    position: int = Field(description="The last position delivered (or skipped as not subscribed)")
    attempts: int = Field(description="Failed attempts at the next event")
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once: verify X-Jixiao-Signature with it")


class DeliveryOut(BaseModel):
    id: int
    position: int
    attempt: int
    delivery_id: UUID
    status_code: int | None
    error: str | None
    duration_ms: Decimal
    delivered_at: datetime
