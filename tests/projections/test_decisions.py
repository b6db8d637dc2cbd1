"""``decisions``' fold, without a database: finance's 通报, 表彰 and 约谈 in, one row each with the follow-up of its
rectification out; and the ranking's fold, which keeps only the decisions on a department's yearly ranking."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from ledger.domain.values import SYSTEM, key
from projections.base import LogEvent, Row
from projections.decisions import COLUMNS, fold
from projections.ranking import fold_ranking_decisions
from tests.projections.recorded import DEPARTMENT, Log


def recorded(
    log: Log,
    decision: UUID,
    kind: str,
    *,
    subject: str = "教育局",
    subject_kind: str = "department",
    basis: str = "ranking",
    due: date | None = date(2022, 7, 10),
    project: UUID | None = None,
) -> LogEvent:
    return log.record(
        "Decision.Recorded",
        decision,
        effective_on=date(2022, 6, 10),
        reason="排名末位",
        kind=kind,
        subject_kind=subject_kind,
        subject=subject,
        subject_id=uuid4(),
        department="教育局",
        basis=basis,
        fiscal_year=2021,
        project_id=project,
        rectification_due=due,
        ruleset_version=1,
    )


def no_stored(decision: UUID) -> Row:
    raise AssertionError(f"decision {decision} was read from the table: the page holds it")


def folded(events: list[LogEvent], stored: dict[UUID, Row] | None = None) -> dict[UUID, Row]:
    rows: dict[UUID, Row] = {}
    for item in events:
        fold(rows, item, stored.__getitem__ if stored is not None else no_stored)
    return rows


def test_an_interview_is_a_row_with_its_rectification_open() -> None:
    log, decision = Log(), uuid4()
    rows = folded([recorded(log, decision, "interview")])
    row = rows[decision]
    assert set(row) == set(COLUMNS)
    assert (row["kind"], row["kind_zh"], row["subject"], row["department_key"]) == (
        "interview",
        "约谈",
        "教育局",
        key("教育局"),
    )
    assert (row["decided_on"], row["reason"], row["rectification_due"], row["rectification_status"]) == (
        date(2022, 6, 10),
        "排名末位",
        date(2022, 7, 10),
        "open",
    )
    assert (row["reports"], row["position"]) == (0, 0)


def test_a_commendation_has_no_rectification() -> None:
    log, decision = Log(), uuid4()
    row = folded([recorded(log, decision, "commendation", due=None)])[decision]
    assert (row["rectification_due"], row["rectification_status"], row["kind_zh"]) == (None, None, "表彰")


def test_the_follow_up_across_pages() -> None:
    log, decision = Log(), uuid4()
    first = folded([recorded(log, decision, "criticism")])
    events = [
        log.record(
            "Decision.DeadlineApproaching",
            decision,
            effective_on=date(2022, 7, 3),
            principal=SYSTEM,
            deadline="decision_rectification",
            ref=0,
            due_on=date(2022, 7, 10),
        ),
        log.record(
            "Decision.RectificationReported",
            decision,
            effective_on=date(2022, 7, 5),
            principal=DEPARTMENT,
            measures="已整改",
        ),
        log.record("Decision.RectificationRejected", decision, effective_on=date(2022, 7, 6), reason="不到位"),
        log.record(
            "Decision.DeadlineMissed",
            decision,
            effective_on=date(2022, 7, 11),
            principal=SYSTEM,
            deadline="decision_rectification",
            ref=0,
            due_on=date(2022, 7, 10),
        ),
        log.record(
            "Decision.RectificationReported",
            decision,
            effective_on=date(2022, 7, 12),
            principal=DEPARTMENT,
            measures="补充整改",
        ),
    ]
    assert folded(events[:3], stored=first)[decision]["rectification_status"] == "open"  # rejected: owed again
    row = folded(events, stored=first)[decision]
    assert (row["rectification_status"], row["reports"], row["reported_on"]) == ("reported", 2, date(2022, 7, 12))
    assert (row["approaching_on"], row["missed_on"], row["accepted_on"]) == (date(2022, 7, 3), date(2022, 7, 11), None)
    assert row["position"] == events[-1].leaf_index
    accepted = folded(
        [log.record("Decision.RectificationAccepted", decision, effective_on=date(2022, 7, 15))], stored={decision: row}
    )[decision]
    assert (accepted["rectification_status"], accepted["accepted_on"]) == ("accepted", date(2022, 7, 15))
    assert row["rectification_status"] == "reported"  # the stored row is not changed in place


def test_only_decisions_on_a_departments_ranking_reach_the_ranking() -> None:
    log = Log()
    on_ranking, on_project, on_unit = uuid4(), uuid4(), uuid4()
    events = [
        recorded(log, on_ranking, "interview", subject=" 教育局"),
        recorded(log, on_project, "praise", basis="evaluation", project=uuid4(), due=None),
        recorded(
            log,
            on_unit,
            "criticism",
            subject="德令哈市第一中学",
            subject_kind="unit",
            basis="evaluation",
            project=uuid4(),
        ),
        log.record("Department.Registered", uuid4(), name="卫生健康委员会"),
    ]
    assert fold_ranking_decisions(events) == [
        {"decision_id": on_ranking, "department_key": key("教育局"), "fiscal_year": 2021, "kind": "interview"}
    ]


@pytest.mark.parametrize("kind", ["praise", "criticism", "commendation", "interview"])
def test_every_kind_has_its_chinese_name(kind: str) -> None:
    log, decision = Log(), uuid4()
    assert folded([recorded(log, decision, kind)])[decision]["kind_zh"]
