"""The project's stages (阶段) and the choices its commands take: values, no behaviour.

Stored as their plain string values in the project's events and state, so a replay rebuilds the same project.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    DECLARED = "declared"  # 申报
    REJECTED = "rejected"  # 事前评估不予支持 (terminal for the year)
    ADMITTED = "admitted"  # 入库
    GOALS_SUBMITTED = "goals_submitted"  # 绩效目标申报
    GOALS_RETURNED = "goals_returned"  # 目标审核为中，退回修改
    GOALS_APPROVED = "goals_approved"  # 目标审核为优/良
    GOALS_REFUSED = "goals_refused"  # 目标审核为差，本年度不予安排
    BUDGET_APPROVED = "budget_approved"  # 预算与绩效目标同步批复; implementation
    CANCELLED = "cancelled"  # 取消 (corrective action)
    SELF_EVALUATED = "self_evaluated"  # 单位自评
    RESULTS_APPLIED = "results_applied"  # 结果应用
    CLOSED = "closed"


IMPLEMENTING = frozenset({Stage.BUDGET_APPROVED})
EVALUATED = frozenset({Stage.SELF_EVALUATED, Stage.RESULTS_APPLIED})
TERMINAL = frozenset({Stage.REJECTED, Stage.GOALS_REFUSED, Stage.CLOSED})


class CorrectiveDecision(StrEnum):
    CONTINUE = "continue"  # 继续执行
    REALLOCATE = "reallocate"  # 调剂
    SUSPEND_FUNDING = "suspend_funding"  # 暂缓拨款
    CANCEL = "cancel"  # 取消
    REDUCE_BUDGET = "reduce_budget"  # 调减/收回


class RectificationSource(StrEnum):
    MONITORING = "monitoring"
    SELF_EVALUATION = "self_evaluation"
    RE_EVALUATION = "re_evaluation"
    KEY_EVALUATION = "key_evaluation"
    AUDIT = "audit"
    SPOT_CHECK = "spot_check"  # 不定期核查


class SpotCheckSubject(StrEnum):
    """What finance's spot check (不定期核查) examines: a department's monitoring report or its self-evaluation."""

    MONITORING = "monitoring"  # 绩效运行监控报告
    SELF_EVALUATION = "self_evaluation"  # 单位自评


class EscalationDecision(StrEnum):
    """Finance's decision on a rectification escalated as overdue (整改逾期升级)."""

    REDUCE = "reduce"  # 调减: the approved budget is reduced, never below what is executed
    RECOVER = "recover"  # 收回: funds are taken back, spent or not (what was spent of them is paid back)


class Disclosure(StrEnum):
    GOALS = "goals"  # 随预算草案公开
    RESULTS = "results"  # 随决算公开
