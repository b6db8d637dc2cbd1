"""``accountability_trail``: who did what, when, under which role — one row per event.

Queryable by principal, organisation, object and time range (indexed), keyset-paginated on the leaf index. A page
of events is one INSERT … SELECT from the log's own rows: nothing is decoded in Python, so this read model's fold
is that statement (:data:`INSERT`), tested against PostgreSQL (``tests/projections/test_runner.py``); what Python
holds of it, the names of the events, is tested without (``tests/projections/test_trail.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.values import KEY_SQL, key
from ledger.store.tables import EVENTS
from projections.base import Conn, LogEvent, ReadModel, Row, composed, select_rows

EVENT_NAMES_ZH: dict[str, str] = {
    "Project.Declared": "项目申报",
    "Project.ExAnteAssessed": "事前绩效评估（财政部门开展）",
    "Project.ExAnteAgencyCommissioned": "委托第三方机构开展事前绩效评估",
    "Project.ExAnteFiled": "报送事前绩效评估报告",
    "Project.ExAnteReviewed": "事前绩效评估报告审核",
    "Project.Admitted": "纳入项目库",
    "Project.GoalsSubmitted": "绩效目标申报",
    "Project.GoalsReviewed": "绩效目标审核",
    "Project.BudgetApproved": "预算与绩效目标批复",
    "Project.GoalAdjustmentRequested": "绩效目标调整申请",
    "Project.GoalAdjustmentApproved": "绩效目标调整批准",
    "Project.GoalAdjustmentRejected": "绩效目标调整驳回",
    "Project.MonitoringReported": "绩效运行监控报告",
    "Project.MonitoringReviewed": "绩效运行监控审核",
    "Project.DeviationDetected": "发现绩效偏差",
    "Project.CorrectiveActionOrdered": "纠偏措施",
    "Project.FundingSuspended": "暂缓拨款",
    "Project.SelfEvaluated": "单位自评",
    "Project.SelectedForReEvaluation": "抽中财政再评价",
    "Project.ReEvaluated": "财政再评价",
    "Project.KeyEvaluationCommissioned": "委托重点评价",
    "Project.ReEvaluationCommissioned": "委托第三方机构财政再评价",
    "Project.KeyEvaluationPlanReviewed": "评价方案审核",
    "Project.KeyEvaluationReportReviewed": "评价报告审核",
    "Project.KeyEvaluationSupervisionNoted": "评价督导",
    "Project.KeyEvaluationPlanSubmitted": "第三方机构提交评价方案",
    "Project.KeyEvaluationReportSubmitted": "第三方机构提交评价报告",
    "Project.KeyEvaluationSupervised": "财政督导（督导意见）",
    "Project.KeyEvaluationSupervisionAnswered": "第三方机构回复督导意见",
    "Project.KeyEvaluationScored": "重点评价评分",
    "Project.KeyEvaluationVoided": "重点评价作废（机构列入失信黑名单）",
    "Project.ResultsApplied": "评价结果应用",
    "Project.PolicyAdjustmentDecided": "政策调整决定",
    "Project.RectificationRequired": "责令整改",
    "Project.RectificationReported": "整改情况报告",
    "Project.RectificationAccepted": "整改验收通过",
    "Project.RectificationRejected": "整改验收不通过",
    "Project.RectificationOverdue": "整改逾期",
    "Project.SpotChecked": "不定期核查",
    "Project.RectificationEscalated": "整改逾期升级",
    "Project.EscalationDecided": "整改逾期调减或收回资金",
    "Project.Disclosed": "信息公开",
    "Project.Closed": "项目关闭",
    "Project.DeadlineApproaching": "临期提醒",
    "Project.DeadlineMissed": "逾期未完成",
    "Department.Registered": "部门登记",
    "Department.OverallGoalsSet": "部门整体绩效目标",
    "Department.ComprehensivelyAssessed": "部门综合绩效考评",
    "Unit.Registered": "预算单位登记",
    "CongressSubmission.Submitted": "绩效目标随预算草案（评价结果随决算草案）报送人大",
    "DisclosureDuty.Opened": "信息公开（报送人大）义务产生",
    "DisclosureDuty.Disclosed": "整体绩效信息公开",
    "DisclosureDuty.Fulfilled": "报送人大义务履行",
    "DisclosureDuty.DeadlineApproaching": "信息公开（报送人大）临期提醒",
    "DisclosureDuty.DeadlineMissed": "信息公开（报送人大）逾期",
    "Decision.Recorded": "通报、表彰或约谈",
    "Decision.RectificationReported": "约谈（通报批评）整改情况报告",
    "Decision.RectificationAccepted": "约谈（通报批评）整改验收通过",
    "Decision.RectificationRejected": "约谈（通报批评）整改验收不通过",
    "Decision.DeadlineApproaching": "整改报告临期提醒",
    "Decision.DeadlineMissed": "整改报告逾期",
    "AuditFinding.Recorded": "审计发现",
    "AuditFinding.Responded": "审计发现回复",
    "AuditFinding.DeadlineApproaching": "审计发现回复临期提醒",
    "AuditFinding.DeadlineMissed": "审计发现回复逾期",
    "OverallGoals.Submitted": "整体绩效目标申报",
    "OverallGoals.Resubmitted": "整体绩效目标重新申报",
    "OverallGoals.Reviewed": "整体绩效目标审核",
    "OverallGoals.AdjustmentRequested": "整体绩效目标调整申请",
    "OverallGoals.AdjustmentApproved": "整体绩效目标调整批准",
    "OverallGoals.AdjustmentRejected": "整体绩效目标调整驳回",
    "OverallGoals.SelfEvaluated": "整体绩效自评",
    "OverallGoals.EvaluationCommissioned": "委托整体绩效评价",
    "OverallGoals.EvaluationPlanReviewed": "整体绩效评价方案审核",
    "OverallGoals.EvaluationReportReviewed": "整体绩效评价报告审核",
    "OverallGoals.EvaluationSupervisionNoted": "整体绩效评价督导",
    "OverallGoals.EvaluationPlanSubmitted": "第三方机构提交整体绩效评价方案",
    "OverallGoals.EvaluationReportSubmitted": "第三方机构提交整体绩效评价报告",
    "OverallGoals.EvaluationSupervised": "整体绩效评价财政督导（督导意见）",
    "OverallGoals.EvaluationSupervisionAnswered": "第三方机构回复整体绩效评价督导意见",
    "OverallGoals.EvaluationVoided": "整体绩效评价作废（机构列入失信黑名单）",
    "OverallGoals.EvaluationScored": "整体绩效评价评分",
    "OverallGoals.ResultsApplied": "整体绩效评价结果应用",
    "OverallGoals.ControlFigureAdjusted": "下年度预算控制数调整",
    "OverallGoals.DeadlineApproaching": "整体绩效评价临期提醒",  # the self-evaluation or a step of 两审一督导
    "OverallGoals.DeadlineMissed": "整体绩效评价逾期",
    "Agency.Registered": "第三方机构登记",
    "Agency.QualityReviewed": "第三方机构质量评价",
    "Agency.CreditCodeRecorded": "补录统一社会信用代码",
    "CreditCodeIndex.Claimed": "统一社会信用代码登记（唯一）",
    "Agency.QualificationChanged": "第三方机构资格变更",
    "Agency.QualityAssessed": "第三方机构工作质量考核",
    "Agency.Barred": "第三方机构暂停承接业务（质量考核预警）",
    "Agency.MisconductRecorded": "记录失信行为",
    "Agency.Blacklisted": "列入失信黑名单",
    "Agency.BlacklistLifted": "移出失信黑名单（申诉）",
    "Agency.BlacklistExpired": "失信黑名单期满",
    "IndicatorLibrary.Opened": "指标库建立",
    "IndicatorLibrary.IndicatorDefined": "新增指标",
    "IndicatorLibrary.IndicatorRevised": "修订指标",
    "IndicatorLibrary.IndicatorRetired": "停用指标",
    "Ruleset.Established": "规则集第1版",
    "Ruleset.Adopted": "采用新规则集",
    "ReEvaluationSample.Drawn": "财政再评价抽样",
    "ReEvaluationSample.Announced": "财政再评价抽查公告（提交承诺值）",
    "ReEvaluationSample.Reannounced": "财政再评价抽查重新公告",
    "ReEvaluationSample.Contributed": "审计提交抽查随机数",
    "ReEvaluationSample.Revealed": "财政再评价抽查揭示",
    "ReEvaluationSample.RevealApproaching": "抽查揭示临期提醒",
    "ReEvaluationSample.Failed": "抽查逾期未揭示（抽签失败）",
    "KeyRotation.Recorded": "日志签名密钥轮换",
    "WorkingCalendar.Established": "工作日历建立",
    "WorkingCalendar.YearsAdded": "工作日历新增年度",
    "WorkingCalendar.YearAmended": "修订工作日历",
}

DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    leaf_index bigint PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    effective_on date,
    principal_id text NOT NULL,
    principal_key text NOT NULL,
    principal_role text NOT NULL,
    organisation text NOT NULL,
    organisation_key text NOT NULL,
    object_type text NOT NULL,
    object_id uuid NOT NULL,
    object_version integer NOT NULL,
    event_type text NOT NULL,
    event_type_zh text NOT NULL,
    reason text NOT NULL,
    evidence text[] NOT NULL
);
CREATE INDEX IF NOT EXISTS {principal_idx} ON {table} (principal_key, leaf_index);
CREATE INDEX IF NOT EXISTS {organisation_idx} ON {table} (organisation_key, leaf_index);
CREATE INDEX IF NOT EXISTS {object_idx} ON {table} (object_id, leaf_index);
CREATE INDEX IF NOT EXISTS {recorded_idx} ON {table} (recorded_at);
"""


# One statement per page, from the log rows alone: the recorder copies effective_on and the principal into columns,
# and PostgreSQL reads the reason and the evidence out of the stored JSON itself (``json_to_record`` picks the two
# keys in one pass over the text). Python decodes nothing and sends nothing but the page's bounds, so the statement can
# run on the server while the runner folds the other read models. The Chinese names are a constant of the statement.
# The principal's id and organisation are kept as recorded, beside their keys (ledger.values.key, here in SQL), which
# the filters compare: any spelling of a name finds it.
INSERT = (
    """
INSERT INTO {table} (leaf_index, recorded_at, effective_on, principal_id, principal_key, principal_role, organisation,
                     organisation_key, object_type, object_id, object_version, event_type, event_type_zh, reason,
                     evidence)
SELECT e.leaf_index, e.recorded_at, e.effective_on, e.principal_id, """
    + KEY_SQL.format("e.principal_id")
    + """,
       e.principal_role, e.principal_org, """
    + KEY_SQL.format("e.principal_org")
    + """,
       split_part(t.kind, '.', 1), e.originator_id, e.originator_version, t.kind,
       coalesce({names}::jsonb ->> t.kind, t.kind), s.reason, s.evidence
FROM {events} e
CROSS JOIN LATERAL (SELECT split_part(e.topic, ':', -1) AS kind) t
CROSS JOIN LATERAL json_to_record(convert_from(e.state, 'UTF8')::json) AS s(reason text, evidence text[])
WHERE e.leaf_index BETWEEN %(first)s AND %(last)s
"""
)


class AccountabilityTrail(ReadModel):
    name = "accountability_trail"
    # 2: names of the deadline notices; 3: keys of the principal's id and organisation; 4: the overall goals' notices
    # named for the evaluation (the self-evaluation or an agency's step), not the self-evaluation alone
    version = 4
    reads_events = False  # built by PostgreSQL from the log's rows: apply_range

    def create(self, conn: Conn, table: str) -> None:
        conn.execute(
            sql.SQL(DDL).format(
                table=sql.Identifier(table),
                principal_idx=sql.Identifier(f"{table}_principal_idx"),
                organisation_idx=sql.Identifier(f"{table}_organisation_idx"),
                object_idx=sql.Identifier(f"{table}_object_idx"),
                recorded_idx=sql.Identifier(f"{table}_recorded_idx"),
            )
        )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        if events:
            self.apply_range(conn, table, events[0].leaf_index, events[-1].leaf_index)

    def apply_range(self, conn: Conn, table: str, first: int, last: int) -> None:
        query = composed(
            conn,
            ("trail.insert", table),
            lambda: sql.SQL(INSERT).format(
                table=sql.Identifier(table),
                events=sql.Identifier(EVENTS),
                names=sql.Literal(json.dumps(EVENT_NAMES_ZH, ensure_ascii=False)),
            ),
        )
        conn.execute(query, {"first": first, "last": last}, prepare=True)


# ------------------------------------------------------------------------------------------------------ queries


@dataclass(frozen=True)
class TrailFilter:
    principal: str | None = None
    organisation: str | None = None
    object_id: UUID | None = None
    event_type: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    objects: tuple[UUID, ...] | None = None  # restrict to these objects (a department sees its own)
    acting: str | None = None  # with ``objects``: and what this organisation did (an agency: its acts, its findings)


def trail(conn: Conn, where: TrailFilter, *, after: int | None, limit: int) -> list[Row]:
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, value in (
        ("principal_key", None if where.principal is None else key(where.principal)),
        ("organisation_key", None if where.organisation is None else key(where.organisation)),
        ("object_id", where.object_id),
        ("event_type", where.event_type),
    ):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if where.recorded_from is not None:
        conditions.append(sql.SQL("recorded_at >= %s"))
        params.append(where.recorded_from)
    if where.recorded_to is not None:
        conditions.append(sql.SQL("recorded_at < %s"))
        params.append(where.recorded_to)
    if where.objects is not None and where.acting is not None:
        conditions.append(sql.SQL("(object_id = ANY(%s) OR organisation_key = %s)"))
        params.extend((list(where.objects), key(where.acting)))
    elif where.objects is not None:
        conditions.append(sql.SQL("object_id = ANY(%s)"))
        params.append(list(where.objects))
    if after is not None:
        conditions.append(sql.SQL("leaf_index > %s"))
        params.append(after)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    return select_rows(
        conn,
        sql.SQL(
            "SELECT leaf_index, recorded_at, effective_on, principal_id, principal_role, organisation, object_type, "
            "object_id, object_version, event_type, event_type_zh, reason, evidence FROM {}{} "
            "ORDER BY leaf_index LIMIT %s"
        ).format(sql.Identifier(AccountabilityTrail.name), clause),
        [*params, limit],
    )
