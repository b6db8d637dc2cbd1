"""Departments, their budget units and third-party agencies: their commands, the blacklist, the department ranking,
the directories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from api.labels import Coded, Labelled
from api.schemas.common import (
    EVIDENCE_EXAMPLE,
    CommandBody,
    LongText,
    Points,
    ShortText,
    Strict,
    Year,
    with_examples,
)


class DepartmentCreate(CommandBody):
    model_config = with_examples({"name": "教育局", "effective_on": "2020-08-01"})

    name: ShortText = Field(description="Stored exactly as given (NFC)")


class UnitCreate(CommandBody):
    model_config = with_examples({"name": "德令哈市第一中学", "effective_on": "2020-08-03"})

    name: ShortText = Field(
        description="Stored exactly as given; refused (already-exists) if a unit or a department holds the name in any "
        "spelling"
    )


class DepartmentAssessment(CommandBody):
    model_config = with_examples(
        {
            "fiscal_year": 2021,
            "scores": {
                "running_cost": 88,
                "management_efficiency": 90,
                "duty_performance": 92,
                "social_effect": 91,
                "sustainability": 85,
                "satisfaction": 93,
            },
            "effective_on": "2022-04-30",
        }
    )

    fiscal_year: Year
    scores: dict[str, Points] = Field(
        description="running_cost, management_efficiency, duty_performance, social_effect, sustainability, satisfaction"
    )


CreditCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(
        description="统一社会信用代码 (GB 32100-2015): 18 characters, check characters verified; stored in capitals",
        examples=["91632800864542843F"],
    ),
]


class AgencyCreate(CommandBody):
    model_config = with_examples(
        {
            "name": "某咨询评估有限公司",
            "credentials": "工程咨询甲级资信",
            "credit_code": "91632800864542843F",
            "affiliation": None,
            "effective_on": "2021-03-01",
        }
    )

    name: ShortText
    credentials: LongText
    credit_code: CreditCode
    affiliation: ShortText | None = Field(default=None, description="A department it belongs to, if any (回避)")


class CreditCodeRecord(CommandBody):
    model_config = with_examples({"credit_code": "91632800864542843F", "reason": "补录", "effective_on": "2022-01-05"})

    credit_code: CreditCode


class QualificationChange(CommandBody):
    model_config = with_examples(
        {"qualification": "suspended", "reason": "年度检查未通过", "effective_on": "2022-01-05"}
    )

    qualification: Literal["qualified", "suspended", "revoked"] = Field(
        description="资格: qualified 有效 (reinstated), suspended 暂停, revoked 撤销 (final); the reason is required"
    )


class Engagement(Strict):
    project_id: UUID
    evaluation_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(examples=["KE-2021-JY-01-1"])


class OverallEngagement(Strict):
    organisation_id: UUID = Field(description="The department or budget unit whose overall performance was evaluated")
    fiscal_year: Annotated[int, Field(ge=2000, le=2100)]
    evaluation_no: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="The overall evaluation's number")


class QualityReview(CommandBody):
    model_config = with_examples(
        {
            "project_id": "9b1c3f4e-8f5a-5d0e-9a55-3f3c2b9f6a10",
            "evaluation_id": "KE-2021-JY-01-1",
            "score": "85",
            "notes": "报告规范",
            "effective_on": "2022-06-01",
        }
    )

    project_id: UUID | None = Field(
        default=None, description="The project whose key evaluation (the engagement) is assessed"
    )
    evaluation_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="The key evaluation commissioned to this agency", examples=["KE-2021-JY-01-1"]
    )
    overall_engagement: OverallEngagement | None = Field(
        default=None,
        description="Or the overall evaluation (整体绩效评价) commissioned to this agency that is assessed, instead "
        "of project_id and evaluation_id: one engagement or the other",
    )
    score: Points = Field(description="工作质量考核 0–100: below the ruleset's quality_warning_below, a warning")
    notes: LongText = ""


class MisconductRecord(CommandBody):
    model_config = with_examples(
        {
            "kind": "falsification",
            "description": "伪造现场核查记录",
            "evidence": [EVIDENCE_EXAMPLE],
            "effective_on": "2022-03-15",
        }
    )

    kind: str = Field(
        description="falsification 弄虚作假, untrue_results 评价结果不实, other", examples=["falsification"]
    )
    description: LongText
    engagements: list[Engagement] = Field(
        default_factory=list,
        max_length=100,
        description="The key evaluations it concerns (commissioned to this agency): a blacklisting citing it voids "
        "their scores",
    )
    overall_engagements: list[OverallEngagement] = Field(
        default_factory=list,
        max_length=100,
        description="The overall evaluations (整体绩效评价) it concerns (commissioned to this agency): a blacklisting "
        "citing it voids them too",
    )


class Blacklisting(CommandBody):
    model_config = with_examples(
        {"misconduct_nos": [1], "public": True, "reason": "弄虚作假，列入失信黑名单", "effective_on": "2022-03-18"}
    )

    misconduct_nos: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, max_length=100, description="Default: every recorded misconduct"
    )
    public: bool = Field(default=True, description="Always true: a blacklisting is published (信用青海)")


class BlacklistLift(CommandBody):
    model_config = with_examples({"reason": "申诉成立", "effective_on": "2023-01-10"})


class BlacklistEntry(Labelled):
    agency_id: UUID
    blacklisting_no: int
    agency_name: str
    misconduct: list[dict[str, Any]] = Field(description="The misconduct records cited")
    start_on: date
    until: date
    ended_on: date | None
    ended_how: Annotated[str | None, Coded("blacklist_end")] = Field(description="lifted (on appeal) or expired")
    public: bool
    current: bool = Field(description="In force on the day asked")
    reason: str
    credit_code: str | None = Field(description="统一社会信用代码; null for an agency registered before codes were")
    conduct: str = Field(description="失信行为: each misconduct cited, its kind in Chinese and its description")
    authority: str = Field(description="认定机关: the organisation that decided the blacklisting")


class RankingRow(Labelled):
    department: str
    fiscal_year: int
    assessment_total: Decimal | None
    rank: int | None
    ranked: int
    average_grade_points: Decimal | None = Field(description="优 4, 良 3, 中 2, 差 1")
    approved_projects: int
    self_evaluated: int
    self_evaluation_coverage: Decimal | None
    decisions: Annotated[list[str], Coded("decision_kind")] = Field(
        description="The decisions finance recorded on this year's ranking (praise 通报表扬, criticism 通报批评, "
        "commendation 表彰, interview 约谈), by name; none is inferred from the rank"
    )


class Directory(BaseModel):
    id: UUID
    name: str


class AgencyDirectory(Labelled):
    id: UUID
    name: str
    credit_code: str | None = Field(description="统一社会信用代码; null if registered before codes were required")
    qualification: Annotated[str, Coded("qualification")] = Field(description="资格: qualified, suspended or revoked")
    barred_until: date | None = Field(description="暂停承接 after quality warnings: the last bar's end, if any")


class UnitDirectory(BaseModel):
    id: UUID
    name: str = Field(description="As registered")
    department_id: UUID
    department: str = Field(description="Its department, as registered")
    registered_on: date
