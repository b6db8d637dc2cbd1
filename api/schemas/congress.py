"""Finance's submissions to the people's congress (报送人大): the command."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from api.schemas.common import CommandBody, Year, with_examples


class CongressSubmissionCreate(CommandBody):
    model_config = with_examples(
        {
            "fiscal_year": 2021,
            "what": "goals",
            "project_ids": ["5b7b0f3e-2f0c-5d55-9a57-1c0b4f1e7a11"],
            "effective_on": "2020-12-28",
        }
    )

    fiscal_year: Year
    what: Literal["goals", "results"] = Field(
        description="goals with the budget draft (随同预算草案), results with the final accounts (随同决算草案)"
    )
    project_ids: list[UUID] = Field(min_length=1, max_length=10_000, description="The projects submitted")
