"""Domain errors, each with a stable code.

The code is the contract: the API turns it into an RFC 9457 problem ``type``,
the command line prints it, and clients branch on it. Titles are given in
English and Chinese because the people who read them work in both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """How a refusal should be understood by an edge (HTTP status, exit code)."""

    INVALID = "invalid"  # the input itself is malformed or out of range
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"  # this principal may not do this
    RULE = "rule"  # well-formed, allowed, but the rules of the cycle refuse it
    CONFLICT = "conflict"  # lost a race or stale version


# code -> (kind, English title, Chinese title)
CATALOGUE: dict[str, tuple[ErrorKind, str, str]] = {
    "invalid-value": (ErrorKind.INVALID, "Invalid value", "数值无效"),
    "invalid-money": (ErrorKind.INVALID, "Invalid amount of money", "金额无效"),
    "invalid-score": (ErrorKind.INVALID, "Score out of range", "分值超出范围"),
    "invalid-weights": (ErrorKind.INVALID, "Indicator weights do not sum as required", "指标权重不符合要求"),
    "invalid-indicator": (ErrorKind.INVALID, "Invalid performance indicator", "绩效指标无效"),
    "invalid-date": (ErrorKind.INVALID, "Date outside the allowed range", "日期超出允许范围"),
    "effective-date-in-future": (
        ErrorKind.INVALID,
        "The business date is after today: the ledger records no future",
        "业务日期晚于今日，账本不记录未来事项",
    ),
    "effective-date-too-early": (
        ErrorKind.INVALID,
        "The business date is before what it concerns existed",
        "业务日期早于所涉对象存在之日",
    ),
    "invalid-evidence": (ErrorKind.INVALID, "Evidence must be SHA-256 hex digests", "佐证材料须为SHA-256摘要"),
    "text-too-long": (ErrorKind.INVALID, "Text too long", "文本过长"),
    "reason-required": (ErrorKind.INVALID, "A reason is required", "须说明理由"),
    "project-not-found": (ErrorKind.NOT_FOUND, "Project not found", "项目不存在"),
    "object-not-found": (ErrorKind.NOT_FOUND, "Nothing is recorded under this id", "该编号下无任何记录"),
    "not-yet-existing": (ErrorKind.NOT_FOUND, "The object did not exist yet at that moment", "该时点对象尚不存在"),
    "department-not-found": (ErrorKind.NOT_FOUND, "Department not found", "部门不存在"),
    "agency-not-found": (ErrorKind.NOT_FOUND, "Agency not found", "第三方机构不存在"),
    "indicator-not-found": (ErrorKind.NOT_FOUND, "Indicator not found", "指标不存在"),
    "ruleset-not-found": (ErrorKind.NOT_FOUND, "Ruleset not found", "规则集不存在"),
    "sample-not-found": (ErrorKind.NOT_FOUND, "Re-evaluation sample not found", "再评价抽样不存在"),
    "evaluation-not-found": (ErrorKind.NOT_FOUND, "Key evaluation not found", "重点评价不存在"),
    "adjustment-not-found": (ErrorKind.NOT_FOUND, "Goal adjustment not found", "目标调整申请不存在"),
    "rectification-not-found": (ErrorKind.NOT_FOUND, "Rectification not found", "整改事项不存在"),
    "role-not-allowed": (ErrorKind.FORBIDDEN, "This role may not do this", "该角色无此权限"),
    "not-own-department": (ErrorKind.FORBIDDEN, "A department acts only on its own projects", "部门只能办理本部门项目"),
    "not-commissioned": (
        ErrorKind.FORBIDDEN,
        "The agency was not commissioned for this evaluation",
        "该机构未受托承担此项评价",
    ),
    "wrong-stage": (ErrorKind.RULE, "Not allowed at the project's current stage", "项目当前阶段不允许此操作"),
    "ex-ante-required": (ErrorKind.RULE, "Ex-ante assessment required first", "须先开展事前绩效评估"),
    "ex-ante-not-required": (ErrorKind.RULE, "Ex-ante assessment does not apply", "该项目无需事前绩效评估"),
    "goals-not-approved": (ErrorKind.RULE, "No approved goals, no budget", "未审核通过绩效目标不得批复预算"),
    "goals-rejected": (ErrorKind.RULE, "Goals rated 差: may not be funded this year", "绩效目标评为差，本年度不予安排"),
    "budget-not-approved": (ErrorKind.RULE, "The budget has not been approved", "预算尚未批复"),
    "amount-exceeds-budget": (ErrorKind.RULE, "Amount exceeds the approved budget", "金额超出批复预算"),
    "monitoring-period-invalid": (ErrorKind.RULE, "Monitoring period must advance", "监控期间须递进"),
    "adjustment-pending": (ErrorKind.RULE, "A goal adjustment is already pending", "已有待审核的目标调整申请"),
    "already-decided": (ErrorKind.RULE, "Already decided", "已作出决定"),
    "self-evaluation-missing": (ErrorKind.RULE, "Self-evaluation required first", "须先完成单位自评"),
    "not-selected": (ErrorKind.RULE, "Project was not selected for re-evaluation", "项目未被抽中再评价"),
    "plan-not-reviewed": (ErrorKind.RULE, "The evaluation plan has not been reviewed", "评价方案尚未审核"),
    "report-not-reviewed": (
        ErrorKind.RULE,
        "Score accepted only after the report review",
        "评价报告审核通过后方可确认评分",
    ),
    "agency-blacklisted": (ErrorKind.RULE, "Agency is blacklisted", "该机构已列入失信黑名单"),
    "conflict-of-interest": (ErrorKind.RULE, "Conflict of interest (回避)", "存在利害关系，应当回避"),
    "no-misconduct-recorded": (ErrorKind.RULE, "Blacklisting requires recorded misconduct", "列入黑名单须有失信记录"),
    "not-blacklisted": (ErrorKind.RULE, "Agency is not blacklisted", "该机构未列入黑名单"),
    "already-exists": (ErrorKind.CONFLICT, "Already exists", "已存在"),
    "principal-conflict": (
        ErrorKind.CONFLICT,
        "The principal id is held by another role or organisation",
        "主体编号已被其他角色或单位使用",
    ),
    "sample-too-small": (ErrorKind.RULE, "Sample below the re-evaluation rate", "抽样比例低于规定"),
    "no-results": (ErrorKind.RULE, "No evaluation result to apply", "尚无可应用的评价结果"),
    "project-closed": (ErrorKind.RULE, "Project is closed", "项目已关闭"),
    "evaluations-open": (ErrorKind.RULE, "Key evaluations not finished", "重点评价尚未完成"),
    "indicator-retired": (ErrorKind.RULE, "Indicator is retired", "指标已停用"),
    "open-rectifications": (ErrorKind.RULE, "Rectifications still open", "尚有未完成的整改事项"),
    "ruleset-version": (ErrorKind.RULE, "Ruleset versions must increase", "规则集版本须递增"),
    "invalid-rule-parameter": (
        ErrorKind.INVALID,
        "A rule parameter is malformed or out of its range (field names it)",
        "规则参数格式有误或超出允许范围（field 为参数名）",
    ),
    "re-evaluation-rate-below-minimum": (
        ErrorKind.INVALID,
        "The re-evaluation rate may not be below 10% (the plan: 不低于10%)",
        "再评价抽查比例不得低于10%",
    ),
    "stale-version": (ErrorKind.CONFLICT, "The expected version is not the current one", "版本号不是最新"),
    "idempotency-key-reused": (
        ErrorKind.INVALID,
        "The idempotency key was used for a different request",
        "幂等键已用于其他请求",
    ),
    "version-conflict": (
        ErrorKind.CONFLICT,
        "The object changed meanwhile; reload and retry",
        "数据已被他人修改，请刷新后重试",
    ),
}


class DomainError(Exception):
    """A refusal by the ledger. Nothing was recorded."""

    code: ClassVar[str] = "invalid-value"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            if code not in CATALOGUE:
                raise KeyError(f"unknown error code {code!r}")
            self.code = code  # type: ignore[misc]
        self.detail = detail
        self.field = field

    @property
    def kind(self) -> ErrorKind:
        return CATALOGUE[self.code][0]

    @property
    def title(self) -> str:
        return CATALOGUE[self.code][1]

    @property
    def title_zh(self) -> str:
        return CATALOGUE[self.code][2]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r}, field={self.field!r})"


class InvalidInput(DomainError):
    code = "invalid-value"


class NotFound(DomainError):
    code = "project-not-found"


class Forbidden(DomainError):
    code = "role-not-allowed"


class RuleViolation(DomainError):
    code = "wrong-stage"


class VersionConflict(DomainError):
    code = "version-conflict"
