"""``department_overall``'s fold, without a database: an organisation's overall goals, their review and adjustments,
its self-evaluation, finance's evaluation and the results applied with the next control figure in, one row per
organisation and year out — each figure as the events recorded it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from ledger.domain.values import key
from projections.base import LogEvent, Row
from projections.department_overall import COLUMNS, fold
from tests.ledger.domain.overall_support import overall_indicators
from tests.projections.recorded import DEPARTMENT, Log

D = Decimal


def submitted(log: Log, gid: UUID, organisation: str = "教育局", kind: str = "department") -> LogEvent:
    return log.record(
        "OverallGoals.Submitted",
        gid,
        effective_on=date(2021, 10, 1),
        principal=DEPARTMENT,
        organisation=organisation,
        kind=kind,
        department="教育局",
        fiscal_year=2022,
        indicators=overall_indicators(),
        ruleset_version=1,
    )


def event(log: Log, gid: UUID, name: str, on: date, reason: str = "", **fields: Any) -> LogEvent:
    return log.record(f"OverallGoals.{name}", gid, effective_on=on, reason=reason, **fields)


def no_stored(gid: UUID) -> Row:
    raise AssertionError(f"{gid} was read from the table: the page holds it")


def folded(events: list[LogEvent], stored: dict[UUID, Row] | None = None) -> dict[UUID, Row]:
    rows: dict[UUID, Row] = {}
    for item in events:
        fold(rows, item, stored.__getitem__ if stored is not None else no_stored)
    return rows


def a_year(log: Log, gid: UUID) -> list[LogEvent]:
    """教育局's 2022: returned, resubmitted, approved, an adjustment approved and one rejected, self-evaluated at 88,
    evaluated by finance itself at 95, an agency's evaluation commissioned (scored by :func:`scored_by_agency`)."""
    return [
        submitted(log, gid),
        event(log, gid, "Reviewed", date(2021, 10, 10), "细化", rating="中", required_fixes="细化"),
        event(log, gid, "Resubmitted", date(2021, 10, 15), indicators=overall_indicators(), ruleset_version=1),
        event(log, gid, "Reviewed", date(2021, 10, 20), rating="优", required_fixes=""),
        event(log, gid, "AdjustmentRequested", date(2022, 3, 1), "职能调整", adjustment_no=1, indicators=[]),
        event(log, gid, "AdjustmentApproved", date(2022, 3, 10), adjustment_no=1),
        event(log, gid, "AdjustmentRequested", date(2022, 4, 1), "再调", adjustment_no=2, indicators=[]),
        event(log, gid, "AdjustmentRejected", date(2022, 4, 10), "理由不足", adjustment_no=2),
        event(
            log,
            gid,
            "SelfEvaluated",
            date(2023, 2, 20),
            principal=DEPARTMENT,
            actuals={},
            indicator_scores={},
            total=D(88),
            grade="良",
            ruleset_version=1,
        ),
        event(log, gid, "EvaluationCommissioned", date(2023, 3, 1), evaluation_no=1, agency_id=None, agency_name=None),
        event(
            log,
            gid,
            "EvaluationCommissioned",
            date(2023, 3, 2),
            evaluation_no=2,
            agency_id="a1",
            agency_name="某咨询评估有限公司",
        ),
        event(log, gid, "EvaluationPlanReviewed", date(2023, 3, 10), evaluation_no=1, approved=True),
        event(log, gid, "EvaluationReportReviewed", date(2023, 3, 20), evaluation_no=1, approved=True),
        event(log, gid, "EvaluationSupervisionNoted", date(2023, 3, 21), evaluation_no=2, notes="督导"),
        event(
            log,
            gid,
            "EvaluationScored",
            date(2023, 4, 1),
            evaluation_no=1,
            scores={},
            total=D(95),
            grade="优",
            inflated=False,
            ruleset_version=1,
        ),
    ]


def scored_by_agency(log: Log, gid: UUID) -> list[LogEvent]:
    return [
        event(
            log,
            gid,
            "EvaluationScored",
            date(2023, 5, 10),
            evaluation_no=2,
            scores={},
            total=D(77),
            grade="中",
            inflated=True,
            ruleset_version=1,
        ),
        event(
            log,
            gid,
            "ResultsApplied",
            date(2023, 6, 1),
            "承担重点任务",
            basis="evaluation",
            evaluation_no=2,
            grade="中",
            total=D(77),
            decision="reduce",
            ruleset_version=1,
        ),
        event(
            log,
            gid,
            "ControlFigureAdjusted",
            date(2023, 6, 1),
            "承担重点任务",
            next_fiscal_year=2023,
            control_figure=D("12000000.00"),
            default_rate=D("-0.05"),
            rate=D("-0.02"),
            amount=D("-240000.00"),
            next_control_figure=D("11760000.00"),
            override=True,
            ruleset_version=1,
        ),
    ]


def test_the_goals_their_review_and_adjustments() -> None:
    log, gid = Log(), uuid4()
    events = a_year(log, gid)[:8]
    row = folded(events)[gid]
    assert set(row) == set(COLUMNS)
    assert (row["organisation"], row["organisation_key"], row["kind"], row["department_key"], row["fiscal_year"]) == (
        "教育局",
        key("教育局"),
        "department",
        key("教育局"),
        2022,
    )
    assert (row["status"], row["rating"], row["submissions"], row["submitted_on"], row["reviewed_on"]) == (
        "approved",
        "优",
        2,
        date(2021, 10, 15),
        date(2021, 10, 20),
    )
    assert (row["adjustments_pending"], row["adjustments_approved"], row["adjustments_rejected"]) == (0, 1, 1)
    assert row["position"] == 7
    pending = folded(events[:5])[gid]
    assert pending["adjustments_pending"] == 1
    returned = folded(events[:2])[gid]
    assert (returned["status"], returned["rating"]) == ("returned", "中")


def test_the_evaluation_the_results_and_the_control_figure() -> None:
    log, gid = Log(), uuid4()
    events = a_year(log, gid)
    row = folded(events)[gid]
    assert (row["self_score"], row["self_grade"], row["self_evaluated_on"]) == (D(88), "良", date(2023, 2, 20))
    assert (row["evaluations"], row["evaluations_open"], row["evaluators"]) == (2, 1, [None, "某咨询评估有限公司"])
    assert (row["evaluation_no"], row["evaluator"], row["evaluation_score"], row["evaluation_grade"]) == (
        1,
        None,
        D(95),
        "优",
    )
    assert row["result_decision"] is None
    row = folded([*events, *scored_by_agency(log, gid)])[gid]
    assert (row["evaluations_open"], row["evaluation_no"], row["evaluator"], row["evaluation_grade"]) == (
        0,
        2,
        "某咨询评估有限公司",
        "中",
    )
    assert row["inflated"] is True
    assert (row["result_basis"], row["result_grade"], row["result_decision"], row["results_applied_on"]) == (
        "evaluation",
        "中",
        "reduce",
        date(2023, 6, 1),
    )
    assert (row["control_figure"], row["default_rate"], row["control_rate"], row["control_amount"]) == (
        D("12000000.00"),
        D("-0.05"),
        D("-0.02"),
        D("-240000.00"),
    )
    assert (row["next_fiscal_year"], row["next_control_figure"]) == (2023, D("11760000.00"))
    assert (row["control_override"], row["control_override_reason"]) == (True, "承担重点任务")


def test_the_rate_of_the_ruleset_is_no_override_and_names_no_reason() -> None:
    log, gid = Log(), uuid4()
    adjusted = event(
        log,
        gid,
        "ControlFigureAdjusted",
        date(2023, 6, 1),
        "照章",
        next_fiscal_year=2023,
        control_figure=D("100.00"),
        default_rate=D("0.05"),
        rate=D("0.05"),
        amount=D("5.00"),
        next_control_figure=D("105.00"),
        override=False,
        ruleset_version=1,
    )
    stored = folded([submitted(log, gid)])[gid]
    row = folded([adjusted], {gid: stored})[gid]
    assert (row["control_override"], row["control_override_reason"], row["next_control_figure"]) == (
        False,
        None,
        D("105.00"),
    )


def test_a_units_row_names_its_department_and_rows_of_earlier_pages_are_read() -> None:
    log, unit, department = Log(), uuid4(), uuid4()
    first = [submitted(log, unit, "德令哈市第一中学", "unit"), submitted(log, department)]
    stored = folded(first)
    assert (stored[unit]["kind"], stored[unit]["department"], stored[unit]["organisation_key"]) == (
        "unit",
        "教育局",
        key("德令哈市第一中学"),
    )
    reviewed = event(log, unit, "Reviewed", date(2021, 10, 20), rating="良", required_fixes="")
    row = folded([reviewed], {unit: dict(stored[unit])})[unit]
    assert (row["status"], row["position"]) == ("approved", 2)
    assert stored[unit]["status"] == "submitted"  # the stored row itself is not changed in place


def test_the_schedulers_notices_on_the_self_evaluation_are_kept_for_the_day_they_were_given_for() -> None:
    log, gid = Log(), uuid4()
    events = [
        submitted(log, gid),
        event(log, gid, "Reviewed", date(2021, 10, 20), rating="优", required_fixes=""),
        event(
            log,
            gid,
            "DeadlineApproaching",
            date(2023, 3, 24),
            deadline="overall_self_evaluation",
            ref=0,
            due_on=date(2023, 3, 31),
        ),
    ]
    row = folded(events)[gid]
    assert (row["self_evaluation_notice_due"], row["self_evaluation_approaching_on"]) == (
        date(2023, 3, 31),
        date(2023, 3, 24),
    )
    assert row["self_evaluation_missed_on"] is None
    moved = event(  # a later ruleset moved the day: the notice for 31 March is not one for 30 April
        log,
        gid,
        "DeadlineMissed",
        date(2023, 5, 1),
        deadline="overall_self_evaluation",
        ref=0,
        due_on=date(2023, 4, 30),
    )
    row = folded([moved], {gid: row})[gid]
    assert (
        row["self_evaluation_notice_due"],
        row["self_evaluation_approaching_on"],
        row["self_evaluation_missed_on"],
    ) == (date(2023, 4, 30), None, date(2023, 5, 1))
