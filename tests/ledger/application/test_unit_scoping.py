"""Property: whatever departments and budget units are registered (names clashing, in any spelling) and whoever
declares or acts, the ledger decides as a plain model of the rules says.

The model: a name names at most one organisation (a department or a unit); a unit belongs to the department it was
registered under; a project belongs to its department and, if declared with one, to that department's unit. A
principal of the department role acts on a project if it acts for the project's department or for its unit, and does
what the department does as a whole only if it acts for the department. Every refusal records nothing.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ledger.application import Ledger
from ledger.domain.errors import DomainError
from ledger.domain.project import project_id
from ledger.domain.values import Principal, key
from tests.conftest import FINANCE, act
from tests.ledger.application.test_application import GOALS

pytestmark = pytest.mark.db

DEPARTMENTS = ("教育局", "卫生健康委员会", "民政局")
UNITS = ("第一中学", "第二中学", "城东卫生院")
NAMES = DEPARTMENTS + UNITS
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
names = st.sampled_from(NAMES)
spellings = st.integers(min_value=0, max_value=2)
RUNS = itertools.count()


class ScopingMachine(RuleBasedStateMachine):
    ledger: Ledger  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.run = next(RUNS)  # every run's names are its own: the ledger is shared by the runs
        self.departments: set[str] = set()  # keys
        self.units: dict[str, str] = {}  # unit key -> its department's key
        self.projects: list[tuple[UUID, str, str | None]] = []  # id, department key, unit key
        self.codes = itertools.count()

    def name(self, base: str, spelling: int) -> str:
        """``base`` of this run, spelled one of three ways that share a key."""
        name = f"{base}{self.run}"
        return [name, f" {name} ", name.translate(FULL_WIDTH)][spelling]

    def outcome(self, command: Any) -> str:
        """``"ok"``, or the code it was refused with (having recorded nothing)."""
        head = self.ledger.head()
        try:
            command()
        except DomainError as refusal:
            code = refusal.code
        else:
            return "ok"
        assert self.ledger.head() == head, f"refused ({code}) but recorded"
        return code

    @rule(base=names, spelling=spellings)
    def register_department(self, base: str, spelling: int) -> None:
        name = self.name(base, spelling)
        expected = "already-exists" if key(name) in self.departments or key(name) in self.units else "ok"
        result = self.outcome(lambda: self.ledger.register_department(act(FINANCE, date(2020, 8, 1)), name))
        assert result == expected, (name, result)
        if result == "ok":
            self.departments.add(key(name))

    @rule(department=names, base=names, spellings=st.tuples(spellings, spellings))
    def register_unit(self, department: str, base: str, spellings: tuple[int, int]) -> None:
        of, name = self.name(department, spellings[0]), self.name(base, spellings[1])
        if key(of) not in self.departments:
            expected = "department-not-found"
        elif key(name) in self.departments or key(name) in self.units:
            expected = "already-exists"
        else:
            expected = "ok"
        result = self.outcome(lambda: self.ledger.register_unit(act(FINANCE, date(2020, 8, 3)), of, name))
        assert result == expected, (of, name, result)
        if result == "ok":
            self.units[key(name)] = key(of)

    @rule(
        who=st.sampled_from((None, *NAMES)),
        department=names,
        unit=st.sampled_from((None, *NAMES)),
        spellings=st.tuples(spellings, spellings, spellings),
    )
    def declare(self, who: str | None, department: str, unit: str | None, spellings: tuple[int, int, int]) -> None:
        """Declared by finance (``who`` None) or by the staff of an organisation, registered or not."""
        principal = FINANCE if who is None else Principal("staff", "department", self.name(who, spellings[0]))
        of = self.name(department, spellings[1])
        of_unit = None if unit is None else self.name(unit, spellings[2])
        scope = {key(of)} | (set() if of_unit is None else {key(of_unit)})
        if who is not None and key(principal.organisation) not in scope:
            expected = "not-own-department"
        elif key(of) not in self.departments:
            expected = "department-not-found"
        elif of_unit is not None and key(of_unit) not in self.units:
            expected = "unit-not-found"
        elif of_unit is not None and self.units[key(of_unit)] != key(of):
            expected = "unit-not-in-department"
        else:
            expected = "ok"
        code = f"S{self.run}-{next(self.codes)}"
        result = self.outcome(
            lambda: self.ledger.declare_project(
                act(principal, date(2020, 9, 1)),
                code=code,
                name="项目",
                kind="project",
                department=of,
                fiscal_year_=2021,
                budget_book="general_public",
                special_category=None,
                requested="1000.00",
                new_major=False,
                unit=of_unit,
            )
        )
        assert result == expected, (principal.organisation, of, of_unit, result)
        if result == "ok":
            self.projects.append((project_id(2021, code), key(of), None if of_unit is None else key(of_unit)))

    @rule(who=names, spelling=spellings, which=st.integers(min_value=0, max_value=50))
    def act_on_a_project(self, who: str, spelling: int, which: int) -> None:
        """Goals submitted for a project just declared: its own staff get as far as the project's stage (not yet
        admitted), anyone else is refused for who they are."""
        if not self.projects:
            return
        pid, department, unit = self.projects[which % len(self.projects)]
        staff = Principal("staff", "department", self.name(who, spelling))
        expected = "wrong-stage" if key(staff.organisation) in (department, unit) else "not-own-department"
        result = self.outcome(lambda: self.ledger.submit_goals(act(staff, date(2020, 10, 20)), pid, GOALS))
        assert result == expected, (staff.organisation, department, unit, result)

    @rule(who=names, department=names, spellings=st.tuples(spellings, spellings))
    def set_overall_goals(self, who: str, department: str, spellings: tuple[int, int]) -> None:
        """What the department does as a whole: its own staff only, never a unit's."""
        staff = Principal("staff", "department", self.name(who, spellings[0]))
        of = self.name(department, spellings[1])
        if key(staff.organisation) != key(of):
            expected = "not-own-department"
        elif key(of) not in self.departments:
            expected = "department-not-found"
        else:
            expected = "ok"
        result = self.outcome(lambda: self.ledger.set_overall_goals(act(staff, date(2020, 10, 15)), of, 2021, ["目标"]))
        assert result == expected, (staff.organisation, of, result)

    @invariant()
    def every_projects_unit_is_its_departments(self) -> None:
        if self.projects:
            pid, department, unit = self.projects[-1]
            project = self.ledger.project(pid)
            assert key(project.department) == department
            assert (None if project.unit is None else key(project.unit)) == unit
            if project.unit is not None:
                assert key(self.ledger.unit(project.unit).department) == department


def test_who_acts_for_a_department_or_a_unit_is_decided_as_the_model_says(ledger: Ledger) -> None:
    class Machine(ScopingMachine):
        pass

    Machine.ledger = ledger
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
