"""A project (项目/政策) as the queries return it: the read model's row (:mod:`projections.project_status`), and what
the public reads of a project disclosed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from api.labels import Coded, Labelled


class ProjectStatusOut(Labelled):
    """One project as the read model holds it (项目状态)."""

    project_id: UUID
    code: str
    name: str
    kind: Annotated[str, Coded("project_kind")]
    department: str
    unit: str | None = Field(description="Its budget unit (预算单位), as registered; null: the department's own")
    fiscal_year: int
    budget_book: Annotated[str, Coded("budget_book")]
    special_category: Annotated[str | None, Coded("special_category")]
    new_major: bool
    stage: Annotated[str, Coded("stage")]
    ex_ante_led_by: Annotated[str | None, Coded("ex_ante_lead")] = Field(
        description="事前绩效评估: who carried out the assessment that stands — department (its report reviewed and "
        "approved by finance) or finance itself; null while none stands"
    )
    ex_ante_conclusion: Annotated[str | None, Coded("ex_ante_conclusion")] = Field(
        description="The conclusion of the assessment that stands"
    )
    ex_ante_review: Annotated[str | None, Coded("ex_ante_filing_status")] = Field(
        description="The latest filed ex-ante report's review (审核): filed, approved or returned"
    )
    ex_ante_filed_by: str | None = Field(description="Who filed the latest ex-ante report (organisation)")
    ex_ante_agency: str | None = Field(description="The agency the department commissioned for its ex-ante assessment")
    requested: Decimal
    approved: Decimal | None
    executed: Decimal
    execution_rate: Decimal | None = Field(description="executed ÷ approved, in %")
    latest_month: int | None
    latest_deviation: Annotated[str | None, Coded("deviation")] = Field(description="yellow or red")
    funding_suspended: bool
    self_score: Decimal | None
    self_grade: Annotated[str | None, Coded("grade")]
    re_score: Decimal | None
    re_grade: Annotated[str | None, Coded("grade")]
    inflated: bool = Field(
        description="自评虚高: the self-evaluation was more than the threshold above a re-evaluation"
    )
    key_score: Decimal | None
    key_grade: Annotated[str | None, Coded("grade")]
    grade: Annotated[str | None, Coded("grade")] = Field(
        description="The grade results are applied on: key over re- over self-evaluation"
    )
    result_decision: Annotated[str | None, Coded("result_decision")]
    open_rectifications: int
    overdue_rectifications: int
    overdue: dict[str, date] = Field(
        description='Obligations missed and not yet met, "kind:ref" → due date '
        "(kind: goal_submission, monitoring_report, self_evaluation, "
        "deviation_answer, rectification)"
    )
    overdue_deadlines: int
    goals_disclosed: bool
    results_disclosed: bool
    last_changed_at: datetime
    version: int
    position: int = Field(description="The log position of the project's latest event")


class ProjectDisclosedOut(Labelled):
    """What the public may see of a project: only what was disclosed (信息公开)."""

    project_id: UUID
    code: str
    name: str
    department: str
    fiscal_year: int
    budget_book: Annotated[str, Coded("budget_book")]
    approved: Decimal | None = Field(description="With the goals (budget draft): the amount they were disclosed with")
    goals_disclosed: bool
    results_disclosed: bool
    goals: list[dict[str, Any]] | None = Field(
        description="The goal indicators and targets as disclosed (key, level1, level2, name, operator, target, unit, "
        "weight); null until the goals are disclosed. A later adjustment is not shown until disclosed."
    )
    results: dict[str, Any] | None = Field(
        description="The results as disclosed: self_evaluation, re_evaluation and key_evaluation (each its total and "
        "grade, or null), basis, grade and decision; null until the results are disclosed"
    )
    grade: Annotated[str | None, Coded("grade")] = Field(description="With the results (final accounts), as disclosed")
    self_score: Decimal | None = Field(description="The self-evaluation's score, as disclosed")
    result_decision: Annotated[str | None, Coded("result_decision")] = Field(
        description="The result decision, as disclosed (null: not yet applied when the results were disclosed)"
    )
