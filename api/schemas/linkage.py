"""Results into budgets (绩效结果与预算挂钩): a continuation beside the earlier result and what was allowed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field

from api.labels import Coded, Labelled


class BudgetLinkageRow(Labelled):
    """A project continuing an earlier one: the earlier result decision, what it allowed, what was approved."""

    project_id: UUID
    fiscal_year: int
    code: str
    department: str
    unit: str | None
    continues: UUID = Field(description="The earlier project it continues")
    earlier_code: str | None = Field(description="Known once the budget is approved (the approval read it)")
    earlier_fiscal_year: int | None
    earlier_decision: Annotated[str | None, Coded("result_decision")] = Field(
        description="结果应用: prioritise 优先保障, maintain 合理保障, reduce 调减, cancel 取消, "
        "rectify_first 整改后再安排"
    )
    earlier_grade: Annotated[str | None, Coded("grade")]
    cap: Decimal | None = Field(description="调减: the most the earlier result allows (its recorded next_year_budget)")
    approved: Decimal | None = Field(description="The approved amount; null: not yet approved")
    approved_on: date | None
    allowed: bool | None = Field(description="Whether the amount was within what the earlier result allows")
    refusal: Annotated[str | None, Coded("problem")] = Field(
        description="The problem type it would have been refused with, but for the override"
    )
    priority: bool | None = Field(description="优先保障, recorded as such on the approval")
    rectifications_accepted: list[int] | None
    override: bool = Field(description="Finance approved beyond what the earlier result allows (突破), with a reason")
    override_reason: str | None
    position: int = Field(description="The log position of the event that last changed the row")
