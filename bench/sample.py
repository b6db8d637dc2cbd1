"""The sample data the benchmarks write: a key-evaluation project of 义务教育学生营养改善计划 taken through its first
steps, then supervision notes; for logs of a million events, that project's stored events reused byte for byte
under fresh originator ids; and the bare-eventsourcing baseline's one-field aggregate.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from ledger.application.ledger import Act, Ledger, environment_for
from ledger.domain.values import Attribution, Indicator, Principal

FINANCE = Principal("fin-01", "finance", "市财政局")
EDUCATION = Principal("edu-01", "department", "教育局")
DEPARTMENT = "教育局"
EFFECTIVE_ON = date(2021, 6, 1)
CLOCK_NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SETUP_EVENTS = 6  # declared, admitted, goals submitted, goals reviewed, budget approved, evaluation commissioned
EVENTS_PER_ORIGINATOR = 20  # the sample project's events: 6 to commission an evaluation, then 14 supervision notes


def notes(i: int) -> str:
    """Supervision notes of a realistic length."""
    return (
        f"第{i}次督导：现场核查重点评价工作方案执行情况，抽查访谈记录、问卷与工作底稿，"
        "评价机构按计划推进，数据采集完整，未发现违规情形，要求按期提交评价报告初稿。"
    )


def goals() -> list[Indicator]:
    """义务教育学生营养改善计划: output 50 (cost included), effect 30, satisfaction 10 — ruleset 1's split."""

    def indicator(
        key: str, level1: str, level2: str, operator: str, target: int, weight: int, name: str, unit: str
    ) -> Indicator:
        return Indicator(
            key=key,
            level1=level1,
            level2=level2,
            name=name,
            operator=operator,
            target=Decimal(target),
            unit=unit,
            weight=Decimal(weight),
        )

    return [
        indicator("students", "output", "quantity", ">=", 5000, 30, "受益学生人数", "人"),
        indicator("days", "output", "timeliness", ">=", 200, 10, "供餐天数", "天"),
        indicator("cost", "cost", "economic", "<=", 5, 10, "生均每餐成本", "元"),
        indicator("health", "effect", "social", ">=", 92, 30, "学生体质健康达标率", "%"),
        indicator("parents", "satisfaction", "service_users", ">=", 90, 10, "家长满意度", "%"),
    ]


def overall_indicators() -> list[Indicator]:
    """教育局's overall goals: one indicator on each of the six dimensions, weights adding up to 100."""
    rows = [
        ("cost", "running_cost", "经济成本", "公用经费控制率", "<=", 100, "%", 20),
        ("efficiency", "management_efficiency", "预算管理", "预算执行率", ">=", 90, "%", 20),
        ("duty", "duty_performance", "重点工作", "义务教育巩固率", ">=", 99, "%", 20),
        ("social", "social_effect", "社会效益", "学生体质健康达标率", ">=", 92, "%", 20),
        ("sustain", "sustainability", "长效机制", "制度建设完成率", ">=", 95, "%", 10),
        ("satisfied", "satisfaction", "服务对象", "家长满意度", ">=", 90, "%", 10),
    ]
    return [
        Indicator(key, level1, level2, name, operator, Decimal(target), unit, Decimal(weight))
        for key, level1, level2, name, operator, target, unit, weight in rows
    ]


def prepare_ledger(ledger: Ledger) -> None:
    """A fresh ledger's tables, and the department the sample projects belong to."""
    ledger.bootstrap()
    ledger.register_department(Act(FINANCE, EFFECTIVE_ON, reason="基准测试"), DEPARTMENT)


@dataclass(frozen=True)
class BenchProject:
    id: UUID
    evaluation_id: str


def build_project(ledger: Ledger, code: str) -> BenchProject:
    """Declared, admitted, goals approved (优), budget approved, key evaluation commissioned to finance itself."""
    finance = Act(FINANCE, EFFECTIVE_ON, reason="基准测试")
    education = Act(EDUCATION, EFFECTIVE_ON, reason="基准测试")
    pid = ledger.declare_project(
        education,
        code=code,
        name="义务教育学生营养改善计划",
        kind="project",
        department=DEPARTMENT,
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    ).aggregate_id
    ledger.admit_project(finance, pid)
    ledger.submit_goals(education, pid, goals())
    ledger.review_goals(finance, pid, "优")
    ledger.approve_budget(finance, pid, "1000000.00")
    ledger.commission_key_evaluation(finance, pid, agency_name=None)
    (evaluation_id,) = ledger.project(pid).key_evaluations
    return BenchProject(pid, evaluation_id)


def add_batch(ledger: Ledger, project: BenchProject, size: int, first: int) -> None:
    """Load the project, trigger ``size`` supervision events, save them in one transaction."""
    aggregate = ledger.project(project.id)
    by = Attribution(FINANCE, EFFECTIVE_ON)
    for k in range(size):
        aggregate.supervise_key_evaluation(project.evaluation_id, notes(first + k), [], by)
    ledger.save(aggregate)


def build_projects(ledger: Ledger, prefix: str, count: int) -> list[BenchProject]:
    return [build_project(ledger, f"{prefix}-{n:03d}") for n in range(count)]


def fill_to(ledger: Ledger, project: BenchProject, version: int, batch: int) -> None:
    current = ledger.project(project.id).version
    while current < version:
        size = min(batch, version - current)
        add_batch(ledger, project, size, current)
        current += size


# ------------------------------------------------------------------ a million events


def sample_events(ledger: Ledger) -> list[StoredEvent]:
    """One project's first events, recorded through the ledger's commands: the shapes every row will take."""
    prepare_ledger(ledger)
    project = build_project(ledger, "BENCH-INTEGRITY")
    add_batch(ledger, project, EVENTS_PER_ORIGINATOR - SETUP_EVENTS, 0)
    events = list(ledger.recorder.select_events(project.id))
    if len(events) != EVENTS_PER_ORIGINATOR:
        raise RuntimeError(f"the sample project has {len(events)} events, expected {EVENTS_PER_ORIGINATOR}")
    return events


class EventSource:
    """Stored events shaped like the ledger's: the sample project's events byte for byte, under fresh ids.

    Originator ids come from a seeded generator, so two runs with the same seed append the same events.
    """

    def __init__(self, templates: Sequence[StoredEvent], seed: int) -> None:
        self.templates = list(templates)
        self.random = random.Random(seed)
        self._id = self._new_id()
        self._next = 0  # index into templates of the current originator's next event

    def _new_id(self) -> UUID:
        return UUID(int=self.random.getrandbits(128), version=4)

    def take(self, count: int) -> list[StoredEvent]:
        events = []
        for _ in range(count):
            if self._next == len(self.templates):
                self._id, self._next = self._new_id(), 0
            template = self.templates[self._next]
            self._next += 1
            events.append(
                StoredEvent(
                    originator_id=self._id,
                    originator_version=template.originator_version,
                    topic=template.topic,
                    state=template.state,
                )
            )
        return events


def rows_of(events: Sequence[StoredEvent]) -> list[tuple[UUID, int, str, bytes]]:
    """The rows of ``events`` for a raw INSERT: ``(originator_id, version, topic, state)``."""
    rows = []
    for stored in events:
        assert isinstance(stored.originator_id, UUID)
        rows.append((stored.originator_id, stored.originator_version, stored.topic, stored.state))
    return rows


# ------------------------------------------------------------------ bare eventsourcing baseline


class Counter(Aggregate):
    """The smallest useful aggregate: one field, one event."""

    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class BareApplication(Application[UUID]):
    """A plain eventsourcing application: library recorder, no snapshots, no integrity log."""

    name = "BareCounters"  # tables barecounters_events


def bare_application(url: str) -> BareApplication:
    """On the same database and with the same pool and cache as the ledger; its cache fast-forwards, as the library's
    does unless told otherwise (the ledger reads the log's tail instead)."""
    return BareApplication(env={**environment_for(url), "AGGREGATE_CACHE_FASTFORWARD": "y"})
