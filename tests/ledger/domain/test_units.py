"""Budget units (预算单位) under departments, and the projects of a unit: the aggregates' rules and refusals, and
declarations recorded before units existed, which still load as their department's own projects.

No database: the aggregates are driven directly, their events stored and read back through the application's mapper.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from ledger.domain.errors import DomainError
from ledger.domain.organisations import Department, Unit, department_id, unit_id
from ledger.domain.project import Project
from ledger.domain.values import Attribution
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.project_support import (
    DECLARED_ON,
    DEPT,
    FINANCE,
    FY,
    REQUESTED,
    build,
    digest,
    mutating,
)

REGISTERED_ON = date(2020, 8, 3)
SCHOOL = "德令哈市第一中学"


def department(name: str = "教育局", on: date = date(2020, 8, 1)) -> Department:
    return Department.register(name, Attribution(FINANCE, on, "登记"))


def unit(name: str = SCHOOL, of: Department | None = None, on: date = REGISTERED_ON) -> Unit:
    return Unit.register(name, of or department(), Attribution(FINANCE, on, "预算单位登记", [digest(7)]))


def declare(by_unit: Unit | None, department_name: str = "教育局", on: date = DECLARED_ON) -> Project:
    return Project.declare(
        Attribution(DEPT, on),
        code="JY-U-01",
        name="校园食堂改造",
        kind="project",
        department=department_name,
        fiscal_year=FY,
        budget_book="general_public",
        special_category=None,
        requested=REQUESTED,
        new_major=False,
        unit=by_unit,
    )


def refused_outright(code: str, call: Any) -> DomainError:
    """``call`` (a creation) is refused with ``code``: no aggregate comes to be."""
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


# ---------------------------------------------------------------------------
# Unit 预算单位
# ---------------------------------------------------------------------------


def test_a_unit_is_registered_under_its_department_by_name() -> None:
    education = department()
    school = unit(of=education)
    assert school.id == unit_id(SCHOOL) == unit_id(" 德令哈市第一中学")  # its name's key, whatever the spelling
    assert school.id not in (department_id(SCHOOL), education.id)
    assert (school.name, school.department, school.department_id) == (SCHOOL, "教育局", education.id)
    assert school.registered_on == REGISTERED_ON
    [registered] = school.collect_events()
    assert isinstance(registered, Unit.Registered)
    assert (registered.principal, registered.effective_on, registered.reason, registered.evidence) == (
        FINANCE,
        REGISTERED_ON,
        "预算单位登记",
        [digest(7)],
    )


def test_a_units_name_is_stored_exactly_as_given() -> None:
    assert unit("德令哈市第一中學").name == "德令哈市第一中學"


def test_a_unit_is_not_registered_before_its_department() -> None:
    refused_outright("effective-date-too-early", lambda: unit(of=department(on=date(2020, 8, 1)), on=date(2020, 7, 31)))
    assert unit(of=department(on=date(2020, 8, 1)), on=date(2020, 8, 1)).registered_on == date(2020, 8, 1)


def test_a_unit_belongs_to_its_department_in_any_spelling_and_to_no_other() -> None:
    school = unit(of=department("教育局"))
    assert school.belongs_to("教育局")
    assert school.belongs_to(" 教育局 ")
    assert not school.belongs_to("卫生健康委员会")


def test_a_stored_unit_replays_and_restores_from_a_snapshot() -> None:
    school = unit()
    events = school.collect_events()
    mapper = ledger_mapper()
    stored = [mapper.to_stored_event(event) for event in events]
    assert [item.topic for item in stored] == ["ledger.organisations:Unit.Registered"]
    replayed: Any = None
    for item in stored:
        replayed = mutating(mapper.to_domain_event(item)).mutate(replayed)
    assert replayed == school
    snapshot = mutating(mapper.to_domain_event(mapper.to_stored_event(Snapshot.take(school))))
    assert snapshot.mutate(None) == school


# ---------------------------------------------------------------------------
# A unit's project
# ---------------------------------------------------------------------------


def test_a_project_of_a_unit_records_the_unit_as_registered() -> None:
    school = unit(" 德令哈市第一中学")
    project = declare(school, department_name="教育局 ")
    assert (project.department, project.unit) == ("教育局 ", " 德令哈市第一中学")
    declared = project.collect_events()[0]
    assert isinstance(declared, Project.Declared)
    assert declared.unit == " 德令哈市第一中学"


def test_a_project_of_the_department_itself_names_no_unit() -> None:
    project = declare(None)
    assert project.unit is None


def test_a_unit_of_another_department_is_refused() -> None:
    clinic = unit("城东社区卫生服务中心", of=department("卫生健康委员会"))
    error = refused_outright("unit-not-in-department", lambda: declare(clinic, department_name="教育局"))
    assert error.kind == "rule"
    assert "卫生健康委员会" in error.detail


def test_a_units_project_is_not_declared_before_the_unit_was_registered() -> None:
    school = unit(on=date(2020, 9, 2))
    refused_outright("effective-date-too-early", lambda: declare(school, on=date(2020, 9, 1)))
    assert declare(school, on=date(2020, 9, 2)).unit == SCHOOL


# ---------------------------------------------------------------------------
# Declarations recorded before units existed
# ---------------------------------------------------------------------------


def test_a_declaration_now_stores_its_unit_under_its_class_version() -> None:
    stored = ledger_mapper().to_stored_event(declare(unit()).collect_events()[0])
    state = json.loads(stored.state)
    assert (state["class_version"], state["unit"]) == (3, SCHOOL)
    assert json.loads(ledger_mapper().to_stored_event(declare(None).collect_events()[0]).state)["unit"] is None


def test_a_declaration_stored_before_units_existed_loads_as_the_departments_own_project() -> None:
    """Its stored bytes — what the log's hashes commit to — as an earlier version wrote them: no ``unit``, no
    ``class_version``. The mapper upcasts the event; the project replays as it did."""
    mapper = ledger_mapper()
    project = build("budget_approved")
    events = project.collect_events()
    current = mapper.to_stored_event(events[0])
    old_state = {k: v for k, v in json.loads(current.state).items() if k not in ("unit", "continues", "class_version")}
    old = StoredEvent(current.originator_id, current.originator_version, current.topic, json.dumps(old_state).encode())
    stored = [old, *(mapper.to_stored_event(event) for event in events[1:])]
    replayed: Any = None
    for item in stored:
        replayed = mutating(mapper.to_domain_event(item)).mutate(replayed)
    assert replayed.unit is None
    assert replayed == project
    assert replayed.approved_amount == project.approved_amount


def test_a_snapshot_taken_before_units_existed_is_upcast() -> None:
    project = build("budget_approved")
    project.collect_events()
    snapshot = Snapshot.take(project)
    assert snapshot.state["class_version"] == 9
    before_units = (
        "unit",
        "continues",
        "budget_linkage",
        "disclosure_due",
        "policy_decision",
        "ex_ante_agency",
        "ex_ante_filings",
        "spot_checks",
    )
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state={**{k: v for k, v in snapshot.state.items() if k not in before_units}, "class_version": 3},
    )
    restored: Any = old.mutate(None)
    assert restored.unit is None
    assert restored == project
    assert restored.approved_amount == Decimal("4800000.00")
