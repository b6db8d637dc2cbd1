"""What the schemas of every resource share: the fields every command carries, what a command returns, a page of
a query's rows, and the field types (money, points, text of bounded length)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.labels import Coded, Labelled

EVIDENCE_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Money = Annotated[
    Decimal, Field(description="Yuan, at most two places (fen); a JSON number or a string", examples=["4800000.00"])
]
Points = Annotated[Decimal, Field(description="A score, 0–100 (or up to the dimension's points)", examples=["18"])]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Year = Annotated[int, Field(ge=2000, le=2100, examples=[2021])]
Month = Annotated[int, Field(ge=1, le=12, examples=[7])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FromRecord(Labelled):
    """An answer read straight off one of the ledger's records (a dataclass), field by field, by name."""

    model_config = ConfigDict(from_attributes=True)


class PrincipalOut(FromRecord):
    """Who acted: the principal's id, its role and the organisation it acts for."""

    id: str
    role: Annotated[str, Coded("role")]
    organisation: str


class DocumentIn(Strict):
    """A document cited as evidence, typed from the catalogue (评估报告, 自评报告, 评价方案, 评价报告, 督导意见,
    整改报告, 审计报告, …): required where a step names a report."""

    digest: Sha256Hex = Field(description="SHA-256 (hex) of the document", examples=[EVIDENCE_EXAMPLE])
    type: Literal[
        "ex_ante_report",
        "self_evaluation_report",
        "monitoring_report",
        "evaluation_plan",
        "evaluation_report",
        "supervision_opinion",
        "rectification_report",
        "audit_report",
        "other",
    ] = Field(description="The document's type (文书类型)", examples=["self_evaluation_report"])
    name: ShortText | None = Field(default=None, description="The document's name as filed", examples=["自评报告.pdf"])


class CommandBody(Strict):
    """What every command carries besides its own fields."""

    effective_on: date | None = Field(
        default=None,
        description="The business date it takes effect (valid time); default: today",
        examples=["2021-01-15"],
    )
    reason: LongText = Field(default="", description="The reason given (required where the rules ask for one)")
    evidence: list[Sha256Hex | DocumentIn] = Field(
        default_factory=list,
        max_length=100,
        description="Each attached document: its SHA-256 (hex), or {digest, type, name?} typed from the catalogue "
        "(a step that names a report requires one of its type)",
    )


def with_examples(*examples: dict[str, Any]) -> ConfigDict:
    """A request model's configuration: unknown fields refused, ``examples`` shown in its schema."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class WrittenEventOut(Labelled):
    position: int = Field(description="The event's leaf index in the log")
    aggregate_id: UUID
    version: int
    type: Annotated[str, Coded("event_type")] = Field(examples=["Project.BudgetApproved"])
    references: dict[str, Any] = Field(default_factory=dict, description="Numbers or ids the event created")


class CommandResult(BaseModel):
    """What a command recorded. Wait for ``position`` (``min_position``) to read your own write."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d",
                    "version": 6,
                    "position": 41,
                    "positions": [41],
                    "events": [
                        {
                            "position": 41,
                            "aggregate_id": "8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d",
                            "version": 6,
                            "type": "Project.BudgetApproved",
                            "references": {},
                        }
                    ],
                    "replayed": False,
                }
            ]
        }
    )

    id: UUID
    version: int
    position: int
    positions: list[int]
    events: list[WrittenEventOut]
    replayed: bool = Field(description="True when an earlier request with this Idempotency-Key recorded it")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")
    position: int = Field(description="The log position the read models reflect")
