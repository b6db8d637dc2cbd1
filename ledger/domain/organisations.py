"""Departments (部门) and their budget units (预算单位), and what every registered organisation shares (agencies,
第三方机构, are :mod:`ledger.domain.agencies`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain.base import LedgerAggregate, keyed_id, preparation_opens, recorded_ids, require_not_before
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.values import Attribution, key, score

ASSESSMENT_DIMENSIONS: tuple[str, ...] = (
    "running_cost",  # 运行成本
    "management_efficiency",  # 管理效率
    "duty_performance",  # 履职效能
    "social_effect",  # 社会效应
    "sustainability",  # 可持续发展能力
    "satisfaction",  # 服务对象满意度
)


def department_id(name: str) -> UUID:
    """The id a department registered as ``name`` gets (from the name's key: one department however spelled)."""
    return keyed_id("department", name)


def department_ids(name: str) -> tuple[UUID, ...]:
    """Every id a department of this name may be recorded under (:func:`ledger.domain.base.recorded_ids`)."""
    return recorded_ids("department", name)


def unit_id(name: str) -> UUID:
    """The id a budget unit registered as ``name`` gets (from the name's key: one unit however spelled). Not from its
    department's name too: a unit's name is unique among every unit and department, so that the name a principal acts
    for (its ``organisation``) names one organisation, and its id follows from the name alone."""
    return keyed_id("unit", name)


class _Registered(LedgerAggregate):
    """An organisation dates nothing of its own before its registration took effect (registered_on)."""

    if TYPE_CHECKING:
        name: str
        registered_on: date | None  # None: restored from a snapshot taken before it was kept

    def record(self, event_class: type[Any], by: Attribution, **kwargs: Any) -> None:
        if not by.principal.is_system:  # the scheduler dates by its own day (an expiry by the period's end)
            require_not_before(by.effective_on, self.registered_on, f"{self.name} was registered")
        super().record(event_class, by, **kwargs)


class Department(_Registered):
    """A budget department: its overall goals per year and its comprehensive assessment."""

    TOPIC_MODULE = "ledger.organisations"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        overall_goals: dict[str, list[str]]  # fiscal year (as text) -> goals
        assessments: dict[str, dict[str, Any]]  # fiscal year (as text) -> assessment

    class Registered(LedgerAggregate.Created):
        name: str

        def apply(self, department: Department) -> None:
            department.name = self.name
            department.registered_on = self.effective_on
            department.overall_goals = {}
            department.assessments = {}

    class OverallGoalsSet(LedgerAggregate.Event):
        """部门整体绩效目标."""

        fiscal_year: int
        goals: list[str]

        def apply(self, department: Department) -> None:
            department.overall_goals[str(self.fiscal_year)] = list(self.goals)

    class ComprehensivelyAssessed(LedgerAggregate.Event):
        """综合绩效考评: six dimensions 0-100; the total is their mean."""

        fiscal_year: int
        scores: dict[str, Decimal]
        total: Decimal

        def apply(self, department: Department) -> None:
            department.assessments[str(self.fiscal_year)] = {"scores": dict(self.scores), "total": self.total}

    # Version 2 added registered_on; older snapshots are upcast without it (None: no lower bound known).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["registered_on"] = None

    @classmethod
    def register(cls, name: str, by: Attribution) -> Department:
        """Registered on the finance bureau's word: the registration cites no documents (as first recorded)."""
        return cls._create(cls.Registered, id=department_id(name), **replace(by, evidence=()).event_fields(), name=name)

    def set_overall_goals(self, fiscal_year: int, goals: list[str], by: Attribution) -> None:
        if not goals:
            raise InvalidInput("state at least one overall goal", field="goals")
        require_not_before(by.effective_on, preparation_opens(fiscal_year), f"the preparation of {fiscal_year} opened")
        self.record(self.OverallGoalsSet, by, fiscal_year=fiscal_year, goals=list(goals))

    def assess(self, fiscal_year: int, scores: dict[str, Decimal], by: Attribution) -> Decimal:
        unknown = set(scores) - set(ASSESSMENT_DIMENSIONS)
        missing = set(ASSESSMENT_DIMENSIONS) - set(scores)
        if unknown or missing:
            raise InvalidInput(f"scores must cover exactly {', '.join(ASSESSMENT_DIMENSIONS)}", field="scores")
        checked = {name: score(scores[name], f"scores.{name}") for name in ASSESSMENT_DIMENSIONS}
        require_not_before(by.effective_on, preparation_opens(fiscal_year), f"the preparation of {fiscal_year} opened")
        if str(fiscal_year) in self.assessments:
            raise RuleViolation(f"the {fiscal_year} assessment is already recorded", code="already-decided")
        total = (sum(checked.values(), Decimal(0)) / len(checked)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        self.record(self.ComprehensivelyAssessed, by, fiscal_year=fiscal_year, scores=checked, total=total)
        return total


class Unit(_Registered):
    """A budget unit (预算单位) of one department. Its staff act for its own projects only; its department's staff act
    for the projects of all its units (the application checks who acts, :mod:`ledger.application.roles`).

    Its own aggregate, not a part of its department's: what a unit does (its overall goals per year, their review and
    evaluation, to come) is its own history, recorded without contending with its department's or its siblings'
    commands, exported and proved alone; its id follows from its name as a department's does. It names its department
    by the id and the name the department was registered under, which is how a project's unit is checked against the
    project's department.
    """

    TOPIC_MODULE = "ledger.organisations"  # beside the departments' and agencies' topics

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        department: str  # as the department was registered
        department_id: UUID

    class Registered(LedgerAggregate.Created):
        """预算单位登记 under a registered department."""

        name: str
        department: str
        department_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.name = self.name
            unit.registered_on = self.effective_on
            unit.department = self.department
            unit.department_id = self.department_id

    @classmethod
    def register(cls, name: str, department: Department, by: Attribution) -> Unit:
        """Under ``department``, not before it was registered; ``name`` is stored exactly as given."""
        require_not_before(by.effective_on, department.registered_on, f"{department.name} was registered")
        return cls._create(
            cls.Registered,
            id=unit_id(name),
            **by.event_fields(),
            name=name,
            department=department.name,
            department_id=department.id,
        )

    def belongs_to(self, department: str) -> bool:
        """Whether this unit is one of ``department``'s (its name in any spelling)."""
        return key(self.department) == key(department)
