"""Projects (项目/政策): the commands of the budget-performance cycle (a project as the queries return it is
:mod:`api.schemas.project_status`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from api.i18n import field_error
from api.schemas.common import (
    EVIDENCE_EXAMPLE,
    CommandBody,
    LongText,
    Money,
    Month,
    Points,
    ShortText,
    Strict,
    Year,
    with_examples,
)

# A project as the queries return it, importable from here as before it moved (its users outside api.routers).
from api.schemas.project_status import ProjectDisclosedOut as ProjectDisclosedOut
from api.schemas.project_status import ProjectStatusOut as ProjectStatusOut
from ledger.domain.values import (
    BudgetBook,
    Grade,
    Indicator,
    Level1,
    Operator,
    ProjectKind,
    Qualitative,
    SpecialCategory,
)


class ContinuedProject(Strict):
    """The earlier project a new one continues: by its id, or by its fiscal year and code."""

    project_id: UUID | None = None
    fiscal_year: Year | None = None
    code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ContinuedProject:
        by_id = self.project_id is not None
        by_code = self.fiscal_year is not None and self.code is not None
        if by_id == by_code or (not by_id and (self.fiscal_year is None) != (self.code is None)):
            raise field_error(
                "continued_project",
                "name the continued project by project_id, or by fiscal_year and code",
                "所延续的项目须以project_id指明，或以fiscal_year和code指明",
            )
        return self

    def named(self) -> UUID | tuple[int, str]:
        if self.project_id is not None:
            return self.project_id
        assert self.fiscal_year is not None
        assert self.code is not None
        return (self.fiscal_year, self.code)


class ProjectCreate(CommandBody):
    model_config = with_examples(
        {
            "code": "JY-01",
            "name": "义务教育学生营养改善计划",
            "kind": "project",
            "department": "教育局",
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "special_category": None,
            "requested": "4800000.00",
            "new_major": True,
            "effective_on": "2020-09-01",
        }
    )

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: ShortText
    kind: ProjectKind = ProjectKind.PROJECT
    department: ShortText
    fiscal_year: Year
    budget_book: BudgetBook
    special_category: SpecialCategory | None = None
    requested: Money
    new_major: bool = Field(default=False, description="新出台重大政策/项目")
    unit: ShortText | None = Field(
        default=None,
        description="The department's budget unit (预算单位) the project is of, if any; a unit of another department "
        "is refused (unit-not-in-department)",
    )
    continues: ContinuedProject | None = Field(
        default=None,
        description="The earlier project this one continues (结果与预算挂钩): of the same department, an earlier "
        "fiscal year, its results applied. Its budget is then approved within what the earlier result decision allows",
    )


class ExAnteAssessment(CommandBody):
    model_config = with_examples(
        {
            "scores": {
                "necessity": 18,
                "economy": 17,
                "goal_rationality": 16,
                "feasibility": 17,
                "funding_compliance": 18,
            },
            "effective_on": "2020-09-20",
        }
    )

    scores: dict[str, Points] = Field(
        description="necessity 立项必要性, economy 投入经济性, "
        "goal_rationality 绩效目标合理性, "
        "feasibility 实施方案可行性, funding_compliance 筹资合规性"
    )


class Admission(CommandBody):
    model_config = with_examples({"effective_on": "2020-09-30", "reason": "事前评估予以支持，纳入项目库"})


class IndicatorIn(Strict):
    """A level-3 indicator (三级指标)."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Unique within the goals, stable across revisions"
    )
    level1: Level1
    level2: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="output: quantity/quality/timeliness; cost: economic/social/ecological; effect: economic/social/"
        "ecological/sustainable; satisfaction: service_users"
    )
    name: ShortText
    operator: Operator
    target: Decimal | Qualitative = Field(description="A number, or for qualitative one of 好/较好/一般/较差")
    unit: Annotated[str, StringConstraints(max_length=32)] = ""
    weight: Decimal = Field(description="Points of 100; all weights sum to 100 minus the execution-rate share")
    library_ref: Annotated[str, StringConstraints(max_length=64)] | None = None

    def indicator(self) -> Indicator:
        """The indicator as the ledger takes it (a qualitative target as its plain text)."""
        return Indicator(
            self.key,
            self.level1.value,
            self.level2,
            self.name,
            self.operator.value,
            self.target if isinstance(self.target, Decimal) else str(self.target),
            self.unit,
            self.weight,
            self.library_ref,
        )


GOALS_EXAMPLE = [
    {
        "key": "I1",
        "level1": "output",
        "level2": "quantity",
        "name": "受益学生人数",
        "operator": ">=",
        "target": 5000,
        "unit": "人",
        "weight": 30,
    },
    {
        "key": "I2",
        "level1": "output",
        "level2": "timeliness",
        "name": "供餐天数",
        "operator": ">=",
        "target": 200,
        "unit": "天",
        "weight": 20,
    },
    {
        "key": "I3",
        "level1": "effect",
        "level2": "social",
        "name": "学生体质健康达标率",
        "operator": ">=",
        "target": 92,
        "unit": "%",
        "weight": 30,
    },
    {
        "key": "I4",
        "level1": "satisfaction",
        "level2": "service_users",
        "name": "家长满意度",
        "operator": ">=",
        "target": 90,
        "unit": "%",
        "weight": 10,
    },
]


class GoalsSubmit(CommandBody):
    model_config = with_examples({"indicators": GOALS_EXAMPLE, "effective_on": "2020-10-20"})

    indicators: list[IndicatorIn] = Field(min_length=1, max_length=500)


class GoalsReview(CommandBody):
    model_config = with_examples(
        {"rating": "优", "effective_on": "2020-11-05"},
        {"rating": "中", "required_fixes": "产出指标不够细化", "effective_on": "2020-11-05"},
    )

    rating: Grade = Field(description="优/良 approved, 中 returned for revision, 差 not funded this year")
    required_fixes: LongText = ""


class BudgetApproval(CommandBody):
    model_config = with_examples(
        {"amount": "4800000.00", "effective_on": "2021-01-15"},
        {
            "amount": "4800000.00",
            "override": True,
            "reason": "市政府常务会议决定继续保障",
            "effective_on": "2023-01-15",
        },
    )

    amount: Money
    override: bool = Field(
        default=False,
        description="Finance approves a continuation beyond what the earlier result decision allows (取消, above the "
        "调减 cap, before the 整改 is accepted); the reason is required and recorded with the approval",
    )


class GoalAdjustmentRequest(CommandBody):
    model_config = with_examples(
        {"indicators": GOALS_EXAMPLE, "reason": "受益学生人数因学校合并调整", "effective_on": "2021-06-01"}
    )

    indicators: list[IndicatorIn] = Field(min_length=1, max_length=500)


class Decision(CommandBody):
    model_config = with_examples(
        {"approve": True, "effective_on": "2021-06-10"},
        {"approve": False, "reason": "调整理由不充分", "effective_on": "2021-06-10"},
    )

    approve: bool


class MonitoringReport(CommandBody):
    model_config = with_examples(
        {
            "month": 7,
            "executed": "2100000.00",
            "indicator_progress": {"I1": 60, "I2": 55},
            "forecast": {"I1": 100},
            "shortfall_reasons": "",
            "measures": "",
            "effective_on": "2021-08-10",
        }
    )

    month: Month = Field(description="The report covers January through this month")
    executed: Money = Field(description="Cumulative amount executed")
    indicator_progress: dict[str, Decimal] = Field(default_factory=dict, description="Indicator key → % complete")
    forecast: dict[str, Decimal] = Field(default_factory=dict, description="Indicator key → % expected at year end")
    shortfall_reasons: LongText = ""
    measures: LongText = ""


class MonitoringReview(CommandBody):
    model_config = with_examples({"opinion": "执行进度正常", "effective_on": "2021-08-20"})

    opinion: LongText


class CorrectiveAction(CommandBody):
    model_config = with_examples(
        {
            "decision": "reduce_budget",
            "amount": "1000000.00",
            "deviation_month": 6,
            "reason": "执行进度严重滞后，调减预算",
            "effective_on": "2021-07-20",
        }
    )

    decision: str = Field(
        description="continue, reallocate, suspend_funding, cancel or reduce_budget", examples=["continue"]
    )
    amount: Money | None = Field(default=None, description="Only for reduce_budget")
    deviation_month: Month | None = Field(default=None, description="The deviation this answers")


class SelfEvaluation(CommandBody):
    model_config = with_examples(
        {
            "actuals": {"I1": 5120, "I2": 200, "I3": 93.5, "I4": 92},
            "executed": "4750000.00",
            "effective_on": "2022-03-15",
        }
    )

    actuals: dict[str, Decimal | Qualitative] = Field(description="Indicator key → actual value (or 好/较好/一般/较差)")
    executed: Money


class Scores(CommandBody):
    model_config = with_examples(
        {"scores": {"decision": 13, "process": 16, "output": 25, "effect": 22}, "effective_on": "2022-05-20"}
    )

    scores: dict[str, Points] = Field(
        description="decision 决策, process 过程, output 产出, effect 效益 (ruleset weights)"
    )


class KeyEvaluationCommission(CommandBody):
    model_config = with_examples({"agency": "某咨询评估有限公司", "effective_on": "2022-04-10"})

    agency: ShortText | None = Field(
        default=None,
        description="The agency's name; none: finance evaluates itself (a department always names an agency)",
    )


class KeyEvaluationSubmission(CommandBody):
    """The agency's plan (评价方案) or report (评价报告): its evidence must include the document, typed
    ``evaluation_plan`` or ``evaluation_report`` (422 ``report-required`` otherwise)."""

    model_config = with_examples(
        {
            "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "evaluation_plan", "name": "评价方案.pdf"}],
            "effective_on": "2022-04-20",
        },
        {
            "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "evaluation_report", "name": "评价报告.pdf"}],
            "effective_on": "2022-06-20",
        },
    )


class SupervisionAnswer(CommandBody):
    model_config = with_examples(
        {"answer": "已补充三所学校的访谈记录", "evidence": [EVIDENCE_EXAMPLE], "effective_on": "2022-05-12"}
    )

    answer: LongText = Field(min_length=1, description="What the agency did about the findings (督导意见回复)")


class Review(CommandBody):
    """A review (审核): approve, or return with the reason. Finance's review of an evaluation's plan or report — a
    project's key evaluation or an organisation's overall evaluation (两审) — cites the document it reviewed, typed
    ``evaluation_plan`` or ``evaluation_report`` (422 ``report-required`` otherwise); an ex-ante report's review
    needs none."""

    model_config = with_examples(
        {
            "approved": True,
            "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "evaluation_plan"}],
            "effective_on": "2022-04-20",
        },
        {
            "approved": False,
            "reason": "评价指标体系不完整，请补充",
            "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "evaluation_plan"}],
            "effective_on": "2022-04-20",
        },
    )

    approved: bool


class SupervisionNote(CommandBody):
    model_config = with_examples(
        {"notes": "现场督导：访谈受益学校三所", "findings": ["访谈样本不足"], "effective_on": "2022-05-05"}
    )

    notes: LongText
    findings: list[LongText] = Field(
        default_factory=list,
        max_length=50,
        description="督导意见 the agency must answer: at least one for an agency's evaluation under 两审一督导 in full",
    )


class ResultApplication(CommandBody):
    model_config = with_examples(
        {"effective_on": "2022-06-30"}, {"decision": "reduce", "reason": "评价为中", "effective_on": "2022-06-30"}
    )

    decision: str | None = Field(
        default=None,
        description="prioritise, maintain, reduce, cancel or rectify_first (整改后再安排); default: "
        "from the grade (优 prioritise, 良 maintain, 中 reduce, 差 cancel)",
    )


class PolicyDecisionCommand(CommandBody):
    model_config = with_examples(
        {"effective_on": "2022-07-01"},
        {"decision": "terminate", "reason": "政策目标已实现，到期终止", "effective_on": "2022-07-01"},
    )

    decision: Literal["continue", "adjust", "terminate"] | None = Field(
        default=None,
        description="政策调整: continue 延续, adjust 调整, terminate 终止 (a terminated policy's continuation is not "
        "funded unless finance overrides); default: from the grade (优/良 continue, 中 adjust, 差 terminate), a "
        "departure needs a reason",
    )


class RectificationRequirement(CommandBody):
    model_config = with_examples(
        {
            "issues": ["供餐记录不完整"],
            "source": "re_evaluation",
            "deadline": "2022-09-30",
            "effective_on": "2022-06-30",
        }
    )

    issues: list[LongText] = Field(min_length=1, max_length=100)
    source: str = Field(
        description="monitoring, self_evaluation, re_evaluation, key_evaluation or audit", examples=["re_evaluation"]
    )
    deadline: date


class RectificationReport(CommandBody):
    model_config = with_examples(
        {
            "measures": "补齐供餐台账",
            "evidence": [{"digest": EVIDENCE_EXAMPLE, "type": "rectification_report", "name": "整改报告.pdf"}],
            "effective_on": "2022-09-01",
        }
    )

    measures: LongText


class RectificationDecision(CommandBody):
    model_config = with_examples({"accept": True, "effective_on": "2022-09-15"})

    accept: bool


class DisclosureCommand(CommandBody):
    model_config = with_examples({"what": "goals", "effective_on": "2021-01-20"})

    what: str = Field(
        description="goals (with the budget draft) or results (with the final accounts)", examples=["goals"]
    )


class Closure(CommandBody):
    model_config = with_examples({"effective_on": "2022-09-30"})
