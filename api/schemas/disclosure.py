"""Disclosure (信息公开): the duties to disclose and to submit to the congress, as finance, auditors and departments
read them, and what the public reads of what was disclosed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import CommandBody, with_examples

KIND_DESCRIPTION = (
    "project_goals 项目绩效目标公开, project_results 项目绩效评价结果公开, overall_goals 整体绩效目标公开, "
    "overall_results 整体绩效评价结果公开, congress_goals 绩效目标随预算草案报送人大, "
    "congress_results 评价结果随决算草案报送人大"
)
CONTENT_DESCRIPTION = (
    "What the disclosure made public, as recorded with it: goals — the indicators (tree, measure, target, unit, "
    "weight) and the approved amount; results — each evaluation's score and grade, the grade results rest on and the "
    "result decision. None: nothing disclosed yet, or a disclosure recorded before disclosures said what they showed"
)


class OverallGoalsDisclosure(CommandBody):
    model_config = with_examples({"effective_on": "2021-11-20", "reason": "随部门预算公开"})


class DisclosureRow(BaseModel):
    """A duty to disclose (or to submit to the congress): due, notices, met (when, by whom, late), content."""

    object_id: UUID = Field(description="The project's id, or the duty's (overall goals, congress)")
    kind: str = Field(description=KIND_DESCRIPTION)
    kind_zh: str
    fiscal_year: int
    department: str | None = Field(description="The department it is of; None: finance's (the congress)")
    unit: str | None = Field(description="The budget unit it is of, if one")
    organisation: str | None = Field(description="Who owes it; None: finance")
    code: str | None = Field(description="A project's code")
    name: str | None = Field(description="A project's name")
    subject_id: UUID | None = Field(description="What is disclosed: the project, the overall goals")
    opened_on: date | None = Field(description="When the duty arose (the approval, the results applied)")
    due_on: date | None = Field(description="The day it is due by; None: none was recorded")
    approaching_on: date | None = Field(description="When the scheduler warned it was due")
    missed_on: date | None = Field(description="When the scheduler recorded it missed")
    done_on: date | None = Field(description="Disclosed (submitted) on; None: still owed")
    done_recorded_at: datetime | None
    done_by_id: str | None
    done_by_role: str | None
    done_by_organisation: str | None
    late: bool | None = Field(description="Met after its due day (None: owed, or no due day recorded)")
    overdue: bool = Field(description="Still owed and past its due day today")
    content: dict[str, Any] | None = Field(description=CONTENT_DESCRIPTION)
    submission_id: UUID | None = Field(description="The congress submission that met it")
    submitted_projects: int | None
    position: int


class DisclosurePublic(BaseModel):
    """What the public reads: what was disclosed, and only that (who disclosed it is the organisation itself)."""

    object_id: UUID
    kind: str = Field(description="project_goals, project_results, overall_goals or overall_results")
    kind_zh: str
    fiscal_year: int
    department: str | None
    unit: str | None
    organisation: str | None
    code: str | None
    name: str | None
    subject_id: UUID | None
    done_on: date = Field(description="Disclosed on")
    content: dict[str, Any] | None = Field(description=CONTENT_DESCRIPTION)
