"""The finance bureau's cross-cutting queries: the accountability trail, coverage and deadlines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.labels import Coded, Labelled


class TrailEntry(Labelled):
    """Who did what, when, under which role (问责记录)."""

    leaf_index: int
    recorded_at: datetime
    effective_on: date | None
    principal_id: str
    principal_role: Annotated[str, Coded("role")]
    organisation: str
    object_type: Annotated[str, Coded("object_type")]
    object_id: UUID
    object_version: int
    event_type: str
    event_type_zh: str
    reason: str
    evidence: list[str]


class CoverageRow(BaseModel):
    fiscal_year: int
    departments: int
    departments_with_goals: int = Field(description="Departments whose overall goals for the year finance approved")
    goals_coverage: Decimal | None = Field(description="departments_with_goals as a share of departments (%)")
    goals_coverage_target: Decimal = Field(description="The ruleset's overall_goals_coverage for the year (%)")
    units: int = Field(description="Budget units registered")
    units_with_goals: int = Field(description="Units whose overall goals for the year finance approved")
    units_goals_coverage: Decimal | None = Field(description="units_with_goals as a share of units (%)")
    declared_projects: int
    approved_projects: int
    self_evaluated: int
    self_evaluation_coverage: Decimal | None
    re_evaluated: int
    re_evaluation_rate: Decimal | None
    general_public: int
    government_fund: int
    state_capital: int
    social_insurance: int
    goals_disclosure_rate: Decimal | None
    results_disclosure_rate: Decimal | None


class DeadlineRow(Labelled):
    project_id: UUID
    kind: Annotated[str, Coded("deadline_kind")] = Field(
        description="goal_submission, monitoring_report, self_evaluation, rectification, deviation_answer"
    )
    ref: int = Field(description="The rectification number or deviation month; 0 otherwise")
    project_code: str
    department: str
    unit: str | None = Field(description="The project's budget unit (预算单位); null: the department's own project")
    fiscal_year: int
    due_on: date
    status: Annotated[str, Coded("deadline_status")] = Field(description="open, met or void (no longer owed)")
    settled_on: date | None
    approaching_on: date | None = Field(description="When the scheduler gave the approaching notice, if it has")
    missed_on: date | None = Field(description="When the scheduler recorded it missed, if it has")
    approaching: bool = Field(description="Open and due within the ruleset's warning days of the day asked")
    missed: bool = Field(description="Open and past due on the day asked")
