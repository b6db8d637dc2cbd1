"""The project's deadline calendar (时限): which obligations are open, and which notices fall due on a day.

Pure functions of a project's state and the day asked about. The project records what they find — an approaching
notice (临期提醒) from the ruleset's ``deadline_warning_days`` before a due date, a missed one (逾期) after it —
once each, and remembers in its state what it raised (:func:`notice_entry`); the scheduler asks
:func:`next_notice_day` when to look at the project again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from ledger.domain import rules
from ledger.domain.project_values import IMPLEMENTING, Stage


class DeadlineKind(StrEnum):
    """The deadlines the scheduler watches (DOMAIN.md), each raising approaching and missed notices once."""

    # The yearly ones fall due on the days of the ruleset in force (defaults in brackets).
    GOAL_SUBMISSION = "goal_submission"  # 绩效目标申报, before budget preparation: ((Y−1)-10-31)
    MONITORING_REPORT = "monitoring_report"  # 1–M月绩效监控报告 (M = 7): (Y-08-15)
    SELF_EVALUATION = "self_evaluation"  # 单位自评: ((Y+1)-03-31)
    RECTIFICATION = "rectification"  # 整改: the deadline set when it was required
    DEVIATION_ANSWER = "deviation_answer"  # 偏差纠正: the working days allowed after detection
    EX_ANTE_REVIEW = "ex_ante_review"  # 事前评估报告审核 by finance: the working days allowed after filing (10)
    # 信息公开: the department publishes, within the days of the ruleset in force when the duty arose (recorded then)
    GOALS_DISCLOSURE = "goals_disclosure"  # its goals, after the budget was approved with them (20 days)
    RESULTS_DISCLOSURE = "results_disclosure"  # its results, after they were applied (20 days)
    # 两审一督导 of an agency's key evaluation (``ref``: the evaluation's number n; an answer's, n × 100 + the
    # supervision's number), each due the ruleset's days after the step that opened it, as recorded then:
    EVALUATION_PLAN = "evaluation_plan"  # the agency's plan, after the commission or a rejection (30)
    EVALUATION_PLAN_REVIEW = "evaluation_plan_review"  # finance's review of it (15)
    SUPERVISION = "supervision"  # finance's first supervision, after the plan's approval (60)
    SUPERVISION_ANSWER = "supervision_answer"  # the agency's answer to a supervision's findings (15)
    EVALUATION_REPORT = "evaluation_report"  # the agency's report, after the plan's approval or a rejection (120)
    EVALUATION_REPORT_REVIEW = "evaluation_report_review"  # finance's review of it (15)


# The 两审一督导 steps' deadline kinds, each owed on one key evaluation (a voided one owes none of them).
EVALUATION_STEPS = frozenset(
    kind.value
    for kind in (
        DeadlineKind.EVALUATION_PLAN,
        DeadlineKind.EVALUATION_PLAN_REVIEW,
        DeadlineKind.SUPERVISION,
        DeadlineKind.SUPERVISION_ANSWER,
        DeadlineKind.EVALUATION_REPORT,
        DeadlineKind.EVALUATION_REPORT_REVIEW,
    )
)


@dataclass(frozen=True)
class Deadline:
    """An obligation of the project falling due on ``due_on``: its identity is (kind, ref, due_on).

    ``ref`` is the rectification number, the deviation's month or the ex-ante report's number, 0 for the once-a-year
    deadlines.
    """

    kind: str
    ref: int
    due_on: date

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}:{self.due_on.isoformat()}"


@dataclass(frozen=True)
class Notice:
    """A notice due for ``deadline``: missed (or approaching), in effect on ``effective_on``, saying ``reason``."""

    deadline: Deadline
    missed: bool
    effective_on: date
    reason: str


# What every monitoring report recorded before the month was a ruleset parameter was held to: January–July.
LEGACY_MONITORING_REPORT_MONTH = 7


def meets_monitoring_report(month: int, required: int | None) -> bool:
    """Whether a monitoring report through ``month`` is the January–M report the ruleset asked for when it was filed
    (``required``: its ``monitoring_report_month`` then, as the report recorded it; None before reports did)."""
    return month >= (LEGACY_MONITORING_REPORT_MONTH if required is None else required)


def open_deadlines(
    stage: Stage,
    fiscal_year: int,
    monitoring: Sequence[Mapping[str, Any]],
    deviations: Sequence[Mapping[str, Any]],
    rectifications: Sequence[Mapping[str, Any]],
    params: rules.RuleParameters,
    disclosures: Mapping[str, date] | None = None,
    ex_ante_filing: Mapping[str, Any] | None = None,
    evaluations: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Deadline]:
    """The obligations not yet met, earliest first: what deadline notices are raised for.

    Goals are owed until first submitted (a revision after a 中 rating is finance's request, not the deadline);
    the January–M monitoring report, the self-evaluation and deviation answers while the budget is being
    implemented; a rectification until it is accepted. The yearly ones fall due on the days ``params`` (the ruleset
    in force) sets: a new ruleset moves those still owed, and a notice is given for each due date once.
    ``disclosures``: the disclosures owed (goals or results, by what) and the day each is due, as recorded when the
    duty arose; owed whatever the stage (closing the project's file does not publish it). ``ex_ante_filing``: the
    department's ex-ante report awaiting finance's review, due by the day recorded when it was filed. ``evaluations``:
    the project's key evaluations, whose 两审一督导 steps are owed while they are open (:func:`evaluation_deadlines`).
    """
    found = []
    if ex_ante_filing is not None:
        found.append(Deadline(DeadlineKind.EX_ANTE_REVIEW.value, ex_ante_filing["no"], ex_ante_filing["review_due"]))
    if stage in (Stage.DECLARED, Stage.ADMITTED):
        found.append(Deadline(DeadlineKind.GOAL_SUBMISSION.value, 0, rules.goal_submission_due(fiscal_year, params)))
    if stage in IMPLEMENTING:
        if not any(meets_monitoring_report(item["month"], item.get("monitoring_report_month")) for item in monitoring):
            due = rules.monitoring_report_due(fiscal_year, params)
            found.append(Deadline(DeadlineKind.MONITORING_REPORT.value, 0, due))
        found.append(Deadline(DeadlineKind.SELF_EVALUATION.value, 0, rules.self_evaluation_due(fiscal_year, params)))
        found += [
            Deadline(DeadlineKind.DEVIATION_ANSWER.value, d["month"], d["respond_by"])
            for d in deviations
            if not d["answered"]
        ]
    if stage is not Stage.CLOSED:
        found += [
            Deadline(DeadlineKind.RECTIFICATION.value, item["no"], item["deadline"])
            for item in rectifications
            if item["status"] != "accepted"
        ]
    found += [Deadline(f"{what}_disclosure", 0, due) for what, due in (disclosures or {}).items()]
    if stage is not Stage.CLOSED:
        for evaluation_id, evaluation in (evaluations or {}).items():
            found += evaluation_deadlines(evaluation_number(evaluation_id), evaluation)
    return sorted(found, key=lambda d: (d.due_on, d.kind, d.ref))


def evaluation_number(evaluation_id: str) -> int:
    """The number n of the key evaluation ``KE-<year>-<code>-<n>`` (its place among the project's)."""
    return int(evaluation_id.rsplit("-", 1)[1])


def supervision_answer_ref(evaluation_number_: int, supervision_no: int) -> int:
    """The ``ref`` of the answer owed to supervision ``supervision_no`` of key evaluation ``evaluation_number_``."""
    return evaluation_number_ * 100 + supervision_no


def evaluation_deadlines(number: int, evaluation: Mapping[str, Any]) -> list[Deadline]:
    """The 两审一督导 steps owed on the key evaluation ``number``: none for one
    commissioned before the full procedure (or done by finance itself), scored or voided; otherwise the agency's plan
    until submitted, finance's review of it, a first supervision and the answers to its findings, the agency's report
    and finance's review of it — each on the day recorded when it was opened."""
    if evaluation.get("procedure") is None or evaluation["score"] is not None or evaluation.get("voided"):
        return []
    found = []

    def owe(kind: DeadlineKind, due: date | None) -> None:
        if due is not None:
            found.append(Deadline(kind.value, number, due))

    owe(DeadlineKind.EVALUATION_PLAN, evaluation.get("plan_due"))
    owe(DeadlineKind.EVALUATION_PLAN_REVIEW, evaluation.get("plan_review_due"))
    owe(DeadlineKind.SUPERVISION, evaluation.get("supervision_due"))
    found += [
        Deadline(DeadlineKind.SUPERVISION_ANSWER.value, supervision_answer_ref(number, item["no"]), item["answer_due"])
        for item in evaluation.get("supervisions", [])
        if item["findings"] and item["answer"] is None and item["answer_due"] is not None
    ]
    if evaluation["report_approved"] is not True:
        owe(DeadlineKind.EVALUATION_REPORT, evaluation.get("report_due"))
        owe(DeadlineKind.EVALUATION_REPORT_REVIEW, evaluation.get("report_review_due"))
    return found


def notices_due(
    deadlines: Sequence[Deadline], raised: Mapping[str, Mapping[str, Any]], today: date, warning_days: int
) -> list[Notice]:
    """The notices to record on ``today`` for the open ``deadlines``, given those ``raised`` before (by key).

    A missed notice takes effect the day after the due date, whenever the scheduler gets to it; an approaching
    notice the day it is given, and none is given once the date has passed.
    """
    warning = timedelta(days=warning_days)
    due = []
    for deadline in deadlines:
        notices = raised.get(deadline.key) or {}
        what = deadline.kind if deadline.ref == 0 else f"{deadline.kind} {deadline.ref}"
        if today > deadline.due_on:
            if notices.get("missed") is None:
                due.append(
                    Notice(deadline, True, deadline.due_on + timedelta(days=1), f"{what} was due on {deadline.due_on}")
                )
        elif today >= deadline.due_on - warning and notices.get("approaching") is None:
            due.append(Notice(deadline, False, today, f"{what} is due on {deadline.due_on}"))
    return due


def next_notice_day(
    deadlines: Sequence[Deadline], raised: Mapping[str, Mapping[str, Any]], warning_days: int
) -> date | None:
    """The first day a notice for one of ``deadlines`` could fall due, unless something is recorded before."""
    warning = timedelta(days=warning_days)
    days = []
    for deadline in deadlines:
        notices = raised.get(deadline.key) or {}
        if notices.get("missed") is not None:
            continue
        days.append(
            deadline.due_on - warning if notices.get("approaching") is None else deadline.due_on + timedelta(days=1)
        )
    return min(days, default=None)


def notice_entry(raised: dict[str, dict[str, Any]], deadline: Deadline) -> dict[str, Any]:
    """The entry of ``raised`` (a project's ``deadline_notices``) remembering the notices of ``deadline``."""
    return raised.setdefault(
        deadline.key,
        {"kind": deadline.kind, "ref": deadline.ref, "due_on": deadline.due_on, "approaching": None, "missed": None},
    )
