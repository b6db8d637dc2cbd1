"""Finance's decisions on departments and units (通报, 表彰, 约谈) and their rectification: commands and list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from api.labels import Coded, Labelled
from api.schemas.common import EVIDENCE_EXAMPLE, CommandBody, LongText, ShortText, Year, with_examples


class DecisionCreate(CommandBody):
    model_config = with_examples(
        {
            "kind": "interview",
            "organisation": "文体旅游广电局",
            "basis": "ranking",
            "fiscal_year": 2021,
            "reason": "2021年度部门综合绩效考评排名末位，约谈主要负责人",
            "evidence": [EVIDENCE_EXAMPLE],
            "effective_on": "2022-06-10",
        }
    )

    kind: Literal["praise", "criticism", "commendation", "interview"] = Field(
        description="通报表扬 praise, 通报批评 criticism, 表彰 commendation, 约谈 interview; criticism and interview "
        "open a rectification"
    )
    organisation: ShortText = Field(description="The department or budget unit, by name (any spelling)")
    basis: Literal["ranking", "evaluation"] = Field(
        description="What it rests on: the fiscal year's ranking (the department's comprehensive assessment), or a "
        "project's evaluation"
    )
    fiscal_year: Year | None = Field(default=None, description="The year ranked (required for ranking)")
    project_id: UUID | None = Field(default=None, description="The evaluated project (required for evaluation)")


class DecisionReport(CommandBody):
    model_config = with_examples(
        {"measures": "已制定整改方案并完成整改", "evidence": [EVIDENCE_EXAMPLE], "effective_on": "2022-07-01"}
    )

    measures: LongText


class DecisionRectificationDecision(CommandBody):
    model_config = with_examples({"accept": True, "effective_on": "2022-07-05"})

    accept: bool


class DecisionRow(Labelled):
    decision_id: UUID
    kind: str
    kind_zh: str
    subject_kind: Annotated[str, Coded("subject_kind")] = Field(description="department or unit")
    subject: str = Field(description="As registered")
    department: str = Field(description="The department, itself or the unit's")
    basis: Annotated[str, Coded("basis_kind")] = Field(description="ranking or evaluation")
    fiscal_year: int
    project_id: UUID | None
    decided_on: date
    reason: str
    rectification_due: date | None = Field(description="None: the decision opens no rectification")
    rectification_status: Annotated[str | None, Coded("rectification_status")] = Field(
        description="open, reported or accepted"
    )
    reports: int
    reported_on: date | None
    accepted_on: date | None
    approaching_on: date | None = Field(description="When the scheduler warned the report was due")
    missed_on: date | None = Field(description="When the scheduler recorded the report missed")
    overdue: bool = Field(description="Open and past due today")
    position: int
