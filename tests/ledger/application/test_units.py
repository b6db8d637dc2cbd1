"""Budget units (预算单位) on PostgreSQL: their registration by finance, the projects of a unit, and who acts for
them — a unit's staff for their unit's projects only, its department's staff for every project of its units.

A refusal records nothing (``refused`` checks the log did not move).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import partial
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger
from ledger.domain.errors import NotFound
from ledger.domain.organisations import unit_id
from ledger.domain.project import Project, project_id
from ledger.domain.values import Principal
from tests.conftest import EDUCATION, FINANCE, HEALTH, act
from tests.credit_codes import code_of
from tests.ledger.application.test_application import GOALS, refused

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

SCHOOL_ONE = "德令哈市第一中学"
SCHOOL_TWO = "德令哈市第二中学"
CLINIC = "城东社区卫生服务中心"
FIRST = Principal("yz-li", "department", SCHOOL_ONE)
SECOND = Principal("ez-wang", "department", SCHOOL_TWO)


@pytest.fixture
def units(ledger: Ledger) -> Ledger:
    for name in ("教育局", "卫生健康委员会"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "教育局", SCHOOL_ONE)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), " 教育局", SCHOOL_TWO)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "卫生健康委员会", CLINIC)
    return ledger


def declare(ledger: Ledger, who: Principal, code: str, unit: str | None, department: str = "教育局") -> UUID:
    ledger.declare_project(
        act(who, date(2020, 9, 1)),
        code=code,
        name="校园项目",
        kind="project",
        department=department,
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="500000.00",
        new_major=False,
        unit=unit,
    )
    return project_id(2021, code)


def test_finance_registers_a_unit_under_a_department(units: Ledger) -> None:
    school = units.unit(" 德令哈市第一中学")  # any spelling
    assert school.id == unit_id(SCHOOL_ONE)
    assert (school.name, school.department, school.department_id) == (
        SCHOOL_ONE,
        "教育局",
        units.department("教育局").id,
    )
    assert units.unit(SCHOOL_TWO).department == "教育局"  # registered under " 教育局": the department as registered


def test_only_finance_registers_units_and_only_under_a_registered_department(units: Ledger) -> None:
    refused(
        units, "role-not-allowed", lambda: units.register_unit(act(EDUCATION, date(2020, 8, 5)), "教育局", "新单位")
    )
    refused(units, "role-not-allowed", lambda: units.register_unit(act(FIRST, date(2020, 8, 5)), "教育局", "新单位"))
    refused(
        units, "department-not-found", lambda: units.register_unit(act(FINANCE, date(2020, 8, 5)), "民政局", "新单位")
    )
    refused(
        units,
        "effective-date-too-early",
        lambda: units.register_unit(act(FINANCE, date(2020, 7, 31)), "教育局", "新单位"),
    )


def test_a_name_names_one_organisation(units: Ledger) -> None:
    """A unit is not registered under a name a unit (of any department) or a department holds, in any spelling, nor
    a department under a unit's: so the organisation a principal acts for is never ambiguous."""
    for department, name in (
        ("卫生健康委员会", SCHOOL_ONE),  # another department's unit
        ("教育局", " 德令哈市第一中学"),  # the same unit, spelled otherwise
        ("教育局", "卫生健康委员会"),  # a department
        ("教育局", "教育局"),  # its own department
    ):
        refused(
            units,
            "already-exists",
            partial(units.register_unit, act(FINANCE, date(2020, 8, 5)), department, name),
        )
    refused(units, "already-exists", lambda: units.register_department(act(FINANCE, date(2020, 8, 5)), CLINIC))


def test_a_project_belongs_to_its_department_and_optionally_to_one_of_its_units(units: Ledger) -> None:
    own = declare(units, EDUCATION, "JY-00", None)
    of_unit = declare(units, EDUCATION, "JY-01", SCHOOL_ONE)
    by_finance = declare(units, FINANCE, "JY-02", " 德令哈市第二中学")
    assert (units.project(own).department, units.project(own).unit) == ("教育局", None)
    assert units.project(of_unit).unit == SCHOOL_ONE
    assert units.project(by_finance).unit == SCHOOL_TWO  # as the unit was registered
    refused(units, "unit-not-in-department", lambda: declare(units, EDUCATION, "JY-03", CLINIC))
    refused(units, "unit-not-found", lambda: declare(units, EDUCATION, "JY-04", "不存在的单位"))
    refused(units, "unit-not-in-department", lambda: declare(units, FINANCE, "WJ-01", SCHOOL_ONE, "卫生健康委员会"))


def test_a_units_staff_declare_only_their_units_projects(units: Ledger) -> None:
    assert units.project(declare(units, FIRST, "YZ-01", SCHOOL_ONE)).unit == SCHOOL_ONE
    refused(units, "not-own-department", lambda: declare(units, FIRST, "YZ-02", SCHOOL_TWO))  # a sibling's
    refused(units, "not-own-department", lambda: declare(units, FIRST, "YZ-03", None))  # the department's own
    refused(units, "not-own-department", lambda: declare(units, FIRST, "YZ-04", CLINIC, "卫生健康委员会"))
    # Its own unit named under another department: the scope is its own, the unit is not that department's.
    refused(units, "unit-not-in-department", lambda: declare(units, FIRST, "YZ-05", SCHOOL_ONE, "卫生健康委员会"))


def admitted(ledger: Ledger, pid: UUID) -> UUID:
    ledger.admit_project(act(FINANCE, date(2020, 9, 30)), pid)
    return pid


def implementing(ledger: Ledger, pid: UUID) -> UUID:
    admitted(ledger, pid)
    ledger.submit_goals(act(EDUCATION, date(2020, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2020, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "500000.00")
    return pid


def test_a_units_staff_act_only_on_their_units_projects_and_the_departments_on_all_of_its_units(units: Ledger) -> None:
    first = admitted(units, declare(units, EDUCATION, "JY-11", SCHOOL_ONE))
    second = admitted(units, declare(units, EDUCATION, "JY-12", SCHOOL_TWO))
    own = admitted(units, declare(units, EDUCATION, "JY-10", None))
    on = date(2020, 10, 20)
    refused(units, "not-own-department", lambda: units.submit_goals(act(FIRST, on), second, GOALS))  # a sibling's
    refused(units, "not-own-department", lambda: units.submit_goals(act(FIRST, on), own, GOALS))  # the department's
    refused(units, "not-own-department", lambda: units.submit_goals(act(HEALTH, on), first, GOALS))
    units.submit_goals(act(FIRST, on), first, GOALS)
    units.submit_goals(act(EDUCATION, on), second, GOALS)  # the department for its unit
    units.submit_goals(act(EDUCATION, on), own, GOALS)
    assert [units.project(pid).stage for pid in (first, second, own)] == ["goals_submitted"] * 3
    assert units.project(first).goals == GOALS


def test_a_units_staff_are_refused_what_the_department_does_as_a_whole(units: Ledger) -> None:
    refused(
        units,
        "not-own-department",
        lambda: units.set_overall_goals(act(FIRST, date(2020, 10, 15)), "教育局", 2021, ["义务教育巩固率99%"]),
    )
    units.set_overall_goals(act(EDUCATION, date(2020, 10, 15)), "教育局", 2021, ["义务教育巩固率99%"])


def test_an_agency_tied_to_a_unit_recuses_from_its_departments_projects(units: Ledger) -> None:
    """回避: an agency belonging to a unit is tied to the unit's projects and to its department's (a unit is part of
    it), not to another department's."""
    ours = implementing(units, declare(units, EDUCATION, "JY-21", SCHOOL_TWO))
    own = declare(units, EDUCATION, "JY-20", None)
    theirs = declare(units, HEALTH, "WJ-21", CLINIC, "卫生健康委员会")
    units.admit_project(act(FINANCE, date(2020, 9, 30)), theirs)
    units.submit_goals(act(HEALTH, date(2020, 10, 20)), theirs, GOALS)
    units.review_goals(act(FINANCE, date(2020, 11, 5)), theirs, "优")
    units.approve_budget(act(FINANCE, date(2021, 1, 15)), theirs, "500000.00")
    units.register_agency(
        act(FINANCE, date(2021, 3, 1)), "一中附属评估中心", "乙级", SCHOOL_ONE, credit_code=code_of("一中附属评估中心")
    )
    units.register_agency(
        act(FINANCE, date(2021, 3, 1)), "卫生院评估所", "乙级", CLINIC, credit_code=code_of("卫生院评估所")
    )
    on = date(2021, 9, 1)
    for pid in (ours, own):
        refused(
            units,
            "conflict-of-interest",
            partial(units.commission_key_evaluation, act(FINANCE, on), pid, "一中附属评估中心"),
        )
    refused(
        units, "conflict-of-interest", lambda: units.commission_key_evaluation(act(FINANCE, on), theirs, "卫生院评估所")
    )
    units.commission_key_evaluation(act(FINANCE, on), theirs, "一中附属评估中心")
    units.commission_key_evaluation(act(FINANCE, on), ours, "卫生院评估所")


def test_a_project_stored_before_units_existed_is_its_departments_own(units: Ledger) -> None:
    """Its declaration appended as an earlier version stored it (no ``unit``, no ``class_version``): loaded from
    PostgreSQL it is the department's own project — its staff act on it, a unit's are refused."""
    project = Project.declare(
        act(EDUCATION, date(2020, 9, 1)).by,
        code="OLD-01",
        name="旧项目",
        kind="project",
        department="教育局",
        fiscal_year=2021,
        budget_book="general_public",
        special_category=None,
        requested=Decimal("1000.00"),
        new_major=False,
    )
    stored = units.mapper.to_stored_event(project.collect_events()[0])
    state = {k: v for k, v in json.loads(stored.state).items() if k not in ("unit", "class_version")}
    units.recorder.insert_events(
        [StoredEvent(stored.originator_id, 1, stored.topic, json.dumps(state, ensure_ascii=False).encode())]
    )
    [recorded] = units.recorder.select_events(project.id)
    assert "unit" not in json.loads(recorded.state)
    units.cache.evict(project.id)
    loaded = units.project(project.id)
    assert (loaded.department, loaded.unit) == ("教育局", None)
    admitted(units, project.id)
    refused(units, "not-own-department", lambda: units.submit_goals(act(FIRST, date(2020, 10, 20)), project.id, GOALS))
    units.submit_goals(act(EDUCATION, date(2020, 10, 20)), project.id, GOALS)


def test_a_name_finds_the_one_department_or_unit_it_names_in_any_spelling(units: Ledger) -> None:
    """One lookup for every use case that takes an organisation by name (overall goals, decisions)."""
    found = units.organisation(f" {SCHOOL_ONE}")
    assert (type(found).__name__, found.name, found.id) == ("Unit", SCHOOL_ONE, unit_id(SCHOOL_ONE))
    assert units.organisation("教育局 ").name == "教育局"
    with pytest.raises(NotFound) as missing:
        units.organisation("不存在的单位")
    assert missing.value.code == "department-not-found"
