"""The HTTP schemas: what a command takes, what a query returns.

Requests refuse unknown fields. Amounts, scores and percentages are exact decimals: give them as JSON numbers
(parsed as ``Decimal``, never float — see :mod:`api.body`) or as strings; responses write them as strings.
Domain rules (fen precision, score ranges, weights, stages) are the ledger's to check, and its refusals come
back as problems with the ledger's own codes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ledger.domain.values import BudgetBook, Grade, Level1, Operator, ProjectKind, Qualitative, Role, SpecialCategory

EVIDENCE_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Money = Annotated[Decimal, Field(description="Yuan, at most two places (fen); a JSON number or a string",
                                 examples=["4800000.00"])]
Points = Annotated[Decimal, Field(description="A score, 0–100 (or up to the dimension's points)", examples=["18"])]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Year = Annotated[int, Field(ge=2000, le=2100, examples=[2021])]
Month = Annotated[int, Field(ge=1, le=12, examples=[7])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandBody(Strict):
    """What every command carries besides its own fields."""

    effective_on: date | None = Field(
        default=None, description="The business date it takes effect (valid time); default: today", examples=[
            "2021-01-15"])
    reason: LongText = Field(default="", description="The reason given (required where the rules ask for one)")
    evidence: list[Sha256Hex] = Field(default_factory=list, max_length=100,
                                      description="SHA-256 (hex) of each attached document")


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# ------------------------------------------------------------------------------------------------ projects


class ProjectCreate(CommandBody):
    model_config = _examples({
        "code": "JY-01", "name": "义务教育学生营养改善计划", "kind": "project", "department": "教育局",
        "fiscal_year": 2021, "budget_book": "general_public", "special_category": None,
        "requested": "4800000.00", "new_major": True, "effective_on": "2020-09-01"})

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: ShortText
    kind: ProjectKind = ProjectKind.PROJECT
    department: ShortText
    fiscal_year: Year
    budget_book: BudgetBook
    special_category: SpecialCategory | None = None
    requested: Money
    new_major: bool = Field(default=False, description="新出台重大政策/项目")


class ExAnteAssessment(CommandBody):
    model_config = _examples({"scores": {"necessity": 18, "economy": 17, "goal_rationality": 16,
                                         "feasibility": 17, "funding_compliance": 18}, "effective_on": "2020-09-20"})

    scores: dict[str, Points] = Field(description="necessity 立项必要性, economy 投入经济性, "
                                      "goal_rationality 绩效目标合理性, "
                                      "feasibility 实施方案可行性, funding_compliance 筹资合规性")


class Admission(CommandBody):
    model_config = _examples({"effective_on": "2020-09-30", "reason": "事前评估予以支持，纳入项目库"})


class IndicatorIn(Strict):
    """A level-3 indicator (三级指标)."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Unique within the goals, stable across revisions")
    level1: Level1
    level2: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="output: quantity/quality/timeliness; cost: economic/social/ecological; effect: economic/social/"
        "ecological/sustainable; satisfaction: service_users")
    name: ShortText
    operator: Operator
    target: Decimal | Qualitative = Field(description="A number, or for qualitative one of 好/较好/一般/较差")
    unit: Annotated[str, StringConstraints(max_length=32)] = ""
    weight: Decimal = Field(description="Points of 100; all weights sum to 100 minus the execution-rate share")
    library_ref: Annotated[str, StringConstraints(max_length=64)] | None = None


GOALS_EXAMPLE = [
    {"key": "I1", "level1": "output", "level2": "quantity", "name": "受益学生人数", "operator": ">=",
     "target": 5000, "unit": "人", "weight": 30},
    {"key": "I2", "level1": "output", "level2": "timeliness", "name": "供餐天数", "operator": ">=",
     "target": 200, "unit": "天", "weight": 20},
    {"key": "I3", "level1": "effect", "level2": "social", "name": "学生体质健康达标率", "operator": ">=",
     "target": 92, "unit": "%", "weight": 30},
    {"key": "I4", "level1": "satisfaction", "level2": "service_users", "name": "家长满意度", "operator": ">=",
     "target": 90, "unit": "%", "weight": 10},
]


class GoalsSubmit(CommandBody):
    model_config = _examples({"indicators": GOALS_EXAMPLE, "effective_on": "2020-10-20"})

    indicators: list[IndicatorIn] = Field(min_length=1, max_length=500)


class GoalsReview(CommandBody):
    model_config = _examples({"rating": "优", "effective_on": "2020-11-05"},
                             {"rating": "中", "required_fixes": "产出指标不够细化", "effective_on": "2020-11-05"})

    rating: Grade = Field(description="优/良 approved, 中 returned for revision, 差 not funded this year")
    required_fixes: LongText = ""


class BudgetApproval(CommandBody):
    model_config = _examples({"amount": "4800000.00", "effective_on": "2021-01-15"})

    amount: Money


class GoalAdjustmentRequest(CommandBody):
    model_config = _examples({"indicators": GOALS_EXAMPLE, "reason": "受益学生人数因学校合并调整",
                              "effective_on": "2021-06-01"})

    indicators: list[IndicatorIn] = Field(min_length=1, max_length=500)


class Decision(CommandBody):
    model_config = _examples({"approve": True, "effective_on": "2021-06-10"},
                             {"approve": False, "reason": "调整理由不充分", "effective_on": "2021-06-10"})

    approve: bool


class MonitoringReport(CommandBody):
    model_config = _examples({"month": 7, "executed": "2100000.00", "indicator_progress": {"I1": 60, "I2": 55},
                              "forecast": {"I1": 100}, "shortfall_reasons": "", "measures": "",
                              "effective_on": "2021-08-10"})

    month: Month = Field(description="The report covers January through this month")
    executed: Money = Field(description="Cumulative amount executed")
    indicator_progress: dict[str, Decimal] = Field(default_factory=dict, description="Indicator key → % complete")
    forecast: dict[str, Decimal] = Field(default_factory=dict, description="Indicator key → % expected at year end")
    shortfall_reasons: LongText = ""
    measures: LongText = ""


class MonitoringReview(CommandBody):
    model_config = _examples({"opinion": "执行进度正常", "effective_on": "2021-08-20"})

    opinion: LongText


class CorrectiveAction(CommandBody):
    model_config = _examples({"decision": "reduce_budget", "amount": "1000000.00", "deviation_month": 6,
                              "reason": "执行进度严重滞后，调减预算", "effective_on": "2021-07-20"})

    decision: str = Field(description="continue, reallocate, suspend_funding, cancel or reduce_budget",
                          examples=["continue"])
    amount: Money | None = Field(default=None, description="Only for reduce_budget")
    deviation_month: Month | None = Field(default=None, description="The deviation this answers")


class SelfEvaluation(CommandBody):
    model_config = _examples({"actuals": {"I1": 5120, "I2": 200, "I3": 93.5, "I4": 92}, "executed": "4750000.00",
                              "effective_on": "2022-03-15"})

    actuals: dict[str, Decimal | Qualitative] = Field(description="Indicator key → actual value (or 好/较好/一般/较差)")
    executed: Money


class SampleDraw(CommandBody):
    model_config = _examples({"fiscal_year": 2021, "seed": "2022-04-01 市财政局抽签", "effective_on": "2022-04-01"})

    fiscal_year: Year
    seed: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="Recorded with the draw so anyone can redo it; default: random")
    size: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="At least the ruleset's rate (rounded up); default: exactly that")


class Scores(CommandBody):
    model_config = _examples({"scores": {"decision": 13, "process": 16, "output": 25, "effect": 22},
                              "effective_on": "2022-05-20"})

    scores: dict[str, Points] = Field(
        description="decision 决策, process 过程, output 产出, effect 效益 (ruleset weights)")


class KeyEvaluationCommission(CommandBody):
    model_config = _examples({"agency": "某咨询评估有限公司", "effective_on": "2022-04-10"})

    agency: ShortText | None = Field(default=None, description="The agency's name; none: finance evaluates itself")


class Review(CommandBody):
    model_config = _examples({"approved": True, "effective_on": "2022-04-20"})

    approved: bool


class SupervisionNote(CommandBody):
    model_config = _examples({"notes": "现场督导：访谈受益学校三所", "effective_on": "2022-05-05"})

    notes: LongText


class ResultApplication(CommandBody):
    model_config = _examples({"effective_on": "2022-06-30"}, {"decision": "reduce", "reason": "评价为中",
                                                              "effective_on": "2022-06-30"})

    decision: str | None = Field(default=None, description="prioritise, maintain, reduce or cancel; default: "
                                 "from the grade (优 prioritise, 良 maintain, 中 reduce, 差 cancel)")


class RectificationRequirement(CommandBody):
    model_config = _examples({"issues": ["供餐记录不完整"], "source": "re_evaluation", "deadline": "2022-09-30",
                              "effective_on": "2022-06-30"})

    issues: list[LongText] = Field(min_length=1, max_length=100)
    source: str = Field(description="monitoring, self_evaluation, re_evaluation, key_evaluation or audit",
                        examples=["re_evaluation"])
    deadline: date


class RectificationReport(CommandBody):
    model_config = _examples({"measures": "补齐供餐台账", "evidence": [EVIDENCE_EXAMPLE],
                              "effective_on": "2022-09-01"})

    measures: LongText


class RectificationDecision(CommandBody):
    model_config = _examples({"accept": True, "effective_on": "2022-09-15"})

    accept: bool


class DisclosureCommand(CommandBody):
    model_config = _examples({"what": "goals", "effective_on": "2021-01-20"})

    what: str = Field(description="goals (with the budget draft) or results (with the final accounts)",
                      examples=["goals"])


class Closure(CommandBody):
    model_config = _examples({"effective_on": "2022-09-30"})


# ------------------------------------------------------------------------------ departments and agencies


class DepartmentCreate(CommandBody):
    model_config = _examples({"name": "教育局", "effective_on": "2020-08-01"})

    name: ShortText = Field(description="Stored exactly as given (NFC)")


class OverallGoals(CommandBody):
    model_config = _examples({"fiscal_year": 2021, "goals": ["义务教育巩固率达到99%"], "effective_on": "2020-10-15"})

    fiscal_year: Year
    goals: list[LongText] = Field(min_length=1, max_length=100)


class DepartmentAssessment(CommandBody):
    model_config = _examples({"fiscal_year": 2021, "scores": {
        "running_cost": 88, "management_efficiency": 90, "duty_performance": 92, "social_effect": 91,
        "sustainability": 85, "satisfaction": 93}, "effective_on": "2022-04-30"})

    fiscal_year: Year
    scores: dict[str, Points] = Field(description="running_cost, management_efficiency, duty_performance, "
                                      "social_effect, sustainability, satisfaction")


class AgencyCreate(CommandBody):
    model_config = _examples({"name": "某咨询评估有限公司", "credentials": "工程咨询甲级资信", "affiliation": None,
                              "effective_on": "2021-03-01"})

    name: ShortText
    credentials: LongText
    affiliation: ShortText | None = Field(default=None, description="A department it belongs to, if any (回避)")


class QualityReview(CommandBody):
    model_config = _examples({"engagement": "KE-2021-JY-01-1", "rating": "良", "notes": "报告规范",
                              "effective_on": "2022-06-01"})

    engagement: ShortText
    rating: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    notes: LongText = ""


class MisconductRecord(CommandBody):
    model_config = _examples({"kind": "falsification", "description": "伪造现场核查记录",
                              "evidence": [EVIDENCE_EXAMPLE],
                              "effective_on": "2022-03-15"})

    kind: str = Field(description="falsification 弄虚作假, untrue_results 评价结果不实, other",
                      examples=["falsification"])
    description: LongText


class Blacklisting(CommandBody):
    model_config = _examples({"misconduct_nos": [1], "public": True, "reason": "弄虚作假，列入失信黑名单",
                              "effective_on": "2022-03-18"})

    misconduct_nos: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=100,
                                                              description="Default: every recorded misconduct")
    public: bool = True


class BlacklistLift(CommandBody):
    model_config = _examples({"reason": "申诉成立", "effective_on": "2023-01-10"})


# ------------------------------------------------------------------------------------- catalogue and rules


class IndicatorDefinition(Strict):
    name: ShortText
    level1: Level1
    level2: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    operator: Operator
    standard: Annotated[str, StringConstraints(max_length=400)] = ""
    unit: Annotated[str, StringConstraints(max_length=32)] = ""
    industry: Annotated[str, StringConstraints(max_length=64)] = ""


class IndicatorCreate(CommandBody):
    model_config = _examples({"code": "EDU-001", "definition": {
        "name": "受益学生人数", "level1": "output", "level2": "quantity", "operator": ">=", "standard": "按学籍统计",
        "unit": "人", "industry": "教育"}, "effective_on": "2020-07-01"})

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    definition: IndicatorDefinition


class IndicatorRevision(CommandBody):
    model_config = _examples({"definition": {
        "name": "受益学生人数", "level1": "output", "level2": "quantity", "operator": ">=",
        "standard": "按学籍和在校统计",
        "unit": "人", "industry": "教育"}, "reason": "口径调整", "effective_on": "2021-07-01"})

    definition: IndicatorDefinition


class IndicatorRetirement(CommandBody):
    model_config = _examples({"reason": "被新指标取代", "effective_on": "2022-01-01"})


class RulesetAdoption(CommandBody):
    model_config = _examples({"version": 2, "parameters": {"re_evaluation_rate": "0.15"},
                              "reason": "提高再评价抽查比例", "effective_on": "2022-01-01"})

    version: Annotated[int, Field(ge=2)]
    parameters: dict[str, Any] = Field(description="Changes from the defaults (ruleset version 1); unknown names "
                                       "are refused")


# ------------------------------------------------------------------------------------------------ results


class WrittenEventOut(BaseModel):
    position: int = Field(description="The event's leaf index in the log")
    aggregate_id: UUID
    version: int
    type: str = Field(examples=["Project.BudgetApproved"])
    references: dict[str, Any] = Field(default_factory=dict, description="Numbers or ids the event created")


class CommandResult(BaseModel):
    """What a command recorded. Wait for ``position`` (``min_position``) to read your own write."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d", "version": 6, "position": 41, "positions": [41],
        "events": [{"position": 41, "aggregate_id": "8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d", "version": 6,
                    "type": "Project.BudgetApproved", "references": {}}], "replayed": False}]})

    id: UUID
    version: int
    position: int
    positions: list[int]
    events: list[WrittenEventOut]
    replayed: bool = Field(description="True when an earlier request with this Idempotency-Key recorded it")


class ProjectStatusOut(BaseModel):
    """One project as the read model holds it (项目状态)."""

    project_id: UUID
    code: str
    name: str
    kind: str
    department: str
    fiscal_year: int
    budget_book: str
    special_category: str | None
    new_major: bool
    stage: str
    requested: Decimal
    approved: Decimal | None
    executed: Decimal
    execution_rate: Decimal | None = Field(description="executed ÷ approved, in %")
    latest_month: int | None
    latest_deviation: str | None = Field(description="yellow or red")
    funding_suspended: bool
    self_score: Decimal | None
    self_grade: str | None
    re_score: Decimal | None
    re_grade: str | None
    inflated: bool = Field(
        description="自评虚高: the self-evaluation was more than the threshold above a re-evaluation")
    key_score: Decimal | None
    key_grade: str | None
    grade: str | None = Field(description="The grade results are applied on: key over re- over self-evaluation")
    result_decision: str | None
    open_rectifications: int
    overdue_rectifications: int
    overdue: dict[str, date] = Field(description="Obligations missed and not yet met, \"kind:ref\" → due date "
                                     "(kind: goal_submission, monitoring_report, self_evaluation, "
                                     "deviation_answer, rectification)")
    overdue_deadlines: int
    goals_disclosed: bool
    results_disclosed: bool
    last_changed_at: datetime
    version: int
    position: int = Field(description="The log position of the project's latest event")


class ProjectDisclosedOut(BaseModel):
    """What the public may see of a project: only what was disclosed (信息公开)."""

    project_id: UUID
    code: str
    name: str
    department: str
    fiscal_year: int
    budget_book: str
    approved: Decimal | None = Field(description="With the goals (budget draft)")
    goals_disclosed: bool
    results_disclosed: bool
    grade: str | None = Field(description="With the results (final accounts)")
    self_score: Decimal | None
    result_decision: str | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")
    position: int = Field(description="The log position the read models reflect")


class TrailEntry(BaseModel):
    """Who did what, when, under which role (问责记录)."""

    leaf_index: int
    recorded_at: datetime
    effective_on: date | None
    principal_id: str
    principal_role: str
    organisation: str
    object_type: str
    object_id: UUID
    object_version: int
    event_type: str
    event_type_zh: str
    reason: str
    evidence: list[str]


class BlacklistEntry(BaseModel):
    agency_id: UUID
    blacklisting_no: int
    agency_name: str
    misconduct: list[dict[str, Any]] = Field(description="The misconduct records cited")
    start_on: date
    until: date
    ended_on: date | None
    ended_how: str | None = Field(description="lifted (on appeal) or expired")
    public: bool
    current: bool = Field(description="In force on the day asked")
    reason: str


class RankingRow(BaseModel):
    department: str
    fiscal_year: int
    assessment_total: Decimal | None
    rank: int | None
    ranked: int
    average_grade_points: Decimal | None = Field(description="优 4, 良 3, 中 2, 差 1")
    approved_projects: int
    self_evaluated: int
    self_evaluation_coverage: Decimal | None
    standing: str | None = Field(description="commended (表彰) or interview (约谈)")


class CoverageRow(BaseModel):
    fiscal_year: int
    departments: int
    departments_with_goals: int
    goals_coverage: Decimal | None
    goals_coverage_target: Decimal
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


class DeadlineRow(BaseModel):
    project_id: UUID
    kind: str = Field(description="goal_submission, monitoring_report, self_evaluation, rectification, "
                      "deviation_answer")
    ref: int = Field(description="The rectification number or deviation month; 0 otherwise")
    project_code: str
    department: str
    fiscal_year: int
    due_on: date
    status: str = Field(description="open, met or void (no longer owed)")
    settled_on: date | None
    approaching_on: date | None = Field(description="When the scheduler gave the approaching notice, if it has")
    missed_on: date | None = Field(description="When the scheduler recorded it missed, if it has")
    approaching: bool = Field(description="Open and due within the ruleset's warning days of the day asked")
    missed: bool = Field(description="Open and past due on the day asked")


class Directory(BaseModel):
    id: UUID
    name: str


class HistoryEntryOut(BaseModel):
    leaf_index: int
    version: int
    event_type: str
    leaf_hash: str
    chain_hash: str
    recorded_at: datetime
    effective_on: date | None
    principal: dict[str, str]
    reason: str
    evidence: list[str]
    payload: dict[str, Any]


class StateOut(BaseModel):
    """An object as recorded at a version or instant (transaction time)."""

    id: UUID
    type: str
    version: int
    as_of: datetime | None
    state: dict[str, Any]


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str = Field(description="base64")
    signed_at: datetime
    note: str = Field(description="The C2SP signed note, verifiable with the verifier key, with every witness's "
                      "cosignature (c2sp.org/tlog-cosignature) appended")
    witnesses: list[str] = Field(default_factory=list, description="Witnesses whose cosignature is stored for it "
                                 "(check them with their verifier keys; a stored line proves nothing until then)")


class KeyOut(BaseModel):
    verifier_key: str = Field(description="golang.org/x/mod/sumdb/note verifier key: name+id+base64(0x01‖key)")
    origin: str


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="hex")
    proof: list[str] = Field(description="hex, RFC 9162 §2.1.3.1 order")
    root_hash: str = Field(description="hex, the root at tree_size")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str


class TokenCreate(Strict):
    model_config = _examples({"name": "edu-zhang", "role": "department", "organisation": "教育局"})

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The principal's id, recorded on every event it causes")
    role: Role
    organisation: Annotated[str, StringConstraints(max_length=200)] = ""


class TokenOut(BaseModel):
    token_id: str
    name: str
    role: str
    organisation: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    refused: str | None = Field(default=None, description="Why the service does not honour this record (unsigned "
                                "from an earlier version, a signature that does not verify, a principal id held "
                                "by another role or organisation too); null when it does")


class TokenIssued(TokenOut):
    token: str = Field(description="Shown once; only its SHA-256 is stored")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    log_size: int
    projections_position: int
    lag_seconds: float = Field(description="How long ago the oldest event the read models have not applied was "
                               "recorded (0: they have applied the whole log)")
    roles: dict[str, str] = Field(default_factory=dict, description="Each long-running role this process runs "
                                  "(read-models, scheduler, …) and its state: up")


class ProblemType(BaseModel):
    type: str
    code: str
    status: int
    title: str
    title_zh: str


class EventOut(BaseModel):
    """One event of the feed, with what a subscriber needs to verify it (its position and leaf hash)."""

    position: int = Field(description="Its leaf index: dense, from 0, in commit order")
    type: str = Field(examples=["Project.BudgetApproved"])
    aggregate_id: UUID
    version: int
    recorded_at: datetime
    effective_on: date | None
    principal: dict[str, str | None] = Field(description="id, role and organisation; for the public and agencies "
                                             "the id (a member of staff) is null")
    payload: dict[str, Any] = Field(description=(
        "The event exactly as stored (the JSON its leaf hash commits to): its fields with principal, effective_on, "
        "reason and evidence; exact values typed as {\"_type_\": \"decimal_str\", \"_data_\": \"4800000.00\"} "
        "(also date_iso, datetime_iso, uuid_hex, principal, indicator) — ledger.transcodings.untyped() reads them. "
        "For the public and agencies: the same without the principal's id"))
    leaf_hash: str = Field(description="hex SHA-256(0x00 ‖ canonical bytes); prove it with /log/proofs/inclusion")
    topic: str | None = Field(default=None, description="With with_state: the stored topic")
    state: str | None = Field(default=None, description="With with_state: the stored bytes, base64")


class EventPageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"events": [], "next": 516, "head": 517}]})

    events: list[EventOut]
    next: int = Field(description="Pass as ?after= for what follows (-1: nothing yet); persist it as your cursor")
    head: int = Field(description="Events in the log when this page was read")


class SubscriptionCreate(Strict):
    model_config = _examples({"url": "https://budget.example.gov.cn/hooks/jixiao",
                              "topics": ["Project.BudgetApproved", "Project.ResultsApplied"],
                              "secret": "a-long-random-shared-secret"})

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    topics: list[Annotated[str, StringConstraints(min_length=3, max_length=100)]] = Field(
        default_factory=list, max_length=100, description="Event types or Aggregate.*; empty: every event you may see")
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = Field(
        default=None, description="For the HMAC-SHA256 signature; default: generated and returned once")
    after: Annotated[int, Field(ge=-1)] | None = Field(
        default=None, description="Start after this position (-1: the whole log); default: from now on")


class SubscriptionOut(BaseModel):
    id: UUID
    url: str
    topics: list[str]
    principal: dict[str, str]
    status: str = Field(description="active, dead (dead-lettered: re-enable it once the receiver is fixed) or "
                        "disabled")
    position: int = Field(description="The last position delivered (or skipped as not subscribed)")
    attempts: int = Field(description="Failed attempts at the next event")
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once: verify X-Jixiao-Signature with it")


class DeliveryOut(BaseModel):
    id: int
    position: int
    attempt: int
    delivery_id: UUID
    status_code: int | None
    error: str | None
    duration_ms: Decimal
    delivered_at: datetime
