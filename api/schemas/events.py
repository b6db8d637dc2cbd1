"""The event feed (``GET /events``): an event with what a subscriber needs to verify it, and a page of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class EventOut(BaseModel):
    """One event of the feed, with what a subscriber needs to verify it (its position and leaf hash)."""

    position: int = Field(description="Its leaf index: dense, from 0, in commit order")
    # Not labelled beside (no type_zh): PostgreSQL renders the feed and the streams byte for byte, for throughput;
    # GET /labels has every event type's Chinese name (vocabulary event_type).
    type: str = Field(examples=["Project.BudgetApproved"])
    aggregate_id: UUID
    version: int
    recorded_at: datetime
    effective_on: date | None
    principal: dict[str, str | None] = Field(
        description="id, role and organisation; for the public and agencies the id (a member of staff) is null"
    )
    payload: dict[str, Any] = Field(
        description=(
            "The event exactly as stored (the JSON its leaf hash commits to): its fields with principal, effective_on, "
            'reason and evidence; exact values typed as {"_type_": "decimal_str", "_data_": "4800000.00"} '
            "(also date_iso, datetime_iso, uuid_hex, principal, indicator) — ledger.transcodings.untyped() reads them. "
            "For the public and agencies: the same without the principal's id"
        )
    )
    leaf_hash: str = Field(description="hex SHA-256(0x00 ‖ canonical bytes); prove it with /log/proofs/inclusion")
    topic: str | None = Field(default=None, description="With with_state: the stored topic")
    state: str | None = Field(default=None, description="With with_state: the stored bytes, base64")


class EventPageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"events": [], "next": 516, "head": 517}]})

    events: list[EventOut]
    next: int = Field(description="Pass as ?after= for what follows (-1: nothing yet); persist it as your cursor")
    head: int = Field(description="Events in the log when this page was read")
